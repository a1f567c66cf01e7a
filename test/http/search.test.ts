// Search over real HTTP on both backends (issue 10): the reply's shape (message, channel, author,
// snippet offsets), operators in q and as parameters, permission filtering (search and suggest),
// edits and deletes at once, cursors to the end, has:file/image, and the per-kind /metrics series.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import sharp from 'sharp';
import { upload } from '../helpers/files.js';
import { forEachBackend, unique, type TestServer, type TestUser } from '../helpers/server.js';
import { ok, send } from './util.js';

const METRICS_TOKEN = 'search-test-metrics-token';

/** A word no other test writes: letters and digits only (one token in both indexes). */
const word = (p = 'kw') => unique(p).toLowerCase();

async function channel(owner: TestUser, name: string, type: 'public' | 'private', members: TestUser[] = []) {
  const ch = ok(await owner.api.post('/api/channels', { name, type }), 201);
  if (members.length) ok(await owner.api.post(`/api/channels/${ch.id}/members`, { userIds: members.map((m) => m.id) }));
  return ch as { id: string; name: string };
}

const q = (s: string) => encodeURIComponent(s);
const search = async (u: TestUser, query: string) => ok(await u.api.get(`/api/search?${query}`), 200, query);
const texts = (r: { results: { message: { text: string } }[] }) => r.results.map((x) => x.message.text).sort();

async function users(srv: TestServer, n: number) {
  const out: TestUser[] = [];
  for (let i = 0; i < n; i++) out.push(await srv.user('s'));
  return out;
}

