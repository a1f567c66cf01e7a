// Fault: a client that sends as fast as it can, against one node (SQLite, child process) with the
// production limits on (no load-test allowance). Its `send` frames beyond NCHAT_WS_FRAMES_PER_SEC
// are dropped with RATE_LIMITED, its messages beyond NCHAT_SEND_LIMIT are refused, and it is closed
// with 1008; meanwhile a well-behaved sender's messages are all acknowledged and reach a bystander
// without a reconnect, and a socket in no channel keeps answering pings (round trips printed).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloseCodes } from '../../src/protocol/events.js';
import { Client } from '../realtime/harness.js';
import { FaultClient } from './client.js';
import { setupWorkspace, waitUntil } from './load.js';
import { type ChildNode, startChildNode } from './nodes.js';
import { recordFault } from './record.js';

let dir: string;
let node: ChildNode | undefined;
const toStop: { stop?(): void; close?(): void }[] = [];
after(async () => {
  for (const s of toStop) s.stop ? s.stop() : s.close?.();
  await node?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const pct = (xs: number[], p: number) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] : Number.NaN;
const fmt = (xs: number[]) => `${pct(xs, 0.5).toFixed(1)}/${pct(xs, 0.95).toFixed(1)}/${Math.max(...xs).toFixed(1)} (${xs.length})`;

test('a client sending as fast as it can is limited and closed with 1008; the others keep going', async () => {
  dir = await mkdtemp(join(tmpdir(), 'nchat-fault-flood-'));
  node = await startChildNode({
    name: 'flood',
    dataDir: join(dir, 'data'),
    logDir: join(dir, 'logs'),
    env: { NCHAT_LOADTEST_ALLOWANCE: '0' },
  });
  const ws = await setupWorkspace(node.origin, 4, 1);
  const ch = ws.channelIds[0];
  const [flooderUser, senderUser, byUser, outsiderUser] = ws.users;
  assert.equal((await ws.api.as(outsiderUser.token).post(`/api/channels/${ch}/leave`)).status, 204, 'the pinger is in no channel');
  const sender = new FaultClient({ origins: [node.origin], token: senderUser.token });
  const bystander = new FaultClient({ origins: [node.origin], token: byUser.token });
  toStop.push(sender, bystander);
  await sender.start();
  await bystander.start();
  const pinger = await Client.open({ url: node.origin }, outsiderUser.token);
  toStop.push(pinger);
  const rtts: { at: number; ms: number }[] = [];
  pinger.ws.on('message', (d: Buffer) => {
    for (const e of JSON.parse(d.toString()))
      if (e.type === 'pong' && typeof e.t === 'number') rtts.push({ at: performance.now(), ms: performance.now() - e.t });
  });
  const ping = setInterval(() => pinger.send({ op: 'ping', t: performance.now() }), 50);
  let k = 0;
  const steady = setInterval(() => sender.pending.size < 3 && sender.send(ch, `ok${k}`, `steady ${k++}`), 400); // 2.5/s: under the send limit
  try {
    await new Promise((r) => setTimeout(r, 1500));
    const flooder = await Client.open({ url: node.origin }, flooderUser.token);
    toStop.push(flooder);
    const t0 = performance.now();
    let frames = 0;
    while (!flooder.closed && frames < 50_000) {
      for (let i = 0; i < 200 && flooder.ws.readyState === flooder.ws.OPEN; i++)
        flooder.send({ op: 'send', channelId: ch, text: `flood ${frames}`, clientMsgId: `f${frames++}` });
      await new Promise((r) => setImmediate(r));
    }
    const closed = await flooder.waitClosed(10_000);
    const closedMs = performance.now() - t0;
    assert.equal(closed.code, CloseCodes.POLICY_VIOLATION, `closed with 1008 (${closed.code})`);
    assert.ok(
      flooder.events.some((e) => e.type === 'error' && e.code === 'RATE_LIMITED'),
      'told RATE_LIMITED before the close',
    );
    await new Promise((r) => setTimeout(r, 1500));
    clearInterval(steady);
    await waitUntil(() => sender.pending.size === 0, "the steady sender's messages acknowledged", 15_000);
    const history = await ws.api.get(`/api/channels/${ch}/messages?limit=200`);
    const stored = history.body.messages as { authorId: string; seq: number }[];
    const fromFlooder = stored.filter((m) => m.authorId === flooderUser.id).length;
    const last = Math.max(...stored.map((m) => m.seq));
    await waitUntil(() => (bystander.contiguous.get(ch) ?? 0) >= last, 'the bystander holds every message', 15_000);
    assert.ok(fromFlooder <= 30, `at most NCHAT_SEND_LIMIT (30) of the flood stored (${fromFlooder})`);
    assert.ok(sender.acked.size > 0 && bystander.reconnects === 0 && sender.reconnects === 0, 'the others were never disconnected');
    const before = rtts.filter((r) => r.at < t0).map((r) => r.ms);
    const during = rtts.filter((r) => r.at >= t0 && r.at <= t0 + closedMs).map((r) => r.ms);
    recordFault('flooding client', {
      'send frames written': frames,
      'closed 1008 after ms': Math.round(closedMs),
      'of its messages stored': fromFlooder,
      'steady sender acked': sender.acked.size,
    });
    console.log(
      `[faults] flooding client: ${frames} send frames written, closed 1008 after ${Math.round(closedMs)} ms, ${fromFlooder} of its messages stored; ` +
        `steady sender ${sender.acked.size} acked, bystander got all (seq ${last}), no reconnect; ping RTT of a socket in no channel ` +
        `p50/p95/max ms before ${fmt(before)}, during the flood ${during.length ? fmt(during) : 'no pong during the flood'}`,
    );
  } finally {
    clearInterval(steady);
    clearInterval(ping);
  }
});
