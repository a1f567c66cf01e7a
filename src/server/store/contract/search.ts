// SearchStore contract (search-store.ts), on both backends. The store is shared with the rest
// of the suite, so every test writes words made unique per run (w()) into channels of its own.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newId } from '../../ids.js';
import type { SearchSpec } from '../../search/ast.js';
import type { SearchBounds } from '../search-store.js';
import type { Store } from '../store.js';
import type { Channel, User } from '../types.js';
import { type Ctx, mkChannel, mkUser, newMsg, nextAt, searchSpec, uniq } from './fixtures.js';

const bounds: SearchBounds = { window: 500, timeoutMs: 5000 };

/** A word no other test (or run) writes: letters only, so every backend sees one token. */
const w = () => uniq('w').replace(/[0-9]/g, (d) => 'abcdefghij'[Number(d)]!);

const spec = searchSpec;

/** Backdated messages get ids of their time, as every writer must (ids.ts; search-store.ts). */
async function send(s: Store, ch: Channel, author: User, text: string, over: Parameters<typeof newMsg>[2] = {}) {
  // Strictly increasing times (a second apart), so "newest first" is one order on both backends
  // (two ids of one millisecond are ordered by their random tail).
  const createdAt = over.createdAt ?? nextAt();
  return (await s.messages.create(newMsg(ch, author, { id: newId(Date.parse(createdAt)), text, ...over, createdAt }))).message;
}

const texts = (r: { hits: { message: { text: string } }[] }) => r.hits.map((h) => h.message.text).sort();