await forEachBackend(
  'search',
  (ctx) => {
    it('a hit carries the message, its channel, its author and a snippet with the matched words', async () => {
      const srv = ctx.server();
      const [a] = await users(srv, 1);
      const k = word();
      const ch = await channel(a, unique('gen'), 'public');
      const m = await send(a.api, ch.id, `Déjà vu: the ${k.toUpperCase()} report is ready`);
      const r = await search(a, `q=${q(`${k} deja`)}`);
      assert.equal(r.results.length, 1);
      const hit = r.results[0];
      assert.equal(hit.message.id, m.id);
      assert.deepEqual(hit.channel, { id: ch.id, name: ch.name, type: 'public' });
      assert.deepEqual(hit.author, { id: a.id, username: a.username, displayName: a.username });
      const marked = hit.snippet.highlights.map((h: { start: number; end: number }) => hit.snippet.text.slice(h.start, h.end));
      assert.deepEqual(marked, ['Déjà', k.toUpperCase()]);
      assert.equal(r.total, 1);
      assert.equal(r.totalExact, true);
      assert.equal(r.nextCursor, null);
      assert.deepEqual(r.ignored, []);
      // A long text: a window around the first match, cut with ellipses.
      const long = `${'lead '.repeat(100)}${k}zz ${'tail '.repeat(100)}`;
      await send(a.api, ch.id, long);
      const s = (await search(a, `q=${q(`${k}zz`)}`)).results[0].snippet;
      assert.ok(s.text.startsWith('…') && s.text.endsWith('…') && s.text.length < 300, s.text);
      assert.equal(s.text.slice(s.highlights[0].start, s.highlights[0].end), `${k}zz`);
    });

    it('operators in q and as parameters: from:, in:, before:/after:/on:, is:thread, has:link; unknown values listed in ignored', async () => {
      const srv = ctx.server();
      const [a, b] = await users(srv, 2);
      const k = word();
      const c1 = await channel(a, unique('ops'), 'public', [b]);
      const c2 = await channel(a, unique('ops'), 'private', [b]);
      const root = await send(a.api, c1.id, `${k} root`);
      await send(b.api, c1.id, `${k} reply`, { parentId: root.id });
      await send(b.api, c2.id, `${k} link https://example.com/a`);
      await send(a.api, c2.id, `${k} plain`);
      assert.deepEqual(texts(await search(b, `q=${q(`${k} from:@${a.username}`)}`)), [`${k} plain`, `${k} root`]);
      assert.deepEqual(texts(await search(b, `q=${q(k)}&from=${a.username}`)), [`${k} plain`, `${k} root`]);
      assert.deepEqual(texts(await search(b, `q=${q(`${k} in:#${c2.name}`)}`)), [`${k} link https://example.com/a`, `${k} plain`]);
      assert.deepEqual(texts(await search(b, `q=${q(k)}&channelId=${c1.id}`)), [`${k} reply`, `${k} root`]);
      assert.deepEqual(texts(await search(b, `q=${q(`${k} is:thread`)}`)), [`${k} reply`, `${k} root`]);
      assert.deepEqual(texts(await search(b, `q=${q(`${k} has:link`)}`)), [`${k} link https://example.com/a`]);
      assert.deepEqual(texts(await search(b, `q=${q(k)}&has=link`)), [`${k} link https://example.com/a`]);
      const today = new Date().toISOString().slice(0, 10);
      assert.equal((await search(b, `q=${q(`${k} on:${today}`)}`)).results.length, 4);
      assert.equal((await search(b, `q=${q(`${k} before:${today}`)}`)).results.length, 0);
      assert.equal((await search(b, `q=${q(k)}&after=${today}`)).results.length, 0);
      assert.equal((await search(b, `q=${q(k)}&before=2999-01-01&after=2000-01-01`)).results.length, 4);
      // Filters alone (no words) are a search too.
      assert.deepEqual(texts(await search(b, `q=${q(`from:@${a.username} in:#${c2.name}`)}`)), [`${k} plain`]);
      // A name nobody has, or a channel the caller is not in: nothing, not an error.
      assert.deepEqual((await search(b, `q=${q(`${k} from:@${word('nobody')}`)}`)).results, []);
      const r = await search(b, `q=${q(`${k} has:video is:urgent before:2026-02-31 from:`)}`);
      assert.equal(r.results.length, 4);
      assert.deepEqual(r.ignored, ['has:video', 'is:urgent', 'before:2026-02-31', 'from:']);
    });

    it('only channels the caller is a member of, in search and in suggest', async () => {
      const srv = ctx.server();
      const [a, member, outsider] = await users(srv, 3);
      const secret = word('secret');
      const priv = await channel(a, unique('hidden'), 'private', [member]);
      await send(a.api, priv.id, `${secret} merger plans`);
      assert.equal((await search(member, `q=${secret}`)).results.length, 1);
      const out = await search(outsider, `q=${secret}`);
      assert.deepEqual([out.results, out.total], [[], 0]);
      assert.deepEqual((await search(outsider, `q=${secret}&channelId=${priv.id}`)).results, []);
      assert.deepEqual((await search(outsider, `q=${q(`${secret} in:#${priv.name}`)}`)).results, []);
      const pre = q(secret.slice(0, 8));
      const sOut = ok(await outsider.api.get(`/api/search/suggest?q=${pre}`));
      assert.deepEqual(sOut.terms, [], 'a word only in a private channel is never suggested to a non-member');
      const sIn = ok(await member.api.get(`/api/search/suggest?q=${pre}`));
      assert.deepEqual(sIn.terms, [{ term: secret, count: 1 }]);
      // Channel names: only the caller's own.
      const chPre = q(`#${priv.name.slice(0, priv.name.length - 1)}`);
      assert.deepEqual(ok(await outsider.api.get(`/api/search/suggest?q=${chPre}`)).channels, []);
      assert.deepEqual(ok(await member.api.get(`/api/search/suggest?q=${chPre}`)).channels, [
        { id: priv.id, name: priv.name, type: 'private' },
      ]);
      // People: the directory.
      const users2 = ok(await outsider.api.get(`/api/search/suggest?q=${q(`@${a.username}`)}`)).users;
      assert.deepEqual(users2, [{ id: a.id, username: a.username, displayName: a.username }]);
    });

    it('an edit is found by its new text at once, a delete is gone at once', async () => {
      const srv = ctx.server();
      const [a] = await users(srv, 1);
      const ch = await channel(a, unique('ed'), 'public');
      const [oldW, newW] = [word('old'), word('new')];
      const m = await send(a.api, ch.id, `${oldW} draft`);
      assert.equal((await search(a, `q=${oldW}`)).results.length, 1);
      ok(await a.api.patch(`/api/messages/${m.id}`, { text: `${newW} final` }));
      assert.equal((await search(a, `q=${oldW}`)).results.length, 0);
      assert.equal((await search(a, `q=${newW}`)).results[0].message.text, `${newW} final`);
      ok(await a.api.del(`/api/messages/${m.id}`));
      assert.equal((await search(a, `q=${newW}`)).results.length, 0);
    });

    it('cursors page to the end without repeats; later sends do not shift the pages', async () => {
      const srv = ctx.server();
      const [a] = await users(srv, 1);
      const ch = await channel(a, unique('pg'), 'public');
      const k = word();
      for (let i = 0; i < 11; i++) await send(a.api, ch.id, `${k} number ${i}`);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const r: any = await search(a, `q=${k}&sort=recent&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...r.results.map((x: { message: { text: string } }) => x.message.text));
        if (pages === 0) await send(a.api, ch.id, `${k} sent after the first page`);
        cursor = r.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      assert.equal(pages, 3);
      // Newest first at millisecond precision (two sends of one millisecond may come either way).
      assert.deepEqual([...seen].sort(), Array.from({ length: 11 }, (_, i) => `${k} number ${i}`).sort());
    });

    it('has:file and has:image', async () => {
      const srv = ctx.server();
      const [a] = await users(srv, 1);
      const ch = await channel(a, unique('hf'), 'public');
      const k = word();
      const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 1, g: 2, b: 3 } } })
        .png()
        .toBuffer();
      const img = await upload(srv.running.url, a, png, { name: 'p.png' });
      const doc = await upload(srv.running.url, a, Buffer.from('just text'), { name: 'n.txt' });
      assert.equal(img.status, 201);
      await send(a.api, ch.id, `${k} with image`, { fileIds: [img.body.id] });
      await send(a.api, ch.id, `${k} with doc`, { fileIds: [doc.body.id] });
      await send(a.api, ch.id, `${k} without`);
      assert.deepEqual(texts(await search(a, `q=${q(`${k} has:file`)}`)), [`${k} with doc`, `${k} with image`]);
      assert.deepEqual(texts(await search(a, `q=${q(`${k} has:image`)}`)), [`${k} with image`]);
    });

    it('/metrics has search latency per kind', async () => {
      const srv = ctx.server();
      const [a] = await users(srv, 1);
      await search(a, `q=${word()}`);
      await search(a, `q=${q(`${word()} is:thread`)}`);
      ok(await a.api.get(`/api/search/suggest?q=ab`));
      const text = await (await fetch(`${srv.running.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
      for (const kind of ['text', 'filtered', 'suggest']) {
        const m = new RegExp(`^nchat_search_duration_seconds_count\\{kind="${kind}"\\} (\\d+)`, 'm').exec(text);
        assert.ok(m && Number(m[1]) >= 1, `${kind} series`);
      }
    });
  },
  { NCHAT_SEARCH_LIMIT: '100000', NCHAT_METRICS_TOKEN: METRICS_TOKEN },
);
