// Fault: PostgreSQL crashed (`pg_ctl stop -m immediate`: every backend killed, recovery from WAL at
// the next start) and started again 2 s later, under a steady load on one node. A private
// PostgreSQL (initdb in a temp dir, free port) stands in: the shared one on 5432 is never touched.
// While it is down, sends are refused with 503/UNAVAILABLE (REST, with Retry-After) and the
// UNAVAILABLE error event (WebSocket), never INTERNAL; /api/health answers 503 `unavailable` so a
// load balancer would skip the node; the clients try the sends again; the node itself stays up. Ends with every acknowledged message in the store exactly once
// and every client holding exactly the stored messages; prints the counts and the time to recover.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultClient } from './client.js';
import { ChatLoad, report, setupWorkspace, waitUntil } from './load.js';
import { type ChildNode, startChildNode } from './nodes.js';
import { type PrivatePostgres, startPrivatePostgres } from './private-postgres.js';

let dir: string;
let node: ChildNode | undefined;
let load: ChatLoad | undefined;
let pg: PrivatePostgres | string | undefined;
after(async () => {
  load?.stop();
  await node?.stop();
  if (pg && typeof pg !== 'string') pg.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('PostgreSQL crashed and restarted mid-load: sends refused meanwhile, retried, nothing acknowledged lost', async (t) => {
  pg = await startPrivatePostgres();
  if (typeof pg === 'string') return t.skip(pg);
  const db = pg;
  dir = await mkdtemp(join(tmpdir(), 'nchat-fault-pgrestart-'));
  node = await startChildNode({
    name: 'pgrestart',
    dataDir: join(dir, 'data'),
    logDir: join(dir, 'logs'),
    databaseUrl: db.url,
    env: { NCHAT_DB_POOL_SIZE: '5' },
  });
  const ws = await setupWorkspace(node.origin, 8, 2);
  const clients = ws.users.map((u) => new FaultClient({ origins: [node!.origin], token: u.token }));
  await Promise.all(clients.map((c) => c.start()));
  load = new ChatLoad(clients, ws.channelIds, 100);
  load.startSending();
  await waitUntil(() => load!.acked() >= 150, '150 acks before the fault', 30_000);
  const ackedBefore = load.acked();
  const errorsBefore = clients.reduce((n, c) => n + c.errors.length, 0);
  const t0 = performance.now();
  db.crash();
  await new Promise((r) => setTimeout(r, 2000));
  const ackedDown = load.acked() - ackedBefore;
  const healthDown = await ws.api.get('/api/health');
  const restDown = await ws.api.post(`/api/channels/${ws.channelIds[0]}/messages`, { text: 'while down', clientMsgId: 'rest-down' });
  db.start();
  const up = performance.now();
  while ((await fetch(`${node.origin}/api/health`)).status !== 200) {
    if (performance.now() - up > 30_000) throw new Error('health not 200 within 30 s of the restart');
    await new Promise((r) => setTimeout(r, 100));
  }
  const healthBack = performance.now();
  const ackedAtUp = load.acked();
  await waitUntil(() => load!.acked() > ackedAtUp, 'a send acknowledged after PostgreSQL is back', 30_000);
  const firstAck = performance.now();
  await waitUntil(() => load!.acked() >= ackedAtUp + 150, '150 more acks after the restart', 30_000);
  const refused = clients.flatMap((c) => c.errors).slice(errorsBefore);
  const codes = new Map<string, number>();
  for (const e of refused) codes.set(e.split(':')[0], (codes.get(e.split(':')[0]) ?? 0) + 1);
  const s = await load.checkAll(ws.api);
  console.log(
    report('postgres crash (immediate stop) and restart, 1 node', s, {
      'acked before': ackedBefore,
      'acked while down': ackedDown,
      'sends refused (by code)': [...codes].map(([k, v]) => `${k} ${v}`).join(' ') || 'none',
      'health while down': `${healthDown.status} ${healthDown.body?.status}`,
      'REST send while down': `${restDown.status} ${restDown.body?.error?.code} (Retry-After ${restDown.headers.get('retry-after')})`,
      'PostgreSQL down ms': Math.round(up - t0),
      'back to health 200 ms': Math.round(healthBack - up),
      'back to first ack ms': Math.round(firstAck - up),
    }),
  );
  assert.equal(healthDown.status, 503, 'health is 503 while the store is down');
  assert.equal(healthDown.body.status, 'unavailable');
  assert.equal(restDown.status, 503, 'a REST send while the store is down is 503, not 500');
  assert.equal(restDown.body.error.code, 'UNAVAILABLE');
  assert.ok(Number(restDown.headers.get('retry-after')) > 0, 'with Retry-After');
  assert.ok((codes.get('UNAVAILABLE') ?? 0) > 0, 'WebSocket sends were refused with UNAVAILABLE');
  assert.equal(codes.get('INTERNAL'), undefined, 'no WebSocket op answered INTERNAL');
  assert.equal(s.unacked, 0, 'every refused send went through once PostgreSQL was back');
  assert.equal(s.received, s.expected);
  assert.equal((await fetch(`${node.origin}/api/health`)).status, 200, 'the node is up');
});
