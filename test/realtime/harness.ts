// Real servers and real WebSocket clients for the realtime tests (not a test file itself).
//
// startNode() runs one ɳChat node on a real port through startServer() (src/server/main.ts), the
// same composition as `nchat serve`: SQLite file or PostgreSQL, memory or Redis broker. The tests
// reach the node's Realtime handle (stats, drain) and may shorten presence debounces.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { loadConfig, type Config } from '../../src/config.js';
import type { Broker } from '../../src/server/broker/broker.js';
import { startServer } from '../../src/server/main.js';
import type { Services } from '../../src/server/services/index.js';
import type { Realtime } from '../../src/server/realtime/index.js';
import type { Store } from '../../src/server/store/store.js';
import { Api, unique } from '../helpers/server.js';

export const SECRET = 'realtime-tests-secret-0123456789-abcdefghijklmnop';

export interface Node {
  url: string;
  port: number;
  config: Config;
  realtime: Realtime;
  services: Services;
  broker: Broker;
  store: Store;
  api: Api;
  stop(): Promise<void>;
}

export interface NodeOptions {
  databaseUrl?: string;
  dataDir?: string;
  redisUrl?: string;
  env?: Record<string, string>;
  presenceTiming?: { offlineGraceMs?: number; awayDebounceMs?: number; snapshotMs?: number };
}

export async function startNode(o: NodeOptions = {}): Promise<Node> {
  const ownDir = o.dataDir ? undefined : await mkdtemp(join(tmpdir(), 'nchat-rt-'));
  const config = loadConfig(
    {},
    {
      NCHAT_PORT: '0',
      NCHAT_HOST: '127.0.0.1',
      NCHAT_DATA_DIR: o.dataDir ?? ownDir!,
      NCHAT_LOG_LEVEL: process.env.NCHAT_TEST_LOG ?? 'silent',
      NCHAT_ARGON2_MEMORY_KIB: '1024',
      NCHAT_SIGNIN_LIMIT_IP: '100000',
      // Suites send and create freely; the limits' own tests set them (test/http/limits.test.ts).
      NCHAT_SEND_LIMIT: '100000',
      NCHAT_CHANNEL_CREATE_LIMIT: '100000',
      NCHAT_JWT_SECRET: SECRET,
      ...(o.databaseUrl ? { NCHAT_DATABASE_URL: o.databaseUrl, NCHAT_DB_POOL_SIZE: '5' } : {}),
      ...(o.redisUrl ? { NCHAT_REDIS_URL: o.redisUrl } : {}),
      ...o.env,
    },
  );
  const server = await startServer(config, { presenceTiming: o.presenceTiming });
  const { url, port, realtime, services, broker, store } = server;
  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    config,
    realtime,
    services,
    broker,
    store,
    api: new Api(url),
    stop: () =>
      (stopped ??= (async () => {
        await server.close();
        if (ownDir) await rm(ownDir, { recursive: true, force: true });
      })()),
  };
}

export interface User {
  id: string;
  username: string;
  token: string;
  api: Api;
}

/** Clients a suite opened, closed together in its `after` hook. */
export class Clients {
  private readonly all: Client[] = [];
  constructor(private readonly node: () => Node) {}
  async open(u: { token: string }): Promise<Client> {
    const c = await Client.open(this.node(), u.token);
    this.all.push(c);
    return c;
  }
  closeAll(): void {
    for (const c of this.all) c.close();
  }
}

/** Two fresh accounts, alice and bob, both members of one new public channel that alice created. */
export async function aliceAndBobInChannel(node: Node): Promise<{ alice: User; bob: User; ch: any }> {
  const alice = await signup(node, 'alice');
  const bob = await signup(node, 'bob');
  const ch = await ok(alice.api.post('/api/channels', { name: unique('c'), type: 'public' }), 201);
  await ok(bob.api.post(`/api/channels/${ch.id}/join`));
  return { alice, bob, ch };
}

export async function signup(node: Node, prefix = 'u'): Promise<User> {
  const username = unique(prefix);
  const r = await node.api.post('/api/auth/signup', { email: `${username}@example.test`, username, password: 'correct horse battery' });
  if (r.status !== 201) throw new Error(`signup failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { id: r.body.user.id, username, token: r.body.accessToken, api: node.api.as(r.body.accessToken) };
}

export async function ok<T = any>(p: Promise<{ status: number; body: T }>, status = 200): Promise<T> {
  const r = await p;
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** A WebSocket client that records every event and can wait for one. */
export class Client {
  readonly events: any[] = [];
  frames = 0;
  closed: { code: number; reason: string } | undefined;
  hello: any;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames++;
      const arr = JSON.parse(data.toString());
      if (!Array.isArray(arr)) throw new Error('frame is not an array');
      for (const e of arr) {
        if (e.type === 'hello') this.hello = e;
        this.events.push(e);
      }
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    ws.on('error', () => {});
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Connects and waits for hello. */
  static async open(
    node: { url: string },
    token: string,
    opts: { viaQuery?: boolean; headers?: Record<string, string> } = {},
  ): Promise<Client> {
    const base = node.url.replace(/^http/, 'ws') + '/ws';
    const ws = opts.viaQuery
      ? new WebSocket(`${base}?token=${encodeURIComponent(token)}`, { headers: opts.headers })
      : new WebSocket(base, ['nchat.v1', `bearer.${token}`], { headers: opts.headers });
    const c = new Client(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) =>
        reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })),
      );
      ws.once('error', reject);
    });
    await c.waitFor((e) => e.type === 'hello');
    return c;
  }

  send(obj: unknown): void {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  /** Resolves with the first recorded event matching pred (from `from` on). */
  async waitFor(pred: (e: any) => boolean, ms = 5000, from = 0): Promise<any> {
    const end = Date.now() + ms;
    for (;;) {
      for (let i = from; i < this.events.length; i++) if (pred(this.events[i])) return this.events[i];
      if (this.closed && pred === undefined) throw new Error('closed');
      const left = end - Date.now();
      if (left <= 0)
        throw new Error(
          `timed out waiting for event; got ${JSON.stringify(this.events.slice(-5))}${this.closed ? ` closed ${this.closed.code}` : ''}`,
        );
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async waitClosed(ms = 5000): Promise<{ code: number; reason: string }> {
    const end = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > end) throw new Error('socket did not close');
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.closed;
  }

  of(type: string, channelId?: string): any[] {
    return this.events.filter((e) => e.type === type && (channelId === undefined || e.channelId === channelId));
  }

  /** Distinct message seqs received for a channel (message.created, live or replayed). */
  seqs(channelId: string): Set<number> {
    return new Set(this.of('message.created', channelId).map((e) => e.seq));
  }

  close(): void {
    this.ws.close();
  }
}

/** Polls until pred holds (for state that is not an event, e.g. stats). */
export async function until(pred: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