export function searchContract(ctx: Ctx): void {
  describe('search', () => {
    it('words, phrases, prefixes and exclusions; case and accents folded', async () => {
      const s = ctx.store;
      const a = await mkUser(s);
      const ch = await mkChannel(s, a);
      const [x, y, z] = [w(), w(), w()];
      await send(s, ch, a, `${x} ${y} alpha`);
      await send(s, ch, a, `${y} ${x} beta`);
      await send(s, ch, a, `${x.toUpperCase()} café ${z}tail`);
      const find = async (q: string) => texts(await s.search.search(spec(a.id, q), bounds));
      assert.equal((await find(x)).length, 3, 'a word, any case');
      assert.deepEqual(await find(`"${x} ${y}"`), [`${x} ${y} alpha`]);
      assert.deepEqual(await find(`${x} -${y}`), [`${x.toUpperCase()} café ${z}tail`]);
      assert.deepEqual(await find(`${x} -"${y} ${x}"`), [`${x.toUpperCase()} café ${z}tail`, `${x} ${y} alpha`].sort());
      assert.deepEqual(await find(`${z}ta*`), [`${x.toUpperCase()} café ${z}tail`]);
      assert.deepEqual(await find(`cafe ${x}`), [`${x.toUpperCase()} café ${z}tail`], 'cafe finds café');
      assert.deepEqual(await find(`CAFÉ ${z}TAIL`), [`${x.toUpperCase()} café ${z}tail`]);
      assert.deepEqual(await find(`${x} ${w()}`), [], 'every word must match');
    });

    it('only channels the caller is a member of, also in suggestTerms', async () => {
      const s = ctx.store;
      const [owner, member, outsider] = [await mkUser(s), await mkUser(s), await mkUser(s)];
      const priv = await mkChannel(s, owner, { type: 'private', members: [member] });
      const pub = await mkChannel(s, owner, { type: 'public' });
      const secret = w();
      await send(s, priv, owner, `${secret} plans`);
      await send(s, pub, owner, `${secret} public`);
      const seen = await s.search.search(spec(member.id, secret), bounds);
      assert.deepEqual(texts(seen), [`${secret} plans`]);
      assert.deepEqual(seen.hits[0]!.channel, { id: priv.id, name: priv.name, type: 'private' });
      assert.deepEqual(seen.hits[0]!.author, { id: owner.id, username: owner.username, displayName: owner.displayName });
      assert.deepEqual(texts(await s.search.search(spec(owner.id, secret), bounds)).length, 2);
      const out = await s.search.search(spec(outsider.id, secret), bounds);
      assert.deepEqual(out.hits, [], 'not a member of either: public channels not joined are not searched');
      assert.equal(out.total, 0);
      // An in: filter naming a channel the caller is not in finds nothing.
      assert.deepEqual((await s.search.search(spec(outsider.id, secret, { channelIds: [priv.id] }), bounds)).hits, []);
      // Suggest: a word only in the private channel is never suggested to the outsider.
      const pre = secret.slice(0, 9);
      assert.deepEqual(await s.search.suggestTerms(outsider.id, pre, 10, 100), []);
      assert.deepEqual(await s.search.suggestTerms(member.id, pre, 10, 100), [{ term: secret, count: 1 }]);
      assert.deepEqual(await s.search.suggestTerms(owner.id, pre, 10, 100), [{ term: secret, count: 2 }]);
      // Leaving: gone at once.
      await s.channels.removeMember(priv.id, member.id);
      assert.deepEqual((await s.search.search(spec(member.id, secret), bounds)).hits, []);
    });

    it('edits and deletes show at once', async () => {
      const s = ctx.store;
      const a = await mkUser(s);
      const ch = await mkChannel(s, a);
      const [before, after] = [w(), w()];
      const m = await send(s, ch, a, `${before} text`);
      assert.equal((await s.search.search(spec(a.id, before), bounds)).hits.length, 1);
      await s.messages.update(m.id, `${after} text`, { userIds: [], channel: false, here: false }, new Date().toISOString());
      assert.deepEqual((await s.search.search(spec(a.id, before), bounds)).hits, [], 'old text gone');
      const hit = (await s.search.search(spec(a.id, after), bounds)).hits;
      assert.deepEqual(
        hit.map((h) => [h.message.id, h.message.text]),
        [[m.id, `${after} text`]],
      );
      await s.messages.softDelete(m.id, new Date().toISOString());
      assert.deepEqual((await s.search.search(spec(a.id, after), bounds)).hits, [], 'deleted');
      assert.deepEqual(await s.search.suggestTerms(a.id, after.slice(0, 9), 10, 100), []);
    });

    it('filters: in:, from:, dates, is:thread, has:link', async () => {
      const s = ctx.store;
      const [a, b] = [await mkUser(s), await mkUser(s)];
      const c1 = await mkChannel(s, a, { members: [b] });
      const c2 = await mkChannel(s, a, { members: [b] });
      const k = w();
      const root = await send(s, c1, a, `${k} root`, { createdAt: '2025-03-10T12:00:00.000Z' });
      await send(s, c1, b, `${k} reply`, { parentId: root.id, createdAt: '2025-03-11T12:00:00.000Z' });
      await send(s, c2, b, `${k} see https://example.com/x`, { createdAt: '2025-03-12T12:00:00.000Z' });
      await send(s, c2, a, `${k} plain`, { createdAt: '2025-03-13T12:00:00.000Z' });
      const find = async (q: string, over: Partial<SearchSpec> = {}) => texts(await s.search.search(spec(b.id, q, over), bounds));
      assert.deepEqual(await find(k, { channelIds: [c2.id] }), [`${k} plain`, `${k} see https://example.com/x`]);
      assert.deepEqual(await find(k, { authorIds: [a.id] }), [`${k} plain`, `${k} root`]);
      assert.deepEqual(await find(k, { authorIds: [a.id], channelIds: [c1.id] }), [`${k} root`]);
      assert.deepEqual(await find(`${k} before:2025-03-11`), [`${k} root`]);
      assert.deepEqual(await find(`${k} after:2025-03-11`), [`${k} plain`, `${k} see https://example.com/x`]);
      assert.deepEqual(await find(`${k} on:2025-03-11`), [`${k} reply`]);
      assert.deepEqual(await find(`${k} is:thread`), [`${k} reply`, `${k} root`]);
      assert.deepEqual(await find(`${k} has:link`), [`${k} see https://example.com/x`]);
      assert.deepEqual(await find(`${k} has:file`), []);
      // Filters without words: from: alone, in: with a date.
      assert.deepEqual(texts(await s.search.search(spec(b.id, '', { authorIds: [a.id], channelIds: [c1.id, c2.id] }), bounds)), [
        `${k} plain`,
        `${k} root`,
      ]);
    });

    it('pages: offset over one ranked window, a snapshot keeps later sends out, total counts', async () => {
      const s = ctx.store;
      const a = await mkUser(s);
      const ch = await mkChannel(s, a);
      const k = w();
      for (let i = 0; i < 7; i++) await send(s, ch, a, `${k} n${i}`);
      const first = await s.search.search(spec(a.id, k, { sort: 'recent', limit: 3 }), bounds);
      assert.deepEqual(
        first.hits.map((h) => h.message.text),
        [`${k} n6`, `${k} n5`, `${k} n4`],
      );
      assert.equal(first.total, 7);
      assert.equal(first.totalExact, true);
      await send(s, ch, a, `${k} late`);
      const second = await s.search.search(spec(a.id, k, { sort: 'recent', limit: 3, offset: 3, snapshot: first.snapshot }), bounds);
      assert.deepEqual(
        second.hits.map((h) => h.message.text),
        [`${k} n3`, `${k} n2`, `${k} n1`],
      );
      const small = await s.search.search(spec(a.id, k, { limit: 2 }), { ...bounds, window: 4 });
      assert.equal(small.total, 4);
      assert.equal(small.totalExact, false, 'a full window says the count is a lower bound');
    });

    it('ranking: more of the words first; between equals, the newer', async () => {
      const s = ctx.store;
      const a = await mkUser(s);
      const ch = await mkChannel(s, a);
      const k = w();
      const filler = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor';
      const weak = await send(s, ch, a, `${k} ${filler} ${filler}`);
      const strong = await send(s, ch, a, `${k} ${k} ${k} release notes`);
      const older = await send(s, ch, a, `${k} ${k} ${k} release notes`, { createdAt: '2024-01-01T00:00:00.000Z' });
      const r = await s.search.search(spec(a.id, k), bounds);
      assert.deepEqual(
        r.hits.map((h) => h.message.id),
        [strong.id, older.id, weak.id],
      );
      assert.ok(r.hits[0]!.score > r.hits[2]!.score);
      void weak;
    });

    it('hostile text terms are data, not syntax', async () => {
      const s = ctx.store;
      const a = await mkUser(s);
      const ch = await mkChannel(s, a);
      const k = w();
      await send(s, ch, a, `${k} near or and not`);
      const hostile = [
        `${k} NEAR(a b) OR "x" AND *`,
        `${k} "unbalanced`,
        `${k} ') OR 1=1; DROP TABLE messages; --`,
        `${k} {text}:x ch:* ^a a+b`,
        `${k} \\' \\\\ :* <-> ! & |`,
        `${k} 😀 שלום مرحبا 東京 ${'x'.repeat(300)}`,
        `-${k}`,
      ];
      for (const q of hostile) {
        const p = spec(a.id, q);
        if (p.include.length === 0) continue;
        await s.search.search(p, bounds);
      }
      assert.deepEqual(texts(await s.search.search(spec(a.id, `${k} near or and not`), bounds)), [`${k} near or and not`]);
      assert.equal((await s.messages.history(ch.id, { limit: 10 })).length, 1, 'nothing dropped');
    });

    it('pauseIndexing / resumeIndexing / stats', async () => {
      const s = ctx.store;
      const a = await mkUser(s);
      const ch = await mkChannel(s, a);
      const k = w();
      const before = await s.search.stats();
      await s.search.pauseIndexing();
      await s.search.pauseIndexing();
      try {
        for (let i = 0; i < 3; i++) await s.messages.create({ ...newMsg(ch, a, { text: `${k} bulk ${i}` }), id: newId() });
      } finally {
        await s.search.resumeIndexing();
      }
      await s.search.resumeIndexing();
      assert.equal((await s.search.search(spec(a.id, k), bounds)).hits.length, 3);
      await send(s, ch, a, `${k} after`);
      assert.equal((await s.search.search(spec(a.id, k), bounds)).hits.length, 4, 'per-row maintenance is back');
      const after = await s.search.stats();
      assert.ok(after.documents >= before.documents + 4, `${after.documents} ≥ ${before.documents} + 4`);
      assert.ok(after.indexBytes > 0);
    });
  });
}
