// --spawn: starts ɳChat itself in child processes for the run and stops it after.
// sqlite: one node, fresh data dir. postgres: a fresh database on the local PostgreSQL,
// optionally Redis and N nodes (node 0 starts first so migrations run once, then the rest).
// Children get the load-test allowance and cheap password hashing; the run states both.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, createWriteStream, rmSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export interface SpawnOptions {
  store: 'sqlite' | 'postgres';
  redis: boolean;
  nodes: number;
  /** Admin URL of the PostgreSQL server (database part ignored; a fresh database is created). */
  postgresUrl: string;
  redisUrl: string;
  logDir: string;
  tag: string;
  log: (m: string) => void;
  /** Keep the fresh database / data dir after the run (for inspection). */
  keep?: boolean;
  /** Start on a copy of a seeded workspace (src/seed/cache.ts): SQLite file copied into node0's data dir, or PostgreSQL TEMPLATE. */
  seedFrom?: { sqliteFile?: string; postgresTemplate?: string };
}

export interface SpawnedCluster {
  origins: string[];
  pids: number[];
  databaseUrl?: string;
  redisUrl?: string;
  dataDir: string;
  /** Bearer token the children serve /metrics with (NCHAT_METRICS_TOKEN; random per run, kept out of `env` and the run's output). */
  metricsToken: string;
  /** Environment given to the children (stated in the run's output). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export const LOADTEST_ENV = { NCHAT_LOADTEST_ALLOWANCE: '1', NCHAT_ARGON2_MEMORY_KIB: '1024', NCHAT_ACCESS_TOKEN_TTL: '86400' } as const;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

function startNode(
  i: number,
  args: string[],
  env: NodeJS.ProcessEnv,
  logDir: string,
  log: (m: string) => void,
): Promise<{ child: ChildProcess; origin: string }> {
  const out = createWriteStream(join(logDir, `node${i}.log`));
  // NCHAT_LOADTEST_SERVER_NODE_ARGS: extra node flags for the spawned nodes (e.g. `--cpu-prof
  // --cpu-prof-dir=D`, which NODE_OPTIONS refuses; profiles are written when the run stops them).
  const extra = (process.env.NCHAT_LOADTEST_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...extra, join(ROOT, 'dist', 'cli.js'), 'serve', ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.pipe(out, { end: false });
  return new Promise((resolve, reject) => {
    let buf = '';
    let ready = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node${i} did not print "listening on" within 60 s (see ${join(logDir, `node${i}.log`)})`));
    }, 60_000);
    const onData = (d: Buffer) => {
      out.write(d);
      if (ready) return;
      buf += d.toString();
      const m = /listening on (https?:\/\/[\w.\-:[\]]+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        ready = true;
        buf = '';
        const origin = m[1].replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1').replace(/\/+$/, '');
        log(`spawned node${i} pid ${child.pid} at ${origin}`);
        resolve({ child, origin });
      }
    };
    child.stdout!.on('data', onData);
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`node${i} exited (${code ?? sig}) before it was ready; see ${join(logDir, `node${i}.log`)}`));
    });
  });
}

/**
 * Nodes run the compiled server (dist/, scripts/build-server.mjs), as `npm start` does: built
 * here first when missing or older than src/. A failed build fails the run.
 */
export function ensureServerBuild(log: (m: string) => void): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-server.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`compiling the server failed: ${(r.stderr || r.stdout || '').trim().slice(0, 2000)}`);
  if (r.stdout.trim()) log(r.stdout.trim());
}

export async function spawnCluster(o: SpawnOptions): Promise<SpawnedCluster> {
  mkdirSync(o.logDir, { recursive: true });
  ensureServerBuild(o.log);
  const dataDir = mkdtempSync(join(tmpdir(), `nchat-lt-${o.tag}-`));
  const env: Record<string, string> = {
    ...LOADTEST_ENV,
    NCHAT_LOG_LEVEL: process.env.NCHAT_LOG_LEVEL && process.env.NCHAT_LOG_LEVEL !== 'silent' ? process.env.NCHAT_LOG_LEVEL : 'info',
    // As `npm start` sets it (docs/OPERATIONS.md, "Memory"): glibc's per-thread malloc arenas
    // kept 20–40 MB of freed image and stream buffers in RSS under the upload load.
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX || '2',
  };
  let databaseUrl: string | undefined;
  let dbName: string | undefined;
  if (o.store === 'postgres') {
    dbName = `nchat_lt_${o.tag}`;
    const admin = new pg.Client({ connectionString: o.postgresUrl });
    await admin.connect();
    // The template's name comes from src/seed/cache.ts (integers and fixed text only).
    const template = o.seedFrom?.postgresTemplate;
    await admin.query(`CREATE DATABASE ${dbName}${template ? ` TEMPLATE ${template}` : ''}`);
    await admin.end();
    databaseUrl = withDatabase(o.postgresUrl, dbName);
    o.log(`created database ${dbName}`);
  }
  // /metrics is not public on the main port; the collector reads it with this token.
  const metricsToken = randomBytes(24).toString('base64url');
  const children: ChildProcess[] = [];
  const origins: string[] = [];
  const stop = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((res) => {
            if (c.exitCode !== null || c.signalCode !== null) return res();
            const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
            c.once('exit', () => {
              clearTimeout(t);
              res();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
    if (!o.keep) rmSync(dataDir, { recursive: true, force: true });
    if (dbName && !o.keep) {
      const admin = new pg.Client({ connectionString: o.postgresUrl });
      try {
        await admin.connect();
        await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      } catch (e) {
        o.log(`could not drop ${dbName}: ${(e as Error).message}`);
      }
      await admin.end().catch(() => undefined);
    }
  };
  try {
    const nodeCount = o.store === 'postgres' ? o.nodes : 1;
    const argsOf = (i: number) => {
      const args = ['--port', '0', '--host', '127.0.0.1', '--data-dir', join(dataDir, `node${i}`)];
      if (databaseUrl) args.push('--database-url', databaseUrl);
      // A pub/sub prefix of this run's own (read by the Redis broker) keeps it apart from anyone else on the shared Redis.
      if (o.redis) {
        const u = new URL(o.redisUrl);
        u.searchParams.set('prefix', `nchat-lt-${o.tag}:`);
        args.push('--redis-url', u.toString());
      }
      return args;
    };
    if (o.store === 'sqlite' && o.seedFrom?.sqliteFile) {
      mkdirSync(join(dataDir, 'node0'), { recursive: true, mode: 0o700 });
      copyFileSync(o.seedFrom.sqliteFile, join(dataDir, 'node0', 'nchat.db'));
    }
    // Node 0 first and alone: it creates the schema; the others then start together.
    const childEnv = { ...process.env, ...env, NCHAT_METRICS_TOKEN: metricsToken };
    const started = [await startNode(0, argsOf(0), childEnv, o.logDir, o.log)];
    children.push(started[0].child);
    const rest = await Promise.allSettled(
      Array.from({ length: nodeCount - 1 }, (_, k) => startNode(k + 1, argsOf(k + 1), childEnv, o.logDir, o.log)),
    );
    for (const r of rest)
      if (r.status === 'fulfilled') {
        children.push(r.value.child);
        started.push(r.value);
      }
    const failed = rest.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    for (const s of started) origins.push(s.origin);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    origins,
    pids: children.map((c) => c.pid!),
    databaseUrl,
    redisUrl: o.redis ? o.redisUrl : undefined,
    dataDir,
    metricsToken,
    env,
    stop,
  };
}
