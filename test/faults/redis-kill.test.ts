// Fault: Redis (a private redis-server on a free port, never the shared one) killed with SIGKILL
// and restarted under a steady load on two nodes sharing a fresh PostgreSQL database. The nodes
// keep storing and acknowledging while it is down and repair what pub/sub dropped once it is back.
// Ends with every acknowledged message in the store exactly once and every client holding exactly
// the stored messages; prints the counts and the time to recover.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pgSkipReason } from '../helpers/postgres.js';
import { redisSkip, startRedisServer } from '../helpers/redis.js';
import { cleanups, loadOn, runCleanups, twoNodes } from './cluster.js';
import { report, waitUntil } from './load.js';

const skip = (await pgSkipReason()) ?? (await redisSkip());
after(runCleanups);

describe('faults: Redis under two nodes on PostgreSQL', { skip: skip || false }, () => {
  test('Redis killed and restarted mid-load with two nodes: sends go on, nothing acknowledged lost, pub/sub repaired', async (t) => {
    const redis = await startRedisServer();
    if (typeof redis === 'string') return t.skip(redis);
    cleanups.push(() => redis.stop());
    const [a, b] = await twoNodes('rediskill', redis.url);
    const { load, api } = await loadOn(a, b);
    await waitUntil(() => load.acked() >= 150, '150 acks before the fault', 30_000);
    const ackedBefore = load.acked();
    await redis.kill();
    const down = performance.now();
    await waitUntil(() => load.acked() >= ackedBefore + 100, '100 acks while Redis is down', 30_000);
    const ackedDown = load.acked() - ackedBefore;
    await redis.start();
    const up = performance.now();
    // Recovered: every client holds every message acked so far (live, or repaired by its node).
    const target = new Map(load.clients.flatMap((c) => [...c.acked.values()]).map((x) => [`${x.channelId}:${x.seq}`, x]));
    await waitUntil(
      () => load.clients.every((c) => [...target.values()].every((x) => c.got.get(x.channelId)?.has(x.seq))),
      'every client holds every message acked before Redis came back',
      30_000,
    );
    const recovered = performance.now();
    const ackedUp = load.acked();
    await waitUntil(() => load.acked() >= ackedUp + 100, '100 more acks after Redis is back', 30_000);
    const s = await load.checkAll(api);
    console.log(
      report('postgres+redis, Redis kill -9 and restart', s, {
        'acked before kill': ackedBefore,
        'acked while Redis down': ackedDown,
        'Redis down ms': Math.round(up - down),
        'Redis back to every earlier ack held by every client ms': Math.round(recovered - up),
      }),
    );
    assert.equal(s.unacked, 0);
    assert.equal(s.received, s.expected);
  });
});
