// Several nodes behind one URL: two startServer() processes-in-one sharing a fresh PostgreSQL
// database and Redis behave as one server. Redis is a hint, the database the truth: killing and
// restarting Redis mid-stream loses no acknowledged message.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server/main.js';
import { freshPostgres, pgSkipReason } from '../helpers/postgres.js';
import { freshRedis, redisSkip, startRedisServer } from '../helpers/redis.js';
import { Api, unique } from '../helpers/server.js';
import { Client, ok, signup, until, type User } from './harness.js';

const skip = (await pgSkipReason()) ?? (await redisSkip());

async function cluster(redisUrl: string, n = 2): Promise<{ nodes: RunningServer[]; stop(): Promise<void> }> {
  const db = await freshPostgres();
  if (!db) throw new Error('PostgreSQL not reachable');
  const dir = await mkdtemp(join(tmpdir(), 'nchat-cluster-'));
  const nodes: RunningServer[] = [];
  for (let i = 0; i < n; i++) {
    const config = loadConfig(
      {},
      {
        NCHAT_PORT: '0',
        NCHAT_HOST: '127.0.0.1',
        NCHAT_DATA_DIR: join(dir, String(i)),
        NCHAT_DATABASE_URL: db.url,
        NCHAT_DB_POOL_SIZE: '5',
        NCHAT_REDIS_URL: redisUrl,
        NCHAT_LOG_LEVEL: process.env.NCHAT_TEST_LOG ?? 'silent',
        NCHAT_ARGON2_MEMORY_KIB: '1024',
        NCHAT_SIGNIN_LIMIT_IP: '100000',
        NCHAT_SEND_LIMIT: '100000',
      },
    );
    nodes.push(await startServer(config));
  }
  return {
    nodes,
    async stop() {
      for (const n of nodes) await n.close();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe('realtime: two nodes, PostgreSQL + Redis', { skip: skip || false }, () => {
  const clients: Client[] = [];
  after(() => {
    for (const c of clients) c.close();
  });
  const open = async (s: RunningServer, u: User) => {
    const c = await Client.open(s, u.token);
    clients.push(c);
    return c;
  };

  test('messages, membership changes and presence cross nodes', async () => {
    const { nodes, stop } = await cluster(freshRedis());
    try {
      const [A, B] = nodes;
      const nodeA = { url: A.url, api: new Api(A.url) } as any;
      const nodeB = { url: B.url, api: new Api(B.url) } as any;
      const alice = await signup(nodeA, 'alice');
      const bob = await signup(nodeB, 'bob');
      const carol = await signup(nodeB, 'carol');
      const ch = await ok(alice.api.post('/api/channels', { name: unique('x'), type: 'public' }), 201);
      await bob.api.post(`/api/channels/${ch.id}/join`);
      const b = await open(B, bob);
      const c = await open(B, carol);
      const a = await open(A, alice);
      // presence of alice (on A) reaches bob (on B, shares a channel), not carol (shares none yet)
      await b.waitFor((e) => e.type === 'presence' && e.userId === alice.id && e.status === 'online');
      // WS send on A → bob on B; REST send on B → alice on A
      a.send({ op: 'send', channelId: ch.id, text: 'from A', clientMsgId: 'a1' });
      await a.waitFor((e) => e.type === 'ack' && e.clientMsgId === 'a1');
      await b.waitFor((e) => e.type === 'message.created' && e.message.text === 'from A');
      await ok(bob.api.post(`/api/channels/${ch.id}/messages`, { text: 'from B' }), 201);
      await a.waitFor((e) => e.type === 'message.created' && e.message.text === 'from B');
      // membership change made on A moves carol's socket on B
      const priv = await ok(alice.api.post('/api/channels', { name: unique('p'), type: 'private' }), 201);
      await ok(alice.api.post(`/api/channels/${priv.id}/members`, { userIds: [carol.id] }));
      await c.waitFor((e) => e.type === 'subscription' && e.channelId === priv.id && e.subscribed);
      await ok(alice.api.post(`/api/channels/${priv.id}/messages`, { text: 'psst carol' }), 201);
      await c.waitFor((e) => e.type === 'message.created' && e.message.text === 'psst carol');
      assert.ok(
        !c.events.some(
          (e) =>
            e.type === 'presence' &&
            e.userId === alice.id &&
            e.status === 'online' &&
            c.events.indexOf(e) < c.events.findIndex((x) => x.type === 'subscription'),
        ),
        'no presence before sharing a channel',
      );
      // @here on node A notifies bob, who is online on node B only: presence is cluster-wide.
      await ok(alice.api.post(`/api/channels/${ch.id}/messages`, { text: '@here standup' }), 201);
      const n = await b.waitFor((e) => e.type === 'notification');
      assert.equal(n.notification.kind, 'mention');
      assert.equal(n.notification.channelId, ch.id);
      // typing crosses nodes too
      a.send({ op: 'typing', channelId: ch.id });
      await b.waitFor((e) => e.type === 'typing' && e.userId === alice.id);
    } finally {
      await stop();
    }
  });

  test('a role change made on one node applies on the other within 5 s (docs/OPERATIONS.md, Roles)', async () => {
    const { nodes, stop } = await cluster(freshRedis());
    try {
      const [A, B] = nodes;
      const owner = await signup({ url: A.url, api: new Api(A.url) } as any, 'owner');
      const bob = await signup({ url: B.url, api: new Api(B.url) } as any, 'bob');
      const invite = () => bob.api.post('/api/admin/invites', {});
      // Node B has bob's role cached as member: his admin-only call is refused there.
      const before = await invite();
      assert.equal(before.status, 403, JSON.stringify(before.body));
      /** Changes bob's role on A, then polls B until `want` is answered; returns the seconds it took. */
      const change = async (role: string, want: number): Promise<number> => {
        const user = await ok(owner.api.patch(`/api/admin/users/${bob.id}`, { role }));
        assert.equal(user.role, role);
        const t0 = Date.now();
        for (;;) {
          const r = await invite();
          if (r.status === want) return (Date.now() - t0) / 1000;
          assert.ok(
            Date.now() - t0 < 5500,
            `node B still answers ${r.status} ${JSON.stringify(r.body)} ${Date.now() - t0} ms after bob became ${role} on node A`,
          );
          await new Promise((res) => setTimeout(res, 100));
        }
      };
      const promoted = await change('admin', 201);
      const demoted = await change('member', 403);
      // Printed: the doc promises "within 5 s"; with user.changed over Redis it is usually at once.
      console.log(`role change A → B: promotion seen after ${promoted} s, demotion after ${demoted} s`);
    } finally {
      await stop();
    }
  });

  test('Redis killed and restarted mid-stream: every acknowledged message still arrives', async (t) => {
    const redis = await startRedisServer();
    if (typeof redis === 'string') return t.skip(redis);
    const { nodes, stop } = await cluster(redis.url);
    try {
      const [A, B] = nodes;
      const alice = await signup({ url: A.url, api: new Api(A.url) } as any, 'alice');
      const bob = await signup({ url: B.url, api: new Api(B.url) } as any, 'bob');
      const ch = await ok(alice.api.post('/api/channels', { name: unique('r'), type: 'public' }), 201);
      await bob.api.post(`/api/channels/${ch.id}/join`);
      const b = await open(B, bob);
      const acked: number[] = [];
      let stopSending = false;
      const sender = (async () => {
        for (let i = 0; !stopSending; i++) {
          const r = await alice.api.post(`/api/channels/${ch.id}/messages`, { text: `n${i}`, clientMsgId: `k${i}` });
          if (r.status === 201 || r.status === 200) acked.push(r.body.seq);
          await new Promise((res) => setTimeout(res, 5));
        }
      })();
      await until(() => b.seqs(ch.id).size >= 20, 'live flow before the outage', 10_000);
      await redis.kill();
      const duringFrom = acked.length;
      await until(() => acked.length >= duringFrom + 20, 'messages acknowledged while Redis is down', 10_000);
      await redis.start();
      const afterFrom = acked.length;
      await until(() => acked.length >= afterFrom + 30, 'messages after Redis is back', 15_000);
      stopSending = true;
      await sender;
      await until(() => acked.every((s) => b.seqs(ch.id).has(s)), 'every acknowledged seq at bob (live or repaired)', 15_000).catch((e) => {
        throw new Error(`${e.message}: missing ${acked.filter((s) => !b.seqs(ch.id).has(s)).join(',')}`);
      });
      assert.ok(!b.closed, 'bob never had to reconnect');
      assert.ok(acked.length >= 70);
    } finally {
      await stop();
      await redis.stop();
    }
  });
});
