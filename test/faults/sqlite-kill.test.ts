// Fault: `kill -9` of the only node (SQLite) under a steady message load, restarted on the same
// data dir and port. Clients reconnect with backoff and jitter, resume, send again what was not
// acknowledged; at the end every acknowledged message is in the store exactly once and every
// client holds exactly the stored messages. Prints the counts and the time to recover.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultClient } from './client.js';
import { ChatLoad, report, setupWorkspace, waitUntil } from './load.js';
import { type ChildNode, startChildNode } from './nodes.js';

const USERS = 8;
const CHANNELS = 2;
const INTERVAL_MS = 100; // per client: ~80 messages/s offered in all, each fanned out to 8 sockets

let dir: string;
let node: ChildNode | undefined;
let load: ChatLoad | undefined;
after(async () => {
  load?.stop();
  await node?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('kill -9 of the only node on SQLite mid-load: restarted on the same data dir, nothing acknowledged lost', async () => {
  dir = await mkdtemp(join(tmpdir(), 'nchat-fault-sqlite-'));
  node = await startChildNode({ name: 'sqlite', dataDir: join(dir, 'data'), logDir: join(dir, 'logs') });
  const ws = await setupWorkspace(node.origin, USERS, CHANNELS);
  const clients = ws.users.map((u) => new FaultClient({ origins: [node!.origin], token: u.token }));
  await Promise.all(clients.map((c) => c.start()));
  load = new ChatLoad(clients, ws.channelIds, INTERVAL_MS);
  load.startSending();
  await waitUntil(() => load!.acked() >= 150, '150 acks before the fault', 30_000);

  const ackedBefore = load.acked();
  const t0 = performance.now();
  await node.kill9();
  await new Promise((r) => setTimeout(r, 500)); // down for a moment; clients queue and retry meanwhile
  const startMs = await node.restart();
  const listening = performance.now();
  const back = await load.allBackAfter(t0, 30_000);
  const ackedAtBack = load.acked();
  await waitUntil(() => load!.acked() >= ackedAtBack + 150, '150 more acks after the restart', 30_000);
  const s = await load.checkAll(ws.api);

  console.log(
    report('sqlite kill -9', s, {
      'acked before kill': ackedBefore,
      'restart to listening ms': Math.round(startMs),
      'kill to every client resumed ms': Math.round(back - t0),
      'listening to every client resumed ms': Math.round(back - listening),
    }),
  );
  assert.ok(
    clients.every((c) => c.reconnects >= 1),
    'every client lost its socket and came back',
  );
  assert.equal(s.unacked, 0, 'every message sent was acknowledged in the end (resent after the restart)');
  assert.equal(s.received, s.expected);
});
