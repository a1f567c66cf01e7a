// Rate limits counted once over two nodes on one PostgreSQL + one Redis (issue 15): the sign-in
// and sign-up limits (per account, per (account, ip), per ip keyed by ipKey), the known-good ips
// that turn a block into a slowdown, the per-user upload and channel-create limits. Then the same limits without
// Redis, and while Redis is down: per node (each node counts its own share; docs/SECURITY.md).
// The send and search limits have their two-node tests in limits.test.ts and
// test/security/rate-limits.test.ts.
//
// HTTP requests come from 127.0.0.1 on both nodes; the tests that need other client addresses
// call the nodes' real AuthService with the address, as test/http/signin-limits.test.ts does.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AppError } from '../../src/server/errors.js';
import { SLOWDOWN_MS } from '../../src/server/services/signin-guard.js';
import { upload } from '../helpers/files.js';
import { freshPostgres, pgSkipReason } from '../helpers/postgres.js';
import { freshRedis, redisSkip, startRedisServer } from '../helpers/redis.js';
import { unique } from '../helpers/server.js';
import { type Node, signup, startNode } from '../realtime/harness.js';
import { assertError } from './util.js';

const PW = 'correct horse battery';
const LIMITS = {
  NCHAT_UPLOAD_LIMIT: '2',
  NCHAT_CHANNEL_CREATE_LIMIT: '3',
  NCHAT_SIGNIN_LIMIT_ACCOUNT: '10',
  NCHAT_SIGNIN_LIMIT_ACCOUNT_IP: '5',
};

interface Pair {
  a: Node;
  b: Node;
  stop(): Promise<void>;
}

/** Two nodes on one fresh PostgreSQL database (and one Redis when given), one files volume. */
async function twoNodes(env: Record<string, string>, redisUrl: string | undefined): Promise<Pair> {
  const db = await freshPostgres();
  if (!db) throw new Error('PostgreSQL not reachable');
  const dir = await mkdtemp(join(tmpdir(), 'nchat-shared-limits-'));
  const nodes: Node[] = [];
  const stop = async () => {
    for (const n of nodes) await n.stop();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 2; i++) nodes.push(await startNode({ databaseUrl: db.url, redisUrl, dataDir: join(dir, 'files'), env }));
  } catch (err) {
    await stop();
    throw err;
  }
  return { a: nodes[0], b: nodes[1], stop };
}

