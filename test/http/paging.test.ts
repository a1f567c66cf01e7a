// The page rule at the edge, on SQLite and PostgreSQL, for every paged route: a `limit` outside
// 1..max (protocol/paging.ts) or a bad seq cursor is a 400 VALIDATION_FAILED naming the field,
// never a page of some other size; the maximum is served as asked and the default comes from the
// same table. The stores refuse the same values (store/contract/paging.ts).
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { PAGE_LIMITS, type PagedRead } from '../../src/protocol/paging.js';
import { forEachBackend, unique, type TestServer, type TestUser } from '../helpers/server.js';
import { assertError, createChannel, ok, send } from './util.js';

interface Route {
  read: PagedRead;
  path(): string;
  /** The reply's array. */
  items(body: any): unknown[];
  /** Seq cursors the route takes. */
  seqCursors: string[];
}

await forEachBackend('page limits', (ctx) => {
  let srv: TestServer;
  let ann: TestUser;
  let ch: { id: string };
  let root: { id: string };
  const total = PAGE_LIMITS.history.max + 1;

  before(async () => {
    srv = ctx.server();
    ann = await srv.user('pager');
    ch = await createChannel(ann.api, unique('pg'));
    root = await send(ann.api, ch.id, 'root');
    // bob: a thread reply (ann gets a notification) and a second member.
    const bob = await srv.user('pager');
    ok(await bob.api.post(`/api/channels/${ch.id}/join`), 200, 'join');
    await send(bob.api, ch.id, 'reply', { parentId: root.id });
    // One more message than the largest history page, so the maximum is visibly not clamped.
    for (let i = 2; i < total; i += 25) {
      await Promise.all(Array.from({ length: Math.min(25, total - i) }, (_, k) => send(ann.api, ch.id, `m${i + k}`)));
    }
  });

  const routes: Route[] = [
    { read: 'history', path: () => `/api/channels/${ch.id}/messages`, items: (b) => b.messages, seqCursors: ['before', 'after'] },
    { read: 'thread', path: () => `/api/messages/${root.id}/thread`, items: (b) => b.replies, seqCursors: ['after'] },
    { read: 'publicChannels', path: () => '/api/channels?browse=public', items: (b) => b.channels, seqCursors: [] },
    { read: 'members', path: () => `/api/channels/${ch.id}/members`, items: (b) => b.members, seqCursors: [] },
    { read: 'users', path: () => '/api/users?q=pager', items: (b) => b.users, seqCursors: [] },
    { read: 'notifications', path: () => '/api/notifications', items: (b) => b.notifications, seqCursors: [] },
  ];
  const withQuery = (path: string, q: string) => `${path}${path.includes('?') ? '&' : '?'}${q}`;

  /** 400 VALIDATION_FAILED with details.field naming the query parameter. */
  const refused = async (path: string, field: string, what: string) => {
    const r = await ann.api.get(path);
    assertError(r, 400, 'VALIDATION_FAILED', what);
    assert.equal(r.body.error.details?.field, `query.${field}`, `${what}: ${JSON.stringify(r.body)}`);
  };

  for (const route of routes) {
    const max = PAGE_LIMITS[route.read].max;
    it(`${route.read}: limit outside 1..${max} → 400 naming query.limit; ${max} is served`, async () => {
      for (const bad of ['0', '-1', String(max + 1), 'NaN', 'abc', '1.5', '', 'Infinity', String(2 ** 53)]) {
        await refused(withQuery(route.path(), `limit=${encodeURIComponent(bad)}`), 'limit', `${route.read} limit=${bad}`);
      }
      const atMax = route.items(ok(await ann.api.get(withQuery(route.path(), `limit=${max}`)), 200, `${route.read} limit=${max}`));
      assert.ok(Array.isArray(atMax) && atMax.length >= 1 && atMax.length <= max, `${route.read}: ${atMax?.length} items`);
      const one = route.items(ok(await ann.api.get(withQuery(route.path(), 'limit=1'))));
      assert.equal(one.length, 1, `${route.read} limit=1`);
    });

    for (const cursor of route.seqCursors) {
      it(`${route.read}: ${cursor} must be an integer in 0..2^52 → else 400 naming query.${cursor}`, async () => {
        for (const bad of ['-1', '-0.5', '1.5', 'NaN', 'abc', '', String(2 ** 53)]) {
          await refused(withQuery(route.path(), `${cursor}=${encodeURIComponent(bad)}`), cursor, `${route.read} ${cursor}=${bad}`);
        }
        ok(await ann.api.get(withQuery(route.path(), `${cursor}=0`)), 200, `${route.read} ${cursor}=0`);
        ok(await ann.api.get(withQuery(route.path(), `${cursor}=${2 ** 52}`)), 200, `${route.read} ${cursor}=2^52`);
      });
    }
  }

  it('history: the maximum page is exactly max messages, the default page exactly the default', async () => {
    const { max, default: dflt } = PAGE_LIMITS.history;
    const full = ok(await ann.api.get(`/api/channels/${ch.id}/messages?limit=${max}`)).messages;
    assert.equal(full.length, max);
    assert.equal(full[0].seq, total);
    assert.equal(full[max - 1].seq, total - max + 1);
    const oldest = ok(await ann.api.get(`/api/channels/${ch.id}/messages?after=0&limit=${max}`)).messages;
    assert.deepEqual(
      oldest.map((m: any) => m.seq),
      Array.from({ length: max }, (_, i) => i + 1),
    );
    assert.equal(ok(await ann.api.get(`/api/channels/${ch.id}/messages`)).messages.length, dflt);
  });
});
