// Security matrix, rate limits: sign-in, send (REST and WebSocket share one budget), search
// (search and suggest together), upload, and WebSocket frames — each refused with its exact code
// once spent, with nothing written; and across two nodes on one PostgreSQL + one Redis: the send,
// search, upload and sign-in budgets hold across the nodes. Socket-frame limits are per connection
// by design. Without Redis the limits count per node: test/http/shared-limits.test.ts.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { upload } from '../helpers/files.js';
import { freshPostgres, pgSkipReason } from '../helpers/postgres.js';
import { freshRedis, redisSkip } from '../helpers/redis.js';
import { forEachBackend, unique } from '../helpers/server.js';
import { signup, startNode } from '../realtime/harness.js';
import { assertError, createChannel, ok, send } from '../http/util.js';
import { openFingerprint } from './world.js';
import { connect } from './ws-util.js';

const LIMITS = {
  NCHAT_SEND_LIMIT: '3',
  NCHAT_SEND_LIMIT_WINDOW_MS: '60000',
  NCHAT_SEARCH_LIMIT: '3',
  NCHAT_SEARCH_LIMIT_WINDOW_MS: '60000',
  NCHAT_UPLOAD_LIMIT: '2',
  NCHAT_WS_FRAMES_PER_SEC: '5',
};
const PW = 'correct horse battery';

await forEachBackend(
  'security: rate limits',
  (ctx) => {
    it('sign-in: the 6th failure for one account from one IP → 429 RATE_LIMITED, even with the right password; no session made', async () => {
      const srv = ctx.server();
      const u = await srv.user('lim');
      for (let i = 0; i < 5; i++)
        assertError(
          await srv.api.post('/api/auth/signin', { login: u.username, password: 'wrong password' }),
          401,
          'INVALID_CREDENTIALS',
          `failure ${i + 1}`,
        );
      const fp = await openFingerprint(srv);
      try {
        const before = await fp.digest();
        assertError(
          await srv.api.post('/api/auth/signin', { login: u.username, password: PW }),
          429,
          'RATE_LIMITED',
          'right password after 5 failures',
        );
        assert.equal(await fp.digest(), before, 'a refused sign-in stored a session');
      } finally {
        await fp.close();
      }
    });

    it('send: 3 per window, REST and WebSocket together; the 4th → 429 / error RATE_LIMITED, nothing stored', async () => {
      const srv = ctx.server();
      const u = await srv.user('snd');
      const ch = await createChannel(srv.owner.api, unique('lim'));
      ok(await u.api.post(`/api/channels/${ch.id}/join`));
      await send(u.api, ch.id, 'one');
      await send(u.api, ch.id, 'two');
      const c = await connect(srv.running.url, u.token);
      try {
        c.send({ op: 'send', channelId: ch.id, text: 'three', clientMsgId: 'rl-3' });
        await c.next((e) => e.type === 'ack' && e.clientMsgId === 'rl-3');
        c.send({ op: 'send', channelId: ch.id, text: 'four', clientMsgId: 'rl-4' });
        const e = await c.next((e) => e.type === 'error' && e.ref === 'rl-4');
        assert.equal(e.code, 'RATE_LIMITED');
      } finally {
        c.ws.terminate();
      }
      assertError(await u.api.post(`/api/channels/${ch.id}/messages`, { text: 'five' }), 429, 'RATE_LIMITED', 'REST after the budget');
      const texts = ok(await srv.owner.api.get(`/api/channels/${ch.id}/messages`)).messages.map((m: any) => m.text);
      assert.deepEqual(texts.reverse(), ['one', 'two', 'three']);
    });

    it('search: 3 per window, search and suggest together; the 4th → 429 RATE_LIMITED; other users unaffected', async () => {
      const srv = ctx.server();
      const u = await srv.user('srch');
      ok(await u.api.get('/api/search?q=hello'));
      ok(await u.api.get('/api/search/suggest?q=he'));
      ok(await u.api.get('/api/search?q=world'));
      assertError(await u.api.get('/api/search?q=again'), 429, 'RATE_LIMITED', 'search');
      assertError(await u.api.get('/api/search/suggest?q=ag'), 429, 'RATE_LIMITED', 'suggest');
      ok(await (await srv.user('other')).api.get('/api/search?q=hello'));
    });

    it('upload: 2 per minute; the 3rd → 429 RATE_LIMITED, no file kept', async () => {
      const srv = ctx.server();
      const u = await srv.user('upl');
      for (let i = 0; i < 2; i++)
        assert.equal((await upload(srv.running.url, u, Buffer.from(`file ${i}`), { name: `f${i}.txt` })).status, 201);
      const fp = await openFingerprint(srv);
      try {
        const before = await fp.digest(); // rows and every file on the volume
        const r = await upload(srv.running.url, u, Buffer.from('file 3'), { name: 'f3.txt' });
        assertError(r, 429, 'RATE_LIMITED', 'third upload');
        assert.equal(await fp.digest(), before, 'a refused upload kept a row or a file');
      } finally {
        await fp.close();
      }
    });

    it('socket frames: past 5/s (burst 10) → error RATE_LIMITED; sustained abuse → close 1008', async () => {
      const srv = ctx.server();
      const u = await srv.user('frm');
      const c = await connect(srv.running.url, u.token);
      const t0 = Date.now();
      for (let i = 0; i < 200; i++) c.send({ op: 'ping', t: i });
      const e = await c.next((e) => e.type === 'error');
      assert.equal(e.code, 'RATE_LIMITED');
      const closed = await Promise.race([
        c.closed,
        new Promise<never>((_, rej) => setTimeout(() => rej(new Error('not closed in 5 s')), 5000)),
      ]);
      // A burst of 10, then 5 per second refilled while the frames arrive (slow on a busy machine).
      const allowed = 10 + Math.ceil((5 * (Date.now() - t0)) / 1000);
      const pongs = c.events.filter((x) => x.type === 'pong').length;
      assert.ok(pongs <= allowed, `${pongs} pings answered, at most ${allowed} allowed`);
      assert.equal(closed.code, 1008);
    });
  },
  LIMITS,
);

