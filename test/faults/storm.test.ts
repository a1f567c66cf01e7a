// Fault: a reconnect storm. N clients (NCHAT_FAULT_STORM_CLIENTS, 2,000 by default; up to 10,000
// fits the open-files limit here) connected to one node (SQLite) lose their sockets at once, as
// in a network blip, and come back with the reconnecting client's backoff and full jitter
// (first retry within 0–100 ms: nearly all at once), each resuming its channel on `hello`.
// Checks: the node stays up and answers /api/health throughout, every client is back and resumed,
// and a message sent afterwards reaches all N sockets. Prints how long until all were back, the
// failed attempts, and the slowest health answer during the storm.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultClient } from './client.js';
import { setupWorkspace, waitUntil } from './load.js';
import { type ChildNode, startChildNode } from './nodes.js';
import { recordFault } from './record.js';

const N = Number(process.env.NCHAT_FAULT_STORM_CLIENTS ?? 2000);
const USERS = 10; // N / USERS sockets per user: the per-user cap is raised to fit

let dir: string;
let node: ChildNode | undefined;
const clients: FaultClient[] = [];
after(async () => {
  for (const c of clients) c.stop();
  await node?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs fn over items with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (i < items.length) await fn(items[i++]);
    }),
  );
}

test(`reconnect storm: ${N} clients dropped at once come back, the node keeps serving`, async () => {
  assert.ok(Number.isInteger(N) && N >= USERS && N <= 10_000, 'NCHAT_FAULT_STORM_CLIENTS: 10..10000');
  dir = await mkdtemp(join(tmpdir(), 'nchat-fault-storm-'));
  node = await startChildNode({
    name: 'storm',
    dataDir: join(dir, 'data'),
    logDir: join(dir, 'logs'),
    env: { NCHAT_WS_MAX_SOCKETS_PER_USER: String(Math.ceil(N / USERS)) },
  });
  const ws = await setupWorkspace(node.origin, USERS, 1);
  const ch = ws.channelIds[0];
  for (let i = 0; i < N; i++) clients.push(new FaultClient({ origins: [node.origin], token: ws.users[i % USERS].token }));
  const tConnect = performance.now();
  await pool(clients, 100, (c) => c.start());
  const connectMs = performance.now() - tConnect;
  await waitUntil(() => clients.every((c) => c.connected), 'every client connected', 60_000);
  // Some history to resume after the storm.
  for (let i = 0; i < 5; i++) assert.equal((await ws.api.post(`/api/channels/${ch}/messages`, { text: `before ${i}` })).status, 201);

  let healthMax = 0;
  let healthBad = 0;
  let probing = true;
  const prober = (async () => {
    while (probing) {
      const t = performance.now();
      const r = await fetch(`${node!.origin}/api/health`).catch(() => undefined);
      if (r?.status !== 200) healthBad++;
      await r?.arrayBuffer();
      healthMax = Math.max(healthMax, performance.now() - t);
      await new Promise((res) => setTimeout(res, 100));
    }
  })();
  const failuresBefore = clients.reduce((n, c) => n + c.connectFailures, 0);
  for (const c of clients) c.failureKinds.clear();
  const t0 = performance.now();
  for (const c of clients) c.dropNow();
  const back = await (async () => {
    await waitUntil(() => clients.every((c) => c.helloAt > t0 && c.resumedAt >= c.helloAt), 'every client back and resumed', 50_000);
    return Math.max(...clients.map((c) => c.resumedAt));
  })();
  probing = false;
  await prober;
  const failed = clients.reduce((n, c) => n + c.connectFailures, 0) - failuresBefore;
  const kinds = new Map<string, number>();
  for (const c of clients) for (const [k, v] of c.failureKinds) kinds.set(k, (kinds.get(k) ?? 0) + v);

  const r = await ws.api.post(`/api/channels/${ch}/messages`, { text: 'after the storm' });
  assert.equal(r.status, 201);
  await waitUntil(() => clients.every((c) => c.got.get(ch)?.has(r.body.seq)), 'the message after the storm at every socket', 30_000);
  assert.ok(
    clients.every((c) => (c.contiguous.get(ch) ?? 0) === r.body.seq),
    'every socket holds the whole history',
  );
  recordFault(`reconnect storm, ${N} sockets`, {
    'first connect of all ms': Math.round(connectMs),
    'dropped at once, all back and resumed ms': Math.round(back - t0),
    'failed attempts during the storm (retried)': failed,
    'slowest health answer ms': Math.round(healthMax),
    'health answers not 200': healthBad,
  });
  console.log(
    `[faults] reconnect storm: ${N} sockets (${USERS} users), first connect of all ${Math.round(connectMs)} ms; dropped at once, ` +
      `all back and resumed after ${Math.round(back - t0)} ms; failed attempts during the storm ${failed} (${[...kinds].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}; each retried with backoff); ` +
      `health: slowest ${Math.round(healthMax)} ms, non-200 ${healthBad}`,
  );
  assert.equal(healthBad, 0, 'the node answered /api/health throughout');
});
