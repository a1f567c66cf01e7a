// Two ɳChat nodes (child processes) on a fresh PostgreSQL database and a given Redis, with a steady
// load on them: half the users connect to A (B as their fallback), half to B (A as theirs).
// Shared by the fault tests on PostgreSQL + Redis (not a test file).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshPostgres } from '../helpers/postgres.js';
import type { Api } from '../helpers/server.js';
import { FaultClient } from './client.js';
import { ChatLoad, setupWorkspace } from './load.js';
import { type ChildNode, startChildNode } from './nodes.js';

const USERS = 8;
const CHANNELS = 2;
const INTERVAL_MS = 100;

/** Undone in reverse order by runCleanups() (the test file's `after`). */
export const cleanups: (() => Promise<unknown>)[] = [];
export async function runCleanups(): Promise<void> {
  for (const f of cleanups.splice(0).reverse()) await f().catch(() => undefined);
}

/**
 * Two nodes on one fresh database and the given Redis URL (or one URL per node: the same Redis
 * reached through different paths); node A starts first (migrations).
 */
export async function twoNodes(
  tag: string,
  redisUrl: string | [string, string],
  env: Record<string, string> = {},
): Promise<[ChildNode, ChildNode]> {
  const db = await freshPostgres();
  if (!db) throw new Error('PostgreSQL not reachable');
  cleanups.push(() => db.drop());
  const dir = await mkdtemp(join(tmpdir(), `nchat-fault-${tag}-`));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const spec = (name: string) => ({
    name,
    dataDir: join(dir, 'data'), // shared: on PostgreSQL the data dir holds only the files volume, which nodes share
    logDir: join(dir, 'logs'),
    databaseUrl: db.url,
    redisUrl: typeof redisUrl === 'string' ? redisUrl : redisUrl[name === 'a' ? 0 : 1],
    env: { NCHAT_DB_POOL_SIZE: '5', ...env },
  });
  const a = await startChildNode(spec('a'));
  cleanups.push(() => a.stop());
  const b = await startChildNode(spec('b'));
  cleanups.push(() => b.stop());
  return [a, b];
}

/** Half the users on A (B as their fallback), half on B (A as theirs). */
export async function loadOn(a: ChildNode, b: ChildNode): Promise<{ load: ChatLoad; api: Api; tokens: string[] }> {
  const ws = await setupWorkspace(a.origin, USERS, CHANNELS);
  const clients = ws.users.map(
    (u, i) => new FaultClient({ origins: i % 2 === 0 ? [a.origin, b.origin] : [b.origin, a.origin], token: u.token }),
  );
  await Promise.all(clients.map((c) => c.start()));
  const load = new ChatLoad(clients, ws.channelIds, INTERVAL_MS);
  cleanups.push(async () => load.stop());
  load.startSending();
  return { load, api: ws.api, tokens: ws.users.map((u) => u.token) };
}
