// The newest history page, kept serialized while the channel is unchanged
// (services/history-pages.ts, MessageStore.historyVersion), on SQLite and PostgreSQL: after every
// kind of write the page shows — a send, an edit, a reaction added and removed, a thread reply, a
// delete, and a write by another database connection — the newest page is byte for byte the
// page read without the cache (a `before` cursor past the end takes the uncached path), and it
// shows the change at once. Authorization runs on every request, cached page or not. On SQLite
// repeated reads are served from the cache (hits counted) and the page carries an ETag that
// answers If-None-Match with a 304 until the page changes; PostgreSQL never caches and sends none.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { forEachBackend, unique, type TestServer, type TestUser } from '../helpers/server.js';
import { assertError, createChannel, ok, send } from './util.js';

/** Past any seq: the same page as the newest, through the uncached path. */
const PAST_END = 2 ** 40;

await forEachBackend('newest history page cache', (ctx) => {
  let srv: TestServer;
  let ann: TestUser;
  let bob: TestUser;

  before(async () => {
    srv = ctx.server();
    ann = await srv.user('hp');
    bob = await srv.user('hp');
  });

  const raw = async (u: TestUser, path: string) => {
    const res = await fetch(srv.running.url + path, { headers: { authorization: `Bearer ${u.token}` } });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };

  /** The newest page (cached path) after asserting it equals the uncached page byte for byte. */
  const newest = async (channelId: string, limit = 50) => {
    const cached = await raw(ann, `/api/channels/${channelId}/messages?limit=${limit}`);
    const direct = await raw(ann, `/api/channels/${channelId}/messages?limit=${limit}&before=${PAST_END}`);
    assert.equal(cached.status, 200, cached.text);
    assert.equal(cached.type, 'application/json; charset=utf-8');
    assert.equal(cached.text, direct.text, 'the cached page is the uncached page, byte for byte');
    return JSON.parse(cached.text).messages as any[];
  };

  const pages = () => srv.running.services.messages.pages;

  it('shows every write at once and equals the uncached page after each', async () => {
    const ch = await createChannel(ann.api, unique('hp'));
    ok(await bob.api.post(`/api/channels/${ch.id}/join`), 200, 'join');
    const root = await send(ann.api, ch.id, 'root');
    assert.deepEqual(
      (await newest(ch.id)).map((m) => m.text),
      ['root'],
    );

    const hits = pages().hits;
    await newest(ch.id);
    await newest(ch.id);
    if (srv.backend === 'sqlite') assert.ok(pages().hits >= hits + 2, `repeated reads hit the cache (${hits} → ${pages().hits})`);
    else assert.equal(pages().size().entries, 0, 'PostgreSQL pages are never kept');

    await send(bob.api, ch.id, 'second');
    assert.deepEqual(
      (await newest(ch.id)).map((m) => m.text),
      ['second', 'root'],
      'send',
    );

    ok(await ann.api.patch(`/api/messages/${root.id}`, { text: 'root, edited' }), 200, 'edit');
    assert.equal((await newest(ch.id))[1].text, 'root, edited', 'edit');

    ok(await bob.api.put(`/api/messages/${root.id}/reactions/tada`), 200, 'react');
    assert.deepEqual(
      (await newest(ch.id))[1].reactions.map((r: any) => [r.emoji, r.count]),
      [['tada', 1]],
      'reaction added',
    );
    ok(await bob.api.del(`/api/messages/${root.id}/reactions/tada`), 200, 'unreact');
    assert.deepEqual((await newest(ch.id))[1].reactions, [], 'reaction removed');

    await send(bob.api, ch.id, 'a reply', { parentId: root.id });
    const afterReply = await newest(ch.id);
    assert.equal(afterReply.find((m) => m.id === root.id).replyCount, 1, 'the root counts its reply');

    ok(await ann.api.del(`/api/messages/${root.id}`), 200, 'delete');
    const deleted = (await newest(ch.id)).find((m) => m.id === root.id);
    assert.ok(deleted.deletedAt, 'delete');
    assert.equal(deleted.text, '');
  });

  it('sees a write made by another database connection (the store is not the only writer)', async () => {
    const ch = await createChannel(ann.api, unique('hp'));
    const m = await send(ann.api, ch.id, 'before');
    assert.equal((await newest(ch.id))[0].text, 'before');
    await newest(ch.id);
    if (srv.backend === 'sqlite') {
      const db = new Database(join(srv.running.config.dataDir, 'nchat.db'));
      try {
        db.pragma('busy_timeout = 5000');
        db.prepare('UPDATE messages SET text = ? WHERE id = ?').run('changed outside', m.id);
      } finally {
        db.close();
      }
    } else {
      const c = new pg.Client({ connectionString: srv.running.config.databaseUrl });
      await c.connect();
      try {
        await c.query('UPDATE messages SET text = $1 WHERE id = $2', ['changed outside', m.id]);
      } finally {
        await c.end();
      }
    }
    assert.equal((await newest(ch.id))[0].text, 'changed outside');
  });

  it('keeps a page per limit', async () => {
    const ch = await createChannel(ann.api, unique('hp'));
    for (const t of ['one', 'two', 'three']) await send(ann.api, ch.id, t);
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(
        (await newest(ch.id, 2)).map((m) => m.text),
        ['three', 'two'],
      );
      assert.deepEqual(
        (await newest(ch.id, 3)).map((m) => m.text),
        ['three', 'two', 'one'],
      );
    }
  });

  it('ETag: If-None-Match gives 304 until the page changes (SQLite); no tag on PostgreSQL', async () => {
    const ch = await createChannel(ann.api, unique('hp'), 'private');
    await send(ann.api, ch.id, 'one');
    const path = `/api/channels/${ch.id}/messages?limit=50`;
    const get = (u: TestUser, headers: Record<string, string> = {}) =>
      fetch(srv.running.url + path, { headers: { authorization: `Bearer ${u.token}`, ...headers } });
    const first = await get(ann);
    const etag = first.headers.get('etag');
    await first.text();
    if (srv.backend === 'postgres') {
      assert.equal(etag, null, 'PostgreSQL pages carry no tag');
      const any = await get(ann, { 'if-none-match': '*' });
      assert.equal(any.status, 200, 'no tag: the precondition is not applied');
      assert.equal(JSON.parse(await any.text()).messages[0].text, 'one');
      return;
    }
    assert.ok(etag && /^"h\./.test(etag), `a strong tag: ${etag}`);
    assert.equal(first.headers.get('cache-control'), 'private, no-cache');
    for (const given of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const r = await get(ann, { 'if-none-match': given });
      assert.equal(r.status, 304, `If-None-Match: ${given}`);
      assert.equal(await r.text(), '', '304 has no body');
      assert.equal(r.headers.get('etag'), etag);
    }
    const other = await get(ann, { 'if-none-match': '"something else"' });
    assert.equal(other.status, 200);
    await other.text();
    // Authorization before the precondition: the tag tells an outsider nothing.
    const outsider = await get(bob, { 'if-none-match': etag });
    assert.equal(outsider.status, 404);
    await outsider.text();
    // Another limit is another page, with its own tag.
    const two = await fetch(`${srv.running.url}/api/channels/${ch.id}/messages?limit=2`, {
      headers: { authorization: `Bearer ${ann.token}`, 'if-none-match': etag },
    });
    assert.equal(two.status, 200);
    assert.notEqual(two.headers.get('etag'), etag);
    await two.text();
    // A change gives a new tag and the new page.
    await send(ann.api, ch.id, 'two');
    const changed = await get(ann, { 'if-none-match': etag });
    assert.equal(changed.status, 200, 'the page changed');
    assert.notEqual(changed.headers.get('etag'), etag);
    assert.deepEqual(
      JSON.parse(await changed.text()).messages.map((m: any) => m.text),
      ['two', 'one'],
    );
  });

  it('authorizes every request: an outsider gets 404 for a private channel whose page is cached', async () => {
    const ch = await createChannel(ann.api, unique('hp'), 'private');
    await send(ann.api, ch.id, 'secret');
    await newest(ch.id);
    await newest(ch.id);
    for (let i = 0; i < 2; i++) assertError(await bob.api.get(`/api/channels/${ch.id}/messages?limit=50`), 404, 'NOT_FOUND', 'outsider');
    // A member who leaves loses the page with the membership.
    ok(await ann.api.post(`/api/channels/${ch.id}/members`, { userIds: [bob.id] }), 200, 'add bob');
    assert.equal(ok(await bob.api.get(`/api/channels/${ch.id}/messages?limit=50`)).messages[0].text, 'secret');
    ok(await bob.api.post(`/api/channels/${ch.id}/leave`), 204, 'leave');
    assertError(await bob.api.get(`/api/channels/${ch.id}/messages?limit=50`), 404, 'NOT_FOUND', 'after leaving');
  });
});
