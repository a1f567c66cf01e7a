// A real ɳChat server for HTTP tests: real listen() on port 0, a real SQLite file in a temp dir
// or a fresh PostgreSQL database, requests over real sockets with fetch.
//
//   forEachBackend('channels', (ctx) => { it('...', async () => { const api = ctx.server(); ... }) });
//
// forEachBackend registers one describe per backend; the PostgreSQL one is skipped with a clear
// message when PostgreSQL is unreachable (and fails instead under CI=true).
import { after, before, describe } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server/main.js';
import { freshPostgres, pgSkipReason } from './postgres.js';
import { freePort } from './redis.js';

export type Backend = 'sqlite' | 'postgres';

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export class Api {
  constructor(
    readonly url: string,
    readonly token?: string,
  ) {}

  as(token: string): Api {
    return new Api(this.url, token);
  }

  async req<T = any>(
    method: string,
    path: string,
    body?: unknown,
    opts: { raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let payload: string | undefined = opts.raw;
    if (body !== undefined) payload = JSON.stringify(body);
    if (payload !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    const res = await fetch(this.url + path, { method, headers, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* non-JSON (metrics) */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get<T = any>(path: string) {
    return this.req<T>('GET', path);
  }
  post<T = any>(path: string, body?: unknown) {
    return this.req<T>('POST', path, body ?? {});
  }
  patch<T = any>(path: string, body: unknown) {
    return this.req<T>('PATCH', path, body);
  }
  put<T = any>(path: string) {
    return this.req<T>('PUT', path);
  }
  del<T = any>(path: string) {
    return this.req<T>('DELETE', path);
  }
}

export interface TestUser {
  id: string;
  username: string;
  token: string;
  refreshToken: string;
  api: Api;
}

export interface TestServer {
  backend: Backend;
  running: RunningServer;
  api: Api;
  /** The workspace owner: the first account, signed up when the server started. */
  owner: TestUser;
  /** Signs up a fresh user with a unique name (the first of a server becomes owner). */
  user(prefix?: string): Promise<TestUser>;
}

let counter = 0;
export const unique = (prefix: string) => `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`.slice(0, 32);

/** Starts a server; `env` overrides config values by their NCHAT_* names. */
export async function startTestServer(backend: Backend, env: Record<string, string> = {}): Promise<TestServer & { stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'nchat-test-'));
  const pgdb = backend === 'postgres' ? await freshPostgres() : undefined;
  if (backend === 'postgres' && !pgdb) throw new Error('PostgreSQL not reachable');
  const config: Config = loadConfig(
    {},
    {
      NCHAT_PORT: '0',
      NCHAT_HOST: '127.0.0.1',
      NCHAT_DATA_DIR: dir,
      NCHAT_LOG_LEVEL: process.env.NCHAT_LOG_LEVEL ?? 'silent',
      NCHAT_ARGON2_MEMORY_KIB: '1024',
      NCHAT_SIGNIN_LIMIT_IP: '100000',
      // Suites send and create freely; the limits' own tests set them (test/http/limits.test.ts).
      NCHAT_SEND_LIMIT: '100000',
      NCHAT_CHANNEL_CREATE_LIMIT: '100000',
      ...(pgdb ? { NCHAT_DATABASE_URL: pgdb.url, NCHAT_DB_POOL_SIZE: '5' } : {}),
      ...env,
    },
  );
  let running: RunningServer;
  try {
    running = await startServer(config);
  } catch (err) {
    await pgdb?.drop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const api = new Api(running.url);
  const user = async (prefix = 'u'): Promise<TestUser> => {
    const username = unique(prefix);
    const r = await api.post('/api/auth/signup', { email: `${username}@example.test`, username, password: 'correct horse battery' });
    if (r.status !== 201) throw new Error(`signup failed: ${r.status} ${JSON.stringify(r.body)}`);
    return { id: r.body.user.id, username, token: r.body.accessToken, refreshToken: r.body.refreshToken, api: api.as(r.body.accessToken) };
  };
  const owner = await user('owner');
  return {
    backend,
    running,
    api,
    owner,
    user,
    async stop() {
      await running.close();
      await pgdb?.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A test server with its separate /metrics listener on a free port. freePort() only finds a
 * port that was free a moment ago; another process may bind it before the server does, so an
 * EADDRINUSE is retried on a new port (a handful of times, then thrown).
 */
export async function startTestServerWithMetrics(
  backend: Backend,
  env: Record<string, string> = {},
): Promise<{ srv: TestServer & { stop(): Promise<void> }; metricsPort: number }> {
  for (let attempt = 1; ; attempt++) {
    const metricsPort = await freePort();
    try {
      return { srv: await startTestServer(backend, { ...env, NCHAT_METRICS_PORT: String(metricsPort) }), metricsPort };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw err;
    }
  }
}

/**
 * Registers `describe(`${name} [backend]`)` for SQLite and PostgreSQL with one server per
 * backend shared by the suite. Tests use unique names, so they do not collide.
 */
export async function forEachBackend(
  name: string,
  body: (ctx: { server(): TestServer }) => void,
  env: Record<string, string> = {},
): Promise<void> {
  for (const backend of ['sqlite', 'postgres'] as const) {
    const skip = backend === 'postgres' ? await pgSkipReason() : undefined;
    describe(`${name} [${backend}]`, { skip }, () => {
      let srv: (TestServer & { stop(): Promise<void> }) | undefined;
      before(async () => {
        srv = await startTestServer(backend, env);
      });
      after(async () => {
        await srv?.stop();
      });
      body({
        server() {
          if (!srv) throw new Error('server not started');
          return srv;
        },
      });
    });
  }
}
