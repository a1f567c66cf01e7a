// The candidates' text cache (search-texts.ts): bounded, cleared by the store's edit count, and
// an edit re-ranks at once, on the main connection and through the reader threads.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newId } from '../../ids.js';
import type { Store } from '../store.js';
import type { Channel, User } from '../types.js';
import { mkChannel, mkUser, newMsg, searchSpec } from '../contract/fixtures.js';
import { openSqliteStore } from './index.js';
import { rank, scoredTokens } from '../../search/rank.js';
import { ENTRY_COST, SearchTexts, TOKEN_COST } from './search-texts.js';

describe('SearchTexts', () => {
  it('keeps texts up to its bound; the least recently used go first', () => {
    // Each text costs its length plus ENTRY_COST: four of these fill half of the bound.
    const unit = 4 + ENTRY_COST;
    const c = new SearchTexts(unit * 4);
    c.sync(0);
    c.set('a', 'aaaa');
    c.set('b', 'bbbb');
    c.set('c', 'cccc');
    assert.equal(c.get('a'), 'aaaa', 'a and b moved to the old half; a is used again');
    c.set('d', 'dddd');
    c.set('e', 'eeee');
    assert.equal(c.get('b'), undefined, 'b was not used since: dropped with its half');
    assert.equal(c.get('a'), 'aaaa');
    assert.equal(c.get('e'), 'eeee');
    c.set('big', 'x'.repeat(unit * 2 - ENTRY_COST + 1));
    assert.equal(c.get('big'), undefined, 'a text above half the bound is not kept');
    for (let i = 0; i < 1000; i++) c.set(`m${i}`, 'zzzz');
    assert.ok(c.size <= 4, `at most the bound in texts (${c.size} kept)`);
    assert.equal(c.get('m999'), 'zzzz');
  });

  it('empty texts are bounded too (each costs ENTRY_COST)', () => {
    const c = new SearchTexts(ENTRY_COST * 10);
    c.sync(0);
    for (let i = 0; i < 1000; i++) c.set(`e${i}`, '');
    assert.ok(c.size <= 10, `${c.size} kept`);
    assert.equal(c.get('e999'), '');
  });

  it("keeps a cached text's scored tokens: made once, and only for that text", () => {
    const c = new SearchTexts();
    c.sync(0);
    c.set('a', 'Café OLÉ, café!');
    const first = c.scoredTokens('a', 'Café OLÉ, café!');
    assert.deepEqual(first, ['cafe', 'ole', 'cafe']);
    assert.equal(c.scoredTokens('a', 'Café OLÉ, café!'), first, 'the kept array, not a new one');
    assert.deepEqual(c.scoredTokens('a', 'other words'), ['other', 'words'], 'another text for the id: its own tokens');
    assert.equal(c.scoredTokens('a', 'Café OLÉ, café!'), first, 'which replace nothing');
    const notCached = c.scoredTokens('b', 'kiwi kiwi');
    assert.deepEqual(notCached, ['kiwi', 'kiwi']);
    assert.notEqual(c.scoredTokens('b', 'kiwi kiwi'), notCached, 'a text not cached is tokenized anew each time');
    c.sync(1);
    assert.equal(c.get('a'), undefined);
    c.set('a', 'Café OLÉ, café!');
    assert.notEqual(c.scoredTokens('a', 'Café OLÉ, café!'), first, 'cleared with the texts');
  });

  it('kept tokens count against the bound', () => {
    // 'ab cd' costs 5 + ENTRY_COST; its tokens 2 × (2 + TOKEN_COST) more.
    const text = 'ab cd';
    const withTokens = text.length + ENTRY_COST + 2 * (2 + TOKEN_COST);
    const c = new SearchTexts(withTokens * 2 * 3); // three texts with their tokens per half
    c.sync(0);
    for (let i = 0; i < 6; i++) c.set(`t${i}`, text);
    assert.equal(c.size, 6, 'without tokens, six texts in two halves');
    const d = new SearchTexts(withTokens * 2 * 3);
    d.sync(0);
    for (let i = 0; i < 12; i++) {
      d.set(`t${i}`, text);
      d.scoredTokens(`t${i}`, text);
    }
    assert.ok(d.size <= 6, `with tokens, at most three per half (${d.size} kept)`);
    assert.equal(d.get('t11'), text);
  });

  it('rank() gives the same order and scores with kept tokens as without', () => {
    const now = Date.parse('2026-12-02T00:00:00Z');
    const texts = ['kiwi', 'kiwi kiwi banana', 'a long text about a kiwi and other fruit', 'KIWÍ kiwi'];
    const cands = texts.map((text, i) => ({ id: `m${i}`, text, createdAtMs: now - i * 86_400_000, order: i }));
    const terms = [{ kind: 'word' as const, tokens: ['kiwi'], source: 'kiwi' }];
    const plain = rank(cands, terms, 'relevance', now);
    const kept = rank(
      cands.map((c) => ({ ...c, tokens: scoredTokens(c.text) })),
      terms,
      'relevance',
      now,
    );
    assert.deepEqual(kept, plain);
    assert.equal(plain[0].id, 'm3');
  });

  it('is cleared when the edit count moves, not otherwise', () => {
    const c = new SearchTexts();
    c.sync(3);
    c.set('a', 'old');
    c.sync(3);
    assert.equal(c.get('a'), 'old');
    c.sync(4);
    assert.equal(c.get('a'), undefined);
    assert.equal(c.size, 0);
  });
});

for (const readers of [0, 2]) {
  describe(`SQLite search ranks by edited texts at once (${readers ? 'reader threads' : 'main connection'})`, () => {
    let dir: string;
    let store: Store;
    let me: User;
    let ch: Channel;
    const spec = (q: string) => searchSpec(me.id, q);

    const bounds = { window: 100, timeoutMs: 0 };
    const order = async (q: string) => (await store.search.search(spec(q), bounds)).hits.map((h) => h.message.text);

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'nchat-search-texts-'));
      store = await openSqliteStore({ file: join(dir, 'x.db'), sync: 'normal', searchReaders: readers });
      await store.migrate();
      me = await mkUser(store);
      ch = await mkChannel(store, me);
      if (readers) {
        // The first search starts the readers; wait until they answer (search-readers.test.ts).
        await store.search.search(spec('warm'), bounds);
        const rs = (store.search as any).readers.readers as { ready: boolean }[];
        for (let i = 0; i < 600 && !rs.every((r) => r.ready); i++) await new Promise((r) => setTimeout(r, 50));
        assert.ok(rs.every((r) => r.ready));
      }
    });

    after(async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('an edit that adds the word twice moves its message first', async () => {
      const send = async (text: string) =>
        (await store.messages.create(newMsg(ch, me, { id: newId(), text, createdAt: new Date().toISOString() }))).message;
      const older = await send('kiwi one');
      await send('kiwi two');
      // Every reader has ranked (and kept) both texts.
      for (let i = 0; i < 4; i++) assert.deepEqual(await order('kiwi'), ['kiwi two', 'kiwi one']);
      await store.messages.update(older.id, 'kiwi kiwi kiwi', { userIds: [], channel: false, here: false }, new Date().toISOString());
      for (let i = 0; i < 4; i++) assert.deepEqual(await order('kiwi'), ['kiwi kiwi kiwi', 'kiwi two']);
    });
  });
}
