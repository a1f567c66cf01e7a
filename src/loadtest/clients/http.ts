// HTTP client for the generator: one undici Pool per origin, JSON in and out, timed with
// performance.now(). A response is "ok" only for a 2xx; callers record latency for ok
// responses only, so a failed request never becomes a latency sample.
import { Pool } from 'undici';
import type { Message, RefreshBody, SendMessageBody, SessionReply, SigninBody, SignupBody, TokensReply } from '../../protocol/index.js';

export interface HttpResult<T = unknown> {
  ok: boolean;
  status: number;
  /** Parsed JSON body (undefined when empty or not JSON). */
  body: T;
  ms: number;
  /** Error code from the `{error:{code}}` body, or a network error name. */
  error?: string;
}

export class HttpClient {
  readonly pool: Pool;
  constructor(
    readonly origin: string,
    connections = 16,
  ) {
    this.pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
  }

  /**
   * `parse: false`: a 2xx body is still read to its last byte (the latency ends there) but not
   * parsed, and `body` is undefined; a non-2xx body is parsed for its error code as always. For
   * load loops that only count and time replies: parsing every 22 KB history page was ~23% of a
   * generator worker's busy time in the API scenario (profile, 2026-12-02), CPU taken from the
   * server on the same 2 cores.
   */
  async request<T = unknown>(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; parse?: boolean } = {},
  ): Promise<HttpResult<T>> {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let payload: string | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(opts.body);
    }
    const t0 = performance.now();
    try {
      const res = await this.pool.request({ method: method as 'GET', path, headers, body: payload });
      const text = await res.body.text();
      const ms = performance.now() - t0;
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      let body: unknown;
      if (text && (opts.parse !== false || !ok)) {
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
      }
      const code = !ok ? ((body as { error?: { code?: string } } | undefined)?.error?.code ?? `HTTP_${res.statusCode}`) : undefined;
      return { ok, status: res.statusCode, body: body as T, ms, error: code };
    } catch (e) {
      return {
        ok: false,
        status: 0,
        body: undefined as T,
        ms: performance.now() - t0,
        error: (e as { code?: string }).code ?? (e as Error).name ?? 'NETWORK',
      };
    }
  }

  // Typed calls for the bodies the load tests build: the body and reply types are the protocol's,
  // so a change to a wire shape fails the type check here and at every caller.

  signup(body: SignupBody): Promise<HttpResult<SessionReply>> {
    return this.request<SessionReply>('POST', '/api/auth/signup', { body });
  }

  signin(body: SigninBody): Promise<HttpResult<SessionReply>> {
    return this.request<SessionReply>('POST', '/api/auth/signin', { body });
  }

  refresh(body: RefreshBody): Promise<HttpResult<TokensReply>> {
    return this.request<TokensReply>('POST', '/api/auth/refresh', { body });
  }

  /** 201 with the message, or 200 with the original for a repeated clientMsgId. */
  sendMessage(token: string, channelId: string, body: SendMessageBody): Promise<HttpResult<Message>> {
    return this.request<Message>('POST', `/api/channels/${encodeURIComponent(channelId)}/messages`, { token, body });
  }

  /** Graceful: waits for requests in flight. */
  close(): Promise<void> {
    return this.pool.close().catch(() => undefined);
  }

  /** Ends now: requests still queued or in flight fail (their callers count them as errors). */
  destroy(): Promise<void> {
    return this.pool.destroy().catch(() => undefined);
  }
}

/** Throws with the status and error code when a setup call fails (setup failures abort the run). */
export function must<T>(r: HttpResult<T>, what: string): T {
  if (!r.ok) throw new Error(`${what} failed: HTTP ${r.status} ${r.error ?? ''} ${JSON.stringify(r.body ?? '').slice(0, 300)}`);
  return r.body;
}
