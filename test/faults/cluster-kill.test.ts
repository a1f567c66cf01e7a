// Fault on two nodes sharing a fresh PostgreSQL database and Redis, under a steady message load:
// - `kill -9` of one node: its clients move to the other node (their second origin), resume and
//   send again what was not acknowledged; the node restarted on its port serves at once (a new
//   client on it resumes the whole history and takes part in the live stream).
// It ends with every acknowledged message in the store exactly once and every client holding
// exactly the stored messages; it prints the counts and the time to recover.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pgSkipReason } from '../helpers/postgres.js';
import { freshRedis, redisSkip } from '../helpers/redis.js';
import { FaultClient } from './client.js';
import { loadOn, runCleanups, twoNodes } from './cluster.js';
import { report, waitUntil } from './load.js';

const skip = (await pgSkipReason()) ?? (await redisSkip());
after(runCleanups);

describe('faults: two nodes on PostgreSQL + Redis', { skip: skip || false }, () => {
  test('kill -9 of one of two nodes mid-load: its clients move to the other, nothing acknowledged lost, the restarted node serves at once', async () => {
    const [a, b] = await twoNodes('pgkill', freshRedis());
    const { load, api, tokens } = await loadOn(a, b);
    await waitUntil(() => load.acked() >= 150, '150 acks before the fault', 30_000);
    const onA = load.clients.filter((_, i) => i % 2 === 0);
    const onB = load.clients.filter((_, i) => i % 2 === 1);
    const ackedBefore = load.acked();
    const t0 = performance.now();
    await a.kill9();
    await waitUntil(() => onA.every((c) => c.helloAt > t0 && c.resumedAt >= c.helloAt), "A's clients back on B and resumed", 30_000);
    const moved = performance.now();
    const ackedMoved = load.acked();
    await waitUntil(() => load.acked() >= ackedMoved + 100, '100 more acks with A down', 30_000);
    const startMs = await a.restart();
    // A new client on the restarted node only: resumes the whole history from 0, then follows live.
    const late = new FaultClient({ origins: [a.origin], token: tokens[0] });
    await late.start();
    load.clients.push(late);
    const ackedRestart = load.acked();
    await waitUntil(() => load.acked() >= ackedRestart + 100, '100 more acks after the restart', 30_000);
    const s = await load.checkAll(api);
    console.log(
      report('postgres+redis, kill -9 of node A of 2', s, {
        'acked before kill': ackedBefore,
        "kill to A's clients resumed on B ms": Math.round(moved - t0),
        'A restart to listening ms': Math.round(startMs),
      }),
    );
    assert.ok(
      onA.every((c) => c.reconnects >= 1),
      "A's clients reconnected",
    );
    assert.ok(
      onB.every((c) => c.reconnects === 0),
      "B's clients never noticed",
    );
    assert.equal(s.unacked, 0);
    assert.equal(s.received, s.expected);
  });
});
