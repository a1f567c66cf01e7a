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
