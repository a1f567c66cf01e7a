// Unbounded writes, bounded: the per-user send limit (one budget for REST and WebSocket, shared
// across nodes through Redis), channels created per user per hour, reactions per user per
// message and distinct emoji per message. Each refusal writes nothing. Both backends.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freshPostgres, pgSkipReason } from '../helpers/postgres.js';
import { freshRedis, redisSkip } from '../helpers/redis.js';
import { forEachBackend, unique } from '../helpers/server.js';
import { Client, signup, startNode } from '../realtime/harness.js';
import { assertError, createChannel, ok, send } from './util.js';

const LIMITS = {
  NCHAT_SEND_LIMIT: '5',
  NCHAT_SEND_LIMIT_WINDOW_MS: '60000',
  NCHAT_CHANNEL_CREATE_LIMIT: '3',
  NCHAT_REACTIONS_PER_USER: '3',
  NCHAT_EMOJI_PER_MESSAGE: '4',
};

await forEachBackend(
  'write limits',
  (ctx) => {
    it('send limit: REST and WebSocket sends share one per-user budget; refusals store nothing; others unaffected', async () => {
      const srv = ctx.server();
      const ann = await srv.user('ann');
      const bob = await srv.user('bob');
      // Channel creation and joins are not sends; the owner (exempt from the create limit) sets up.
      const ch = await createChannel(srv.owner.api, unique('lim'));
      ok(await ann.api.post(`/api/channels/${ch.id}/join`));
      ok(await bob.api.post(`/api/channels/${ch.id}/join`));
      const c = await Client.open({ url: srv.running.url }, ann.token);
      try {
        for (let i = 1; i <= 3; i++) await send(ann.api, ch.id, `rest ${i}`);
        for (let i = 1; i <= 2; i++) {
          c.send({ op: 'send', channelId: ch.id, text: `ws ${i}`, clientMsgId: `ws-${i}`, ref: `r${i}` });
          await c.waitFor((e) => e.type === 'ack' && e.clientMsgId === `ws-${i}`);
        }
        c.send({ op: 'send', channelId: ch.id, text: 'ws over', clientMsgId: 'ws-over', ref: 'over' });
        const err = await c.waitFor((e) => e.type === 'error' && e.ref === 'over');
        assert.equal(err.code, 'RATE_LIMITED', JSON.stringify(err));
        const r = await ann.api.post(`/api/channels/${ch.id}/messages`, { text: 'rest over' });
        assertError(r, 429, 'RATE_LIMITED', 'REST after the WebSocket used the rest of the budget');
        assert.ok(r.body.error.details.retryAfterSec > 0 && r.body.error.details.retryAfterSec <= 60, JSON.stringify(r.body));
        await send(bob.api, ch.id, 'bob has his own budget');
        const texts = ok(await ann.api.get(`/api/channels/${ch.id}/messages`))
          .messages.map((m: any) => m.text)
          .reverse();
        assert.deepEqual(
          texts,
          ['rest 1', 'rest 2', 'rest 3', 'ws 1', 'ws 2', 'bob has his own budget'],
          'nothing stored for the refused sends',
        );
      } finally {
        c.close();
      }
    });

    it('channel creation: 3 per user per hour, then 429 with nothing created; workspace admins exempt', async () => {
      const srv = ctx.server();
      const cat = await srv.user('cat');
      const names = [0, 1, 2, 3].map(() => unique('mk'));
      for (const n of names.slice(0, 3)) await createChannel(cat.api, n);
      assertError(await cat.api.post('/api/channels', { name: names[3], type: 'public' }), 429, 'RATE_LIMITED', '4th channel');
      const mine = ok(await cat.api.get('/api/channels')).channels.map((ch: any) => ch.name);
      assert.deepEqual(
        mine.filter((n: string) => names.includes(n)).sort(),
        names.slice(0, 3).sort(),
        'the refused channel does not exist',
      );
      for (let i = 0; i < 4; i++) await createChannel(srv.owner.api, unique('own')); // owner: no limit
    });

    it('reactions: 3 per user per message and 4 distinct emoji per message, 409 LIMIT_REACHED, nothing written', async () => {
      const srv = ctx.server();
      const [dan, eve] = [await srv.user('dan'), await srv.user('eve')];
      const ch = await createChannel(srv.owner.api, unique('rx'));
      for (const u of [dan, eve]) ok(await u.api.post(`/api/channels/${ch.id}/join`));
      const m = await send(srv.owner.api, ch.id, 'react to me');
      const react = (u: typeof dan, emoji: string) => u.api.put(`/api/messages/${m.id}/reactions/${encodeURIComponent(emoji)}`);
      for (const e of ['thumbsup', 'tada', 'eyes']) ok(await react(dan, e));
      assertError(await react(dan, 'rocket'), 409, 'LIMIT_REACHED', "dan's 4th reaction");
      ok(await react(dan, 'tada'), 200, 're-adding one dan already has is not over the limit');
      ok(await react(eve, 'heart'), 200, '4th distinct emoji on the message');
      assertError(await react(eve, 'rocket'), 409, 'LIMIT_REACHED', '5th distinct emoji');
      ok(await react(eve, 'thumbsup'), 200, 'an emoji the message already carries can still be added');
      const got = ok(await srv.owner.api.get(`/api/messages/${m.id}`)).reactions.map((r: any) => [r.emoji, [...r.userIds].sort()]);
      assert.deepEqual(
        new Map(got),
        new Map([
          ['thumbsup', [dan.id, eve.id].sort()],
          ['tada', [dan.id]],
          ['eyes', [dan.id]],
          ['heart', [eve.id]],
        ]),
      );
    });

    it('concurrent reactions by one user never exceed the cap', async () => {
      const srv = ctx.server();
      const fay = await srv.user('fay');
      const ch = await createChannel(srv.owner.api, unique('rc'));
      ok(await fay.api.post(`/api/channels/${ch.id}/join`));
      const m = await send(srv.owner.api, ch.id, 'race');
      const emoji = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8'];
      const rs = await Promise.all(emoji.map((e) => fay.api.put(`/api/messages/${m.id}/reactions/${e}`)));
      assert.deepEqual(rs.map((r) => r.status).sort(), [200, 200, 200, 409, 409, 409, 409, 409]);
      for (const r of rs.filter((x) => x.status === 409)) assertError(r, 409, 'LIMIT_REACHED');
      const stored = ok(await fay.api.get(`/api/messages/${m.id}`)).reactions;
      assert.equal(stored.length, 3, JSON.stringify(stored));
    });
  },
  LIMITS,
);