const clusterSkip = (await pgSkipReason()) ?? (await redisSkip());

describe('security: rate limits across two nodes (PostgreSQL + Redis)', { skip: clusterSkip || false }, () => {
  it('the send, search, upload and sign-in budgets are shared by both nodes', async () => {
    const db = await freshPostgres();
    if (!db) throw new Error('PostgreSQL not reachable');
    const dir = await mkdtemp(join(tmpdir(), 'nchat-sec-limits-'));
    const redisUrl = freshRedis();
    const a = await startNode({ databaseUrl: db.url, redisUrl, dataDir: join(dir, 'a'), env: LIMITS });
    // One files volume for both nodes, as docs/OPERATIONS.md runs them.
    const b = await startNode({ databaseUrl: db.url, redisUrl, dataDir: join(dir, 'a'), env: LIMITS });
    try {
      await signup(a, 'own');
      const u = await signup(a, 'two');
      const onB = b.api.as(u.token);
      ok(await u.api.get('/api/search?q=a1'));
      ok(await onB.get('/api/search?q=b1'));
      ok(await u.api.get('/api/search/suggest?q=a2'));
      assertError(await onB.get('/api/search?q=b2'), 429, 'RATE_LIMITED', 'node B after 3 searches over both nodes');
      assertError(await u.api.get('/api/search?q=a3'), 429, 'RATE_LIMITED', 'node A too');

      // Sends: one budget over both nodes (also test/http/limits.test.ts).
      const ch = await createChannel(u.api, unique('two'));
      await send(u.api, ch.id, 'a1');
      await send(onB, ch.id, 'b1');
      await send(u.api, ch.id, 'a2');
      assertError(
        await onB.post(`/api/channels/${ch.id}/messages`, { text: 'b2' }),
        429,
        'RATE_LIMITED',
        'node B after 3 sends over both nodes',
      );

      // Uploads: one budget over both nodes (2 per minute).
      assert.equal((await upload(a.url, u, Buffer.from('a0'), { name: 'a0.txt' })).status, 201);
      assert.equal((await upload(b.url, u, Buffer.from('b0'), { name: 'b0.txt' })).status, 201);
      assertError(
        await upload(a.url, u, Buffer.from('a1'), { name: 'a1.txt' }),
        429,
        'RATE_LIMITED',
        'node A after 2 uploads over both nodes',
      );
      assertError(await upload(b.url, u, Buffer.from('b1'), { name: 'b1.txt' }), 429, 'RATE_LIMITED', 'node B too');

      // Sign-in failures: counted over both nodes; the 6th is refused on either, even with the right password.
      const v = await signup(a, 'sig');
      for (const [i, n] of [a, b, a, b, a].entries())
        assertError(
          await n.api.post('/api/auth/signin', { login: v.username, password: 'wrong password' }),
          401,
          'INVALID_CREDENTIALS',
          `failure ${i + 1}`,
        );
      assertError(await b.api.post('/api/auth/signin', { login: v.username, password: PW }), 429, 'RATE_LIMITED', 'node B');
      assertError(await a.api.post('/api/auth/signin', { login: v.username, password: PW }), 429, 'RATE_LIMITED', 'node A');
    } finally {
      await a.stop();
      await b.stop();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
