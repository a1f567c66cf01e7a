// REST client for the public contract (docs/API.md). Shapes come from src/protocol (types only,
// erased at build). Tokens: the refresh token persists in localStorage so a reload stays signed
// in; the access token is refreshed in the background a minute before it expires, and once more
// on a 401 TOKEN_EXPIRED. Refresh tokens rotate and a reused one revokes the family, so only one
// refresh runs at a time (`refreshing`), and another tab's rotation is picked up from storage.
import type { ErrorCode, SessionReply, TokensReply, User } from '../../src/protocol/index.js';

const KEY = 'nchat.session';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'NETWORK',
    message: string,
  ) {
    super(message);
  }
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  userId: string;
}

type Listener = (s: Session | null) => void;
export type RefreshResult = 'ok' | 'revoked' | 'failed';

/** Seconds until a JWT's `exp` (negative when past); Infinity when it has none or cannot be read. */
export function tokenSecondsLeft(token: string, nowMs = Date.now()): number {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number };
    return typeof payload.exp === 'number' ? payload.exp - nowMs / 1000 : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

export class Api {
  private session: Session | null = null;
  private refreshing: Promise<RefreshResult> | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private listeners = new Set<Listener>();

  constructor(private readonly base = '') {
    try {
      const raw = localStorage.getItem(KEY);
      if (raw) this.session = JSON.parse(raw) as Session;
    } catch {
      this.session = null;
    }
    this.schedule();
  }

  get current(): Session | null {
    return this.session;
  }

  onSession(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private set(s: Session | null): void {
    this.session = s;
    if (s) localStorage.setItem(KEY, JSON.stringify(s));
    else localStorage.removeItem(KEY);
    this.schedule();
    for (const l of this.listeners) l(s);
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (!this.session) return;
    const left = tokenSecondsLeft(this.session.accessToken);
    if (!Number.isFinite(left)) return;
    // A minute early; tokens with under two minutes left at half their remaining life; never sooner than 1 s.
    const inMs = Math.max(1000, left > 120 ? (left - 60) * 1000 : (left * 1000) / 2);
    this.timer = setTimeout(() => void this.refresh(), inMs);
  }

  async signup(body: { email: string; username: string; password: string; displayName?: string }): Promise<User> {
    const r = await this.request<SessionReply>('POST', '/api/auth/signup', body, false);
    this.set({ accessToken: r.accessToken, refreshToken: r.refreshToken, userId: r.user.id });
    return r.user;
  }

  async signin(login: string, password: string): Promise<User> {
    const r = await this.request<SessionReply>('POST', '/api/auth/signin', { login, password }, false);
    this.set({ accessToken: r.accessToken, refreshToken: r.refreshToken, userId: r.user.id });
    return r.user;
  }

  async signout(): Promise<void> {
    const s = this.session;
    this.set(null);
    if (s) await this.request('POST', '/api/auth/signout', { refreshToken: s.refreshToken }, false).catch(() => undefined);
  }

  /** Drops the session locally (revoked elsewhere: close code 4003, refresh refused). */
  forget(): void {
    this.set(null);
  }

  /** Rotates the tokens: 'revoked' (and signed out) when the refresh token is refused, 'failed' when the server cannot be reached. */
  refresh(): Promise<RefreshResult> {
    if (this.refreshing) return this.refreshing;
    const s = this.session;
    if (!s) return Promise.resolve('revoked');
    this.refreshing = (async () => {
      try {
        // Another tab may have rotated already: its tokens are in storage.
        const stored = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Session | null;
        if (stored && stored.refreshToken !== s.refreshToken && tokenSecondsLeft(stored.accessToken) > 60) {
          this.set(stored);
          return 'ok';
        }
        const r = await this.request<TokensReply>('POST', '/api/auth/refresh', { refreshToken: s.refreshToken }, false);
        this.set({ ...s, accessToken: r.accessToken, refreshToken: r.refreshToken });
        return 'ok';
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) {
          this.set(null);
          return 'revoked';
        }
        this.timer = setTimeout(() => void this.refresh(), 5000);
        return 'failed';
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown, auth = true): Promise<T> {
    const go = async (): Promise<Response> => {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (auth && this.session) headers.authorization = `Bearer ${this.session.accessToken}`;
      try {
        return await fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      } catch {
        throw new ApiError(0, 'NETWORK', 'the server cannot be reached');
      }
    };
    let res = await go();
    if (res.status === 401 && auth && this.session) {
      if ((await this.refresh()) === 'ok') res = await go();
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = text; // a text reply (a report's Markdown)
    }
    if (!res.ok) {
      const err = (data as { error?: { code?: ErrorCode; message?: string } } | undefined)?.error;
      throw new ApiError(res.status, err?.code ?? 'INTERNAL', err?.message ?? `HTTP ${res.status}`);
    }
    return data as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }
  put<T>(path: string): Promise<T> {
    return this.request<T>('PUT', path);
  }
  del<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }
}
