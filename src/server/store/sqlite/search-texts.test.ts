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
import { ENTRY_COST, SearchTexts } from './search-texts.js';

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