const clusterSkip = (await pgSkipReason()) ?? (await redisSkip());

describe('send limit across two nodes sharing PostgreSQL and Redis', { skip: clusterSkip || false }, () => {
  it("one user's budget is shared: sends through either node count, and both refuse once it is spent", async () => {
    const db = await freshPostgres();
    if (!db) throw new Error('PostgreSQL not reachable');
    const dir = await mkdtemp(join(tmpdir(), 'nchat-limits-'));
    const redisUrl = freshRedis();
    const env = { NCHAT_SEND_LIMIT: '4', NCHAT_SEND_LIMIT_WINDOW_MS: '60000' };
    const a = await startNode({ databaseUrl: db.url, redisUrl, dataDir: join(dir, 'a'), env });
    const b = await startNode({ databaseUrl: db.url, redisUrl, dataDir: join(dir, 'b'), env });
    try {
      const owner = await signup(a, 'own');
      const u = await signup(a, 'gus');
      const ch = await createChannel(owner.api, unique('two'));
      const onB = b.api.as(u.token);
      ok(await onB.post(`/api/channels/${ch.id}/join`));
      await send(u.api, ch.id, 'a1');
      await send(onB, ch.id, 'b1');
      await send(u.api, ch.id, 'a2');
      await send(onB, ch.id, 'b2');
      assertError(
        await u.api.post(`/api/channels/${ch.id}/messages`, { text: 'a3' }),
        429,
        'RATE_LIMITED',
        'node A after 4 sends over both nodes',
      );
      assertError(await onB.post(`/api/channels/${ch.id}/messages`, { text: 'b3' }), 429, 'RATE_LIMITED', 'node B too');
      await send(owner.api, ch.id, 'another user still sends');
      const texts = ok(await onB.get(`/api/channels/${ch.id}/messages`))
        .messages.map((m: any) => m.text)
        .reverse();
      assert.deepEqual(texts, ['a1', 'b1', 'a2', 'b2', 'another user still sends']);
    } finally {
      await a.stop();
      await b.stop();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