/** A sign-in through a node's real AuthService from `ip`: `ok`, or the error code. */
async function signinFrom(node: Node, login: string, password: string, ip: string): Promise<string> {
  try {
    await node.services.auth.signin({ login, password }, ip);
    return 'ok';
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
}

async function signupFrom(node: Node, ip: string): Promise<string> {
  const username = unique('ip');
  try {
    await node.services.auth.signup({ username, email: `${username}@example.test`, password: PW }, ip);
    return 'ok';
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
}

const signinHttp = (node: Node, login: string, password: string) => node.api.post('/api/auth/signin', { login, password });
const txt = (s: string) => Buffer.from(s);

const skip = (await pgSkipReason()) ?? (await redisSkip());

describe('rate limits shared by two nodes through Redis', { skip: skip || false }, () => {
  let pair: Pair | undefined;
  const nodes = () => {
    if (!pair) throw new Error('nodes not started');
    return pair;
  };
  before(async () => {
    pair = await twoNodes(LIMITS, freshRedis());
  });
  after(async () => {
    await pair?.stop();
  });

  it('sign-in failures split across node A and node B count together: the 6th → 429 on either node, even with the right password', async () => {
    const { a, b } = nodes();
    const v = await signup(a, 'spl');
    for (const [i, n] of [a, b, a, b, a].entries())
      assertError(await signinHttp(n, v.username, 'wrong password'), 401, 'INVALID_CREDENTIALS', `failure ${i + 1}`);
    assertError(await signinHttp(b, v.username, PW), 429, 'RATE_LIMITED', 'node B after 3 failures on A and 2 on B');
    const r = await signinHttp(a, v.username, PW);
    assertError(r, 429, 'RATE_LIMITED', 'node A too');
    const retry = r.body.error.details.retryAfterSec;
    assert.ok(retry > 0 && retry <= 15 * 60, `retryAfterSec ${retry}`);
  });

  it('the account limit counts failures from every ip on both nodes; an ip known from a sign-in on A is only slowed down on B', async () => {
    const { a, b } = nodes();
    const v = await signup(a, 'acct');
    const Y = '198.51.100.31';
    assert.equal(await signinFrom(a, v.username, PW, Y), 'ok', 'the owner signs in on A from Y (Y becomes known)');
    for (let i = 0; i < 5; i++) assert.equal(await signinFrom(a, v.username, `guess ${i}`, '203.0.113.31'), 'INVALID_CREDENTIALS');
    for (let i = 0; i < 5; i++) assert.equal(await signinFrom(b, v.username, `guess ${i}`, '203.0.113.32'), 'INVALID_CREDENTIALS');
    assert.equal(
      await signinFrom(b, v.username, PW, '203.0.113.33'),
      'RATE_LIMITED',
      'a fresh ip on B at the account limit (10 over both nodes)',
    );
    assert.equal(await signinFrom(a, v.username, PW, '203.0.113.34'), 'RATE_LIMITED', 'and on A');
    const t0 = Date.now();
    assert.equal(await signinFrom(b, v.username, PW, Y), 'ok', 'the owner signs in on B from Y, which only A saw succeed');
    const took = Date.now() - t0;
    assert.ok(took >= SLOWDOWN_MS - 5, `slowed down, not blocked (${took} ms)`);
  });

  it('uploads split across node A and node B share one per-user budget (2 per minute); other users unaffected', async () => {
    const { a, b } = nodes();
    const u = await signup(a, 'upl');
    assert.equal((await upload(a.url, u, txt('a0'), { name: 'a0.txt' })).status, 201);
    assert.equal((await upload(b.url, u, txt('b0'), { name: 'b0.txt' })).status, 201);
    assertError(await upload(a.url, u, txt('a1'), { name: 'a1.txt' }), 429, 'RATE_LIMITED', 'node A after 2 uploads over both nodes');
    assertError(await upload(b.url, u, txt('b1'), { name: 'b1.txt' }), 429, 'RATE_LIMITED', 'node B too');
    const w = await signup(b, 'upl');
    assert.equal((await upload(b.url, w, txt('w0'), { name: 'w0.txt' })).status, 201, 'another user has a budget of their own');
  });

  it('channel creation split across node A and node B shares one per-user budget (3 per hour)', async () => {
    const { a, b } = nodes();
    await signup(a, 'own'); // not the first account of the pair (an owner is exempt) whatever ran before
    const u = await signup(a, 'mk');
    const onB = b.api.as(u.token);
    const create = (api: typeof onB) => api.post('/api/channels', { name: unique('mk'), type: 'public' });
    for (const [i, api] of [u.api, onB, u.api].entries()) assert.equal((await create(api)).status, 201, `channel ${i + 1}`);
    assertError(await create(onB), 429, 'RATE_LIMITED', 'node B after 3 channels over both nodes');
    assertError(await create(u.api), 429, 'RATE_LIMITED', 'node A too');
  });
});

describe('the per-ip sign-in/sign-up limit shared by two nodes through Redis (ipKey: IPv6 by /64, IPv4-mapped as IPv4)', {
  skip: skip || false,
}, () => {
  let pair: Pair | undefined;
  before(async () => {
    pair = await twoNodes({ ...LIMITS, NCHAT_SIGNIN_LIMIT_IP: '4' }, freshRedis());
  });
  after(async () => {
    await pair?.stop();
  });

  it('sign-ups and sign-ins from one /64 split across the nodes count together; the 5th → RATE_LIMITED on either node', async () => {
    const { a, b } = pair!;
    assert.equal(await signupFrom(a, '2001:db8:15:1::1'), 'ok');
    assert.equal(await signupFrom(b, '2001:db8:15:1::2'), 'ok');
    assert.equal(await signinFrom(a, unique('nobody'), 'wrong password', '2001:db8:15:1:aaaa::3'), 'INVALID_CREDENTIALS');
    assert.equal(await signupFrom(b, '2001:db8:15:1:ffff::4'), 'ok');
    assert.equal(await signupFrom(a, '2001:db8:15:1::5'), 'RATE_LIMITED', 'node A: 5th attempt from the /64');
    assert.equal(await signinFrom(b, unique('nobody'), 'x', '2001:db8:15:1::6'), 'RATE_LIMITED', 'node B too');
    assert.equal(await signupFrom(b, '2001:db8:15:2::1'), 'ok', 'another /64 is not limited');
  });

  it('an IPv4 client and its IPv4-mapped form count as one address over both nodes', async () => {
    const { a, b } = pair!;
    for (const [n, ip] of [
      [a, '198.51.100.77'],
      [b, '::ffff:198.51.100.77'],
      [a, '::ffff:198.51.100.77'],
      [b, '198.51.100.77'],
    ] as const)
      assert.equal(await signupFrom(n, ip), 'ok', ip);
    assert.equal(await signupFrom(a, '198.51.100.77'), 'RATE_LIMITED');
    assert.equal(await signupFrom(b, '::ffff:198.51.100.77'), 'RATE_LIMITED');
  });
});

describe('without Redis the sign-in and upload limits count per node (documented in docs/SECURITY.md)', { skip: skip || false }, () => {
  it('node B still checks the password after node A refused the 6th failure, and takes uploads after A refused the 3rd', async () => {
    const { a, b, stop } = await twoNodes(LIMITS, undefined);
    try {
      const v = await signup(a, 'pn');
      for (let i = 0; i < 5; i++) assertError(await signinHttp(a, v.username, 'wrong password'), 401, 'INVALID_CREDENTIALS');
      assertError(await signinHttp(a, v.username, PW), 429, 'RATE_LIMITED', 'node A');
      assert.equal((await signinHttp(b, v.username, PW)).status, 200, 'node B counts its own failures (none)');
      for (let i = 0; i < 2; i++) assert.equal((await upload(a.url, v, txt(`a${i}`), { name: `a${i}.txt` })).status, 201);
      assertError(await upload(a.url, v, txt('a2'), { name: 'a2.txt' }), 429, 'RATE_LIMITED', 'node A third upload');
      assert.equal((await upload(b.url, v, txt('b0'), { name: 'b0.txt' })).status, 201, 'node B has its own upload budget');
    } finally {
      await stop();
    }
  });
});

describe('while Redis is down the shared limits fall back to per node (fail open, not closed)', { skip: skip || false }, () => {
  it('Redis killed: node A still refuses the 6th sign-in failure and the 3rd upload it saw; node B counts its own', async (t) => {
    const redis = await startRedisServer();
    if (typeof redis === 'string') return t.skip(redis);
    let pair: Pair | undefined;
    let back: Promise<void>[] = [];
    try {
      pair = await twoNodes(LIMITS, redis.url);
      const { a, b } = pair;
      const v = await signup(a, 'down');
      // The nodes raise onGap when their broker's subscriber connection is back (see finally).
      back = [a, b].map((n) => new Promise<void>((resolve) => n.broker.onGap(resolve)));
      await redis.kill();
      for (let i = 0; i < 5; i++) assertError(await signinHttp(a, v.username, 'wrong password'), 401, 'INVALID_CREDENTIALS');
      assertError(await signinHttp(a, v.username, PW), 429, 'RATE_LIMITED', 'node A, on its own counters');
      assert.equal((await signinHttp(b, v.username, PW)).status, 200, 'node B has not counted A’s failures');
      for (let i = 0; i < 2; i++) assert.equal((await upload(a.url, v, txt(`a${i}`), { name: `a${i}.txt` })).status, 201);
      assertError(await upload(a.url, v, txt('a2'), { name: 'a2.txt' }), 429, 'RATE_LIMITED', 'node A third upload');
      assert.equal((await upload(b.url, v, txt('b0'), { name: 'b0.txt' })).status, 201, 'node B, on its own counters');
    } finally {
      // Back up, and the brokers reconnected, before the nodes stop: a node-redis client closed
      // while Redis is down waits for its queued commands forever (the broker's close() hangs).
      await redis.start();
      await Promise.race([Promise.all(back), new Promise((r) => setTimeout(r, 10_000))]);
      await pair?.stop();
      await redis.stop();
    }
  });
});
