// Fault: one node cut from Redis while the other keeps going, under a steady load on two nodes
// sharing a fresh PostgreSQL database and a private redis-server. Node A reaches Redis through a
// TCP relay in this process; the cut destroys the relay's connections and refuses new ones for
// 3 s, as a network partition between A and Redis would. B's clients keep sending and receiving
// meanwhile; once A is back on Redis it repairs what pub/sub dropped. Ends with every acknowledged
// message in the store exactly once and every client holding exactly the stored messages.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { pgSkipReason } from '../helpers/postgres.js';
import { redisSkip, startRedisServer } from '../helpers/redis.js';
import { cleanups, loadOn, runCleanups, twoNodes } from './cluster.js';
import { report, waitUntil } from './load.js';

const skip = (await pgSkipReason()) ?? (await redisSkip());
after(runCleanups);

/** A TCP relay to `port` that can be cut (connections destroyed, new ones refused) and healed. */
async function relay(port: number): Promise<{ url: string; cut(): void; heal(): void; close(): Promise<void> }> {
  let open = true;
  const live = new Set<Socket>();
  const srv = createServer((down) => {
    if (!open) return down.destroy();
    const up = connect({ host: '127.0.0.1', port });
    for (const s of [down, up]) {
      live.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        live.delete(s);
        down.destroy();
        up.destroy();
      });
    }
    down.pipe(up);
    up.pipe(down);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port: own } = srv.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${own}`,
    cut: () => {
      open = false;
      for (const s of live) s.destroy();
    },
    heal: () => {
      open = true;
    },
    close: () =>
      new Promise((r) => {
        for (const s of live) s.destroy();
        srv.close(() => r());
      }),
  };
}

describe('faults: one node cut from Redis', { skip: skip || false }, () => {
  test('node A cut from Redis for 3 s mid-load: B keeps going, A repairs after, nothing acknowledged lost', async (t) => {
    const redis = await startRedisServer();
    if (typeof redis === 'string') return t.skip(redis);
    cleanups.push(() => redis.stop());
    const link = await relay(redis.port);
    cleanups.push(() => link.close());
    const [a, b] = await twoNodes('rediscut', [link.url, redis.url]);
    const { load, api } = await loadOn(a, b);
    await waitUntil(() => load.acked() >= 150, '150 acks before the fault', 30_000);
    const onB = load.clients.filter((_, i) => i % 2 === 1);
    const ackedBefore = load.acked();
    const bHeldBefore = onB.map((c) => [...c.got.values()].reduce((n, m) => n + m.size, 0));
    link.cut();
    const cutAt = performance.now();
    await new Promise((r) => setTimeout(r, 3000));
    const ackedCut = load.acked() - ackedBefore;
    const bGot = onB.map((c, i) => [...c.got.values()].reduce((n, m) => n + m.size, 0) - bHeldBefore[i]);
    link.heal();
    const healed = performance.now();
    const target = load.clients.flatMap((c) => [...c.acked.values()]);
    await waitUntil(
      () => load.clients.every((c) => target.every((x) => c.got.get(x.channelId)?.has(x.seq))),
      'every client holds every message acked before the link came back',
      30_000,
    );
    const recovered = performance.now();
    const ackedUp = load.acked();
    await waitUntil(() => load.acked() >= ackedUp + 100, '100 more acks after the link is back', 30_000);
    const s = await load.checkAll(api);
    console.log(
      report('postgres+redis, node A cut from Redis', s, {
        'acked during the 3 s cut': ackedCut,
        "messages B's clients received during the cut (min)": Math.min(...bGot),
        'cut ms': Math.round(healed - cutAt),
        'link back to every earlier ack held by every client ms': Math.round(recovered - healed),
      }),
    );
    assert.ok(ackedCut > 0, 'sends were acknowledged during the cut');
    assert.ok(Math.min(...bGot) > 0, "B's clients kept receiving during the cut");
    assert.equal(s.unacked, 0);
    assert.equal(s.received, s.expected);
  });
});
