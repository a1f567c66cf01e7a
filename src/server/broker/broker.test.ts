// One broker contract suite, run unchanged against MemoryBroker and RedisBroker (real Redis).
// Redis-only extras: delivery across two brokers (two nodes), and onGap after Redis restarts.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { Broker, BrokerEvent } from './broker.js';
import { channelTopic, userTopic } from './broker.js';
import { MemoryBroker } from './memory-broker.js';
import { createRedisBroker } from './redis-broker.js';
import { freshRedis, redisSkip, startRedisServer } from '../../../test/helpers/redis.js';

const logger = pino({ level: 'silent' });
const typing = (channelId: string, n: number): BrokerEvent => ({ type: 'typing', channelId, userId: `u${n}`, expiresInMs: n });

/** Resolves once `pred()` holds, polling on timers (no fixed sleeps as assertions). */
async function until(pred: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function contract(name: string, make: () => Promise<{ a: Broker; b: Broker }>, skip: string | false) {
  describe(`broker contract: ${name}`, { skip }, () => {
    const opened: Broker[] = [];
    const open = async () => {
      const pair = await make();
      opened.push(pair.a, pair.b);
      return pair;
    };
    after(async () => {
      await Promise.all(opened.map((b) => b.close()));
    });

    test('delivers to subscribers of the topic only, in publish order', async () => {
      const { a } = await open();
      const got: BrokerEvent[] = [];
      const other: BrokerEvent[] = [];
      a.subscribe(channelTopic('c1'), (e) => got.push(e));
      a.subscribe(channelTopic('c2'), (e) => other.push(e));
      for (let i = 0; i < 100; i++) a.publish(channelTopic('c1'), typing('c1', i));
      await until(() => got.length === 100, '100 events');
      assert.deepEqual(
        got.map((e) => (e as { expiresInMs: number }).expiresInMs),
        [...Array(100).keys()],
      );
      assert.equal(other.length, 0);
    });

    test('unsubscribe stops delivery; other listeners of the topic keep theirs', async () => {
      const { a } = await open();
      const one: BrokerEvent[] = [];
      const two: BrokerEvent[] = [];
      const off = a.subscribe(userTopic('x'), (e) => one.push(e));
      a.subscribe(userTopic('x'), (e) => two.push(e));
      a.publish(userTopic('x'), { type: 'channel.read', channelId: 'c', seq: 1 });
      await until(() => one.length === 1 && two.length === 1, 'first event');
      off();
      off(); // idempotent
      a.publish(userTopic('x'), { type: 'channel.read', channelId: 'c', seq: 2 });
      await until(() => two.length === 2, 'second event');
      assert.deepEqual(one, [{ type: 'channel.read', channelId: 'c', seq: 1 }], 'the unsubscribed listener got the first event only');
      assert.deepEqual(two, [
        { type: 'channel.read', channelId: 'c', seq: 1 },
        { type: 'channel.read', channelId: 'c', seq: 2 },
      ]);
    });

    test('a throwing listener does not stop the others', async () => {
      const { a } = await open();
      const got: BrokerEvent[] = [];
      a.subscribe(channelTopic('t'), () => {
        throw new Error('boom');
      });
      a.subscribe(channelTopic('t'), (e) => got.push(e));
      a.publish(channelTopic('t'), typing('t', 1));
      await until(() => got.length === 1, 'delivery past a throwing listener');
      // The throwing listener stays subscribed and the topic keeps working for the others.
      a.publish(channelTopic('t'), typing('t', 2));
      await until(() => got.length === 2, 'second delivery past a throwing listener');
      assert.deepEqual(got, [typing('t', 1), typing('t', 2)]);
    });

    test('publish with no subscriber is a no-op: nothing is kept for a later subscriber', async () => {
      const { a } = await open();
      assert.doesNotThrow(() => a.publish(channelTopic('nobody'), typing('nobody', 1)));
      const got: BrokerEvent[] = [];
      a.subscribe(channelTopic('nobody'), (e) => got.push(e));
      // A Redis SUBSCRIBE completes asynchronously: publish markers until one arrives.
      await until(() => {
        a.publish(channelTopic('nobody'), typing('nobody', 2));
        return got.length > 0;
      }, 'a marker after subscribing');
      assert.ok(
        got.every((e) => (e as { expiresInMs: number }).expiresInMs === 2),
        `only events published after subscribing: ${JSON.stringify(got)}`,
      );
    });

    if (name === 'redis') {
      test('two nodes: an event published on one reaches the other exactly once, in order', async () => {
        const { a, b } = await open();
        const onA: BrokerEvent[] = [];
        const onB: BrokerEvent[] = [];
        a.subscribe(channelTopic('x'), (e) => onA.push(e));
        b.subscribe(channelTopic('x'), (e) => onB.push(e));
        // SUBSCRIBE is asynchronous: publish until b sees one, then check order from there.
        await until(() => {
          a.publish(channelTopic('x'), typing('x', -1));
          return onB.length > 0;
        }, 'b subscribed');
        onA.length = 0;
        onB.length = 0;
        for (let i = 0; i < 200; i++) a.publish(channelTopic('x'), typing('x', i));
        await until(() => onB.length >= 200, 'b got 200');
        await new Promise((r) => setTimeout(r, 50));
        const seq = (l: BrokerEvent[]) => l.map((e) => (e as { expiresInMs: number }).expiresInMs).filter((n) => n >= 0);
        assert.deepEqual(seq(onB), [...Array(200).keys()]);
        assert.deepEqual(seq(onA), [...Array(200).keys()], 'own events are delivered locally once, not echoed');
      });
    }
  });
}

const memory = async () => ({ a: new MemoryBroker(), b: new MemoryBroker() });
contract('memory', memory, false);

const redisSkipMsg = await redisSkip();
contract(
  'redis',
  async () => {
    const url = freshRedis();
    return { a: await createRedisBroker(url, logger), b: await createRedisBroker(url, logger) };
  },
  redisSkipMsg,
);

describe('redis broker: gap reporting', { skip: redisSkipMsg }, () => {
  test('Redis killed and restarted: onGap fires, subscriptions work again', async (t) => {
    const r = await startRedisServer();
    if (typeof r === 'string') return t.skip(r);
    const a = await createRedisBroker(r.url, logger);
    const b = await createRedisBroker(r.url, logger);
    try {
      let gaps = 0;
      b.onGap(() => gaps++);
      const got: BrokerEvent[] = [];
      b.subscribe(channelTopic('g'), (e) => got.push(e));
      await until(() => {
        a.publish(channelTopic('g'), typing('g', 0));
        return got.length > 0;
      }, 'first delivery');
      await r.kill();
      await r.start();
      await until(() => gaps >= 1, 'onGap after reconnect', 10_000);
      got.length = 0;
      // Copies of the first marker may still arrive late: wait for the one published now.
      const isNew = (e: BrokerEvent) => (e as { expiresInMs: number }).expiresInMs === 1;
      await until(
        () => {
          a.publish(channelTopic('g'), typing('g', 1));
          return got.some(isNew);
        },
        'delivery after reconnect',
        10_000,
      );
      assert.deepEqual(got.find(isNew), typing('g', 1), 'the event published after the restart, intact');
    } finally {
      await a.close();
      await b.close();
      await r.stop();
    }
  });

  test("a publish lost on one node's pub connection alone: the other nodes are told (onGap)", async (t) => {
    const r = await startRedisServer();
    if (typeof r === 'string') return t.skip(r);
    const a = await createRedisBroker(r.url, logger);
    const b = await createRedisBroker(r.url, logger);
    try {
      let gapsA = 0;
      let gapsB = 0;
      a.onGap(() => gapsA++);
      b.onGap(() => gapsB++);
      const got: BrokerEvent[] = [];
      b.subscribe(channelTopic('lost'), (e) => got.push(e));
      await b.whenSubscribed?.();
      // A publish that fails on a's pub connection while every connection stays up (in real life:
      // a command in flight when the socket drops; node-redis reconnects within milliseconds, so
      // the failure is injected at the driver). Before the loss notice nothing told b.
      const pub = (a as unknown as { pub: { publish(...args: unknown[]): Promise<number> } }).pub;
      const real = pub.publish.bind(pub);
      pub.publish = () => {
        pub.publish = real;
        return Promise.reject(new Error('Socket closed unexpectedly (injected)'));
      };
      a.publish(channelTopic('lost'), typing('lost', 0));
      await until(() => gapsB >= 1, 'b told of the loss (onGap)', 10_000);
      assert.equal(got.length, 0, 'the event itself never reached b');
      assert.equal(gapsA, 0, 'the node that lost the publish does not repair itself (its own subscribers got it locally)');
      assert.equal((a as unknown as { lossNotices: number }).lossNotices, 1);
    } finally {
      await a.close();
      await b.close();
      await r.stop();
    }
  });

  test('close() while Redis is down finishes (bounded), so a node can shut down', async (t) => {
    const r = await startRedisServer();
    if (typeof r === 'string') return t.skip(r);
    const a = await createRedisBroker(r.url, logger);
    try {
      a.subscribe(channelTopic('down'), () => undefined);
      await r.kill();
      await new Promise((res) => setTimeout(res, 100));
      // A subscribe while down queues a command that will never be answered: close() used to wait for it forever.
      a.subscribe(channelTopic('down-2'), () => undefined);
      a.publish(channelTopic('down'), typing('down', 0));
      const t0 = Date.now();
      const outcome = await Promise.race([
        a.close().then(() => 'closed'),
        new Promise((res) => setTimeout(() => res('still waiting'), 10_000).unref()),
      ]);
      assert.equal(outcome, 'closed', 'close() returned while Redis was down');
      assert.ok(Date.now() - t0 < 10_000);
    } finally {
      await r.stop();
    }
  });

  test('createRedisBroker rejects when Redis is unreachable', async () => {
    await assert.rejects(createRedisBroker('redis://127.0.0.1:1', logger), /Redis unreachable at redis:\/\/127\.0\.0\.1:1|ECONNREFUSED/);
  });
});
