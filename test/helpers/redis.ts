// Real Redis for tests. Two ways:
// - freshRedis(): the shared test Redis (redis://127.0.0.1:6379, env NCHAT_TEST_REDIS_URL) with a
//   unique pub/sub prefix per call (`?prefix=`, read by createRedisBroker; pub/sub ignores the db
//   index, so a prefix is what isolates concurrent test runs).
// - startRedisServer(): a private redis-server on a free port, for tests that stop and restart
//   Redis without disturbing anyone else.
// When Redis is unreachable the suite is skipped with a clear message, unless CI=true or
// NCHAT_REQUIRE_SERVICES=1: then it fails.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_REDIS_URL = process.env.NCHAT_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const required = process.env.CI === 'true' || process.env.NCHAT_REQUIRE_SERVICES === '1';

function reachable(url: string, timeoutMs = 1000): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379) });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('error', () => done(false));
    s.once('connect', () => {
      s.write('PING\r\n');
      s.once('data', (d) => done(d.toString().startsWith('+PONG')));
    });
  });
}

/**
 * `false` when Redis answers; otherwise a skip message (or throws when services are required).
 * Use as `describe('…', { skip: await redisSkip() }, …)`.
 */
export async function redisSkip(url = TEST_REDIS_URL): Promise<string | false> {
  if (await reachable(url)) return false;
  const msg = `Redis not reachable at ${url} (set NCHAT_TEST_REDIS_URL); skipping Redis tests`;
  if (required) throw new Error(msg + ' — but CI=true / NCHAT_REQUIRE_SERVICES=1 requires it');
  return msg;
}

/** A URL to the shared test Redis with a unique channel prefix for this test run. */
export function freshRedis(): string {
  const u = new URL(TEST_REDIS_URL);
  u.searchParams.set('prefix', `nchat-test-${process.pid}-${randomBytes(4).toString('hex')}:`);
  return u.toString();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** SIGKILL the server (no clean shutdown) and wait for the port to close. */
  kill(): Promise<void>;
  /** Start it again on the same port. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** `redis-server` on a free port in a temp dir; undefined + skip message when the binary is missing. */
export async function startRedisServer(): Promise<PrivateRedis | string> {
  const bin = spawnSync('redis-server', ['--version']);
  if (bin.error || bin.status !== 0) {
    const msg = 'redis-server binary not found; skipping tests that restart Redis';
    if (required) throw new Error(msg);
    return msg;
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'nchat-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const waitFor = async (up: boolean) => {
    for (let i = 0; i < 200; i++) {
      if ((await reachable(url, 200)) === up) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`private redis on ${port} did not come ${up ? 'up' : 'down'}`);
  };
  const start = async () => {
    child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: 'ignore',
    });
    await waitFor(true);
  };
  const kill = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
    await waitFor(false);
  };
  await start();
  return {
    url,
    port,
    kill,
    start,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
