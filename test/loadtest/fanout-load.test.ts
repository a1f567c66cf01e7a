// bench:fanout's generator (bench/fanout-load.ts) against the bare ws baseline server, a real
// process: every sent message ends acked or unanswered (never silently neither), deliveries
// are expected for both, and latency/lag samples exist for what was sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Load, type Target } from '../../bench/fanout-load.js';

const root = new URL('../..', import.meta.url).pathname;

test('bench:fanout generator: every outcome counted (acked, unanswered), lost deliveries of unanswered messages included', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bare-ws-server.ts'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /listening on http:\/\/(\S+)/.exec(out);
        if (m) resolve(`ws://${m[1]}`);
      });
      child.once('exit', (code) => reject(new Error(`bare server exited ${code}`)));
    });
    const users = 20;
    const size = 5;
    const target = (channelIds: string[]): Target => ({
      name: 'bare',
      users,
      channelIds,
      channelOf: (i) => Math.floor(i / size),
      membersOf: (c) => Array.from({ length: size }, (_, k) => c * size + k),
      url: (i) => `${url}/?u=${i}&c=c${Math.floor(i / size)}`,
      protocols: () => undefined,
    });
    const ok = new Load(target(['c0', 'c1', 'c2', 'c3']));
    assert.equal((await ok.connectAll(10)).failed, 0);
    const r = await ok.run(100, 1, 2000);
    ok.closeAll();
    assert.equal(r.slots, 100);
    assert.equal(r.sent + r.skipped, r.slots);
    assert.equal(r.acked, r.sent);
    assert.equal(r.unanswered + r.refused, 0);
    assert.equal(r.expected, r.sent * size);
    assert.equal(r.received, r.expected);
    assert.equal(r.lost, 0);
    assert.equal(r.lag.count, r.sent, 'one schedule-lag sample per sent message');
    assert.ok(r.p50 >= r.fromSend.p50 - 0.01, 'from the intended time is never shorter than from the actual send');
    // Sends naming a channel the sender is not in: the bare server answers nothing. They are
    // unanswered, and their deliveries count as lost (they were not dropped from the books).
    const bad = new Load(target(['x0', 'x1', 'x2', 'x3']));
    await bad.connectAll(10);
    const b = await bad.run(50, 1, 300);
    bad.closeAll();
    assert.equal(b.sent, 50);
    assert.equal(b.acked, 0);
    assert.equal(b.unanswered, 50);
    assert.equal(b.expected, 50 * size);
    assert.equal(b.received, 0);
    assert.equal(b.lost, 50 * size);
    assert.equal(b.lostOfUnanswered, 50 * size);
  } finally {
    child.kill();
  }
});

test('bench:fanout generator: a message received twice by one client counts once (a repair repeats messages)', async () => {
  // A server that answers each send with an ack and the message twice, to the sender alone
  // (channels of one). Repeats must not count as deliveries: the drain ends when the count
  // reaches the expected total, so counting them ended it early and reported the last
  // messages of a run with repairs as lost.
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) => {
    ws.send(JSON.stringify([{ type: 'hello' }]));
    ws.on('message', (data) => {
      const op = JSON.parse(data.toString());
      const created = { type: 'message.created', channelId: op.channelId, message: { clientMsgId: op.clientMsgId } };
      ws.send(JSON.stringify([{ type: 'ack', clientMsgId: op.clientMsgId }, created]));
      ws.send(JSON.stringify([created]));
    });
  });
  try {
    const port = (wss.address() as { port: number }).port;
    const users = 4;
    const load = new Load({
      name: 'repeats',
      users,
      channelIds: ['c0', 'c1', 'c2', 'c3'],
      channelOf: (i) => i,
      membersOf: (c) => [c],
      url: () => `ws://127.0.0.1:${port}/`,
      protocols: () => undefined,
    });
    assert.equal((await load.connectAll(4)).failed, 0);
    const r = await load.run(40, 1, 2000);
    load.closeAll();
    assert.equal(r.acked, r.sent);
    assert.equal(r.expected, r.sent);
    assert.equal(r.received, r.expected);
    assert.equal(r.deliveries, r.sent, 'each message counted once');
    assert.equal(r.repeats, r.sent, 'the second copy of each is a repeat');
    assert.equal(r.lost, 0);
  } finally {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  }
});
