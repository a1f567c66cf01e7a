// Bulk fixtures for a run: accounts (with tokens), channels and memberships, made fast
// through the admin bulk endpoints (≤ 1000 per call). The first sign-up on a fresh server
// becomes the workspace owner; on a server that already has one, pass --admin LOGIN:PASSWORD,
// or the generator falls back to one sign-up per account (slower, and stated in the run).
import { type HttpClient, must } from './clients/http.js';

export interface Account {
  id: string;
  username: string;
  accessToken: string;
  refreshToken: string;
  /** Index of the node this account's clients talk to. */
  node: number;
}

interface AuthBody {
  user: { id: string; username: string; role?: string };
  accessToken: string;
  refreshToken: string;
}

export class Setup {
  owner!: Account;
  /** How accounts were made, for the run's notes. */
  mode: 'bulk' | 'signup' = 'bulk';
  private nextNode = 0;
  readonly password: string;
  readonly notes: string[] = [];
  /** Time spent per kind of setup call (ms), reported with each scenario's setup time. */
  readonly timings = { usersMs: 0, channelsMs: 0, users: 0, channels: 0 };

  constructor(
    readonly http: HttpClient,
    readonly nodes: string[],
    readonly tag: string,
  ) {
    this.password = `lt-${tag}-pw-Secret1`;
  }

  /** Signs up the run's owner (or signs in the given admin) and checks bulk creation is allowed. */
  async init(admin?: { login: string; password: string }): Promise<void> {
    let body: AuthBody;
    if (admin) {
      body = must(await this.http.request<AuthBody>('POST', '/api/auth/signin', { body: admin }), 'admin sign-in');
    } else {
      body = must(
        await this.http.request<AuthBody>('POST', '/api/auth/signup', {
          body: {
            username: `lt${this.tag}own`,
            email: `lt${this.tag}own@loadtest.invalid`,
            password: this.password,
            displayName: 'load test owner',
          },
        }),
        'owner sign-up',
      );
    }
    this.owner = {
      id: body.user.id,
      username: body.user.username,
      accessToken: body.accessToken,
      refreshToken: body.refreshToken,
      node: 0,
    };
    const role = body.user.role;
    if (role !== 'owner' && role !== 'admin') {
      this.mode = 'signup';
      this.notes.push(
        `setup: the run's account is "${role ?? 'unknown'}", not owner/admin (target not fresh, no --admin): accounts were made one sign-up at a time and channels joined by each member`,
      );
    }
  }

  /** A request as the owner; an expired access token is refreshed once and the request retried. */
  private async asOwner<T>(method: string, path: string, body: unknown) {
    let r = await this.http.request<T>(method, path, { token: this.owner.accessToken, body });
    if (r.status === 401 && r.error === 'TOKEN_EXPIRED' && (await refreshAccount(this.http, this.owner))) {
      r = await this.http.request<T>(method, path, { token: this.owner.accessToken, body });
    }
    return r;
  }

  private assignNode(): number {
    const n = this.nextNode;
    this.nextNode = (this.nextNode + 1) % this.nodes.length;
    return n;
  }

  /** Creates `count` accounts named lt<tag><prefix><i>; nodes are assigned round-robin. */
  async users(prefix: string, count: number): Promise<Account[]> {
    const out: Account[] = [];
    const spec = (i: number) => ({
      username: `lt${this.tag}${prefix}${i}`,
      email: `lt${this.tag}${prefix}${i}@loadtest.invalid`,
      password: this.password,
      displayName: `LT ${prefix}${i}`,
    });
    const t0 = performance.now();
    if (this.mode === 'bulk') {
      // Two bulk calls in flight: the server hashes passwords of one batch while it answers the other.
      const batches: number[] = [];
      for (let at = 0; at < count; at += 1000) batches.push(at);
      const results: Account[][] = new Array(batches.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(2, batches.length) }, async () => {
          while (next < batches.length) {
            const b = next++;
            const at = batches[b];
            const batch = Array.from({ length: Math.min(1000, count - at) }, (_, k) => spec(at + k));
            const r = must(
              await this.asOwner<{ users: AuthBody[] }>('POST', '/api/admin/users/bulk', { users: batch }),
              'bulk user creation',
            );
            results[b] = r.users.map((u) => ({
              id: u.user.id,
              username: u.user.username,
              accessToken: u.accessToken,
              refreshToken: u.refreshToken,
              node: 0,
            }));
          }
        }),
      );
      for (const a of results.flat()) {
        a.node = this.assignNode();
        out.push(a);
      }
      this.timings.usersMs += performance.now() - t0;
      this.timings.users += count;
      return out;
    }
    const results: Account[] = new Array(count);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < count) {
          const i = next++;
          const u = must(await this.http.request<AuthBody>('POST', '/api/auth/signup', { body: spec(i) }), 'sign-up');
          results[i] = {
            id: u.user.id,
            username: u.user.username,
            accessToken: u.accessToken,
            refreshToken: u.refreshToken,
            node: this.assignNode(),
          };
        }
      }),
    );
    this.timings.usersMs += performance.now() - t0;
    this.timings.users += count;
    return results;
  }

  /** A public channel named lt<tag>-<name> with the given members (the owner is a member too, never online). */
  async channel(name: string, members: Account[]): Promise<string> {
    const t0 = performance.now();
    try {
      return await this.channelInner(name, members);
    } finally {
      this.timings.channelsMs += performance.now() - t0;
      this.timings.channels++;
    }
  }

  private async channelInner(name: string, members: Account[]): Promise<string> {
    const ch = must(
      await this.asOwner<{ id: string }>('POST', '/api/channels', { name: `lt${this.tag}-${name}`, type: 'public' }),
      'channel creation',
    );
    if (this.mode === 'bulk') {
      for (let at = 0; at < members.length; at += 1000) {
        const ids = members.slice(at, at + 1000).map((m) => m.id);
        must(await this.asOwner('POST', `/api/channels/${ch.id}/members`, { userIds: ids }), 'adding channel members');
      }
    } else {
      for (const m of members)
        must(await this.http.request('POST', `/api/channels/${ch.id}/join`, { token: m.accessToken }), 'joining a channel');
    }
    return ch.id;
  }
}

/** Splits `items` into `n` contiguous slices of near-equal size (some may be empty when items < n). */
export function split<T>(items: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < n; i++) out.push(items.slice(Math.floor((i * items.length) / n), Math.floor(((i + 1) * items.length) / n)));
  return out;
}

/**
 * Rotates an account's tokens (POST /api/auth/refresh) after the server said its access token
 * expired (HTTP 401 TOKEN_EXPIRED, or WebSocket close 4001). Concurrent callers share one refresh,
 * since a reused refresh token would revoke the whole family.
 */
const refreshing = new WeakMap<Account, Promise<boolean>>();
export function refreshAccount(http: { request: HttpClient['request'] }, acc: Account): Promise<boolean> {
  let p = refreshing.get(acc);
  if (!p) {
    p = http
      .request<{ accessToken: string; refreshToken: string }>('POST', '/api/auth/refresh', { body: { refreshToken: acc.refreshToken } })
      .then((r) => {
        refreshing.delete(acc);
        if (!r.ok || !r.body?.accessToken) return false;
        acc.accessToken = r.body.accessToken;
        acc.refreshToken = r.body.refreshToken;
        return true;
      });
    refreshing.set(acc, p);
  }
  return p;
}
