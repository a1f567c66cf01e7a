// SQLite search's plan choice (search.ts): the caller's channels leave the MATCH when they carry
// most of the newest docs. Whichever plan runs, a search answers the same: the newest window of
// matches the caller can read, and a walk that stops at SCAN_MAX among matches the caller cannot
// read falls back to the channel tokens instead of answering short.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { newId } from '../../ids.js';
import type { Store } from '../store.js';
import type { Channel, User } from '../types.js';
import { mkChannel, mkUser, newMsg, searchSpec } from '../contract/fixtures.js';
import { openSqliteStore } from './index.js';
import { recentShare, SCAN_MAX, SHARE_SAMPLE, TOKENS_SKIP_SHARE } from './search.js';

const bounds = { window: 100, timeoutMs: 0 };

const spec = searchSpec;

describe('recentShare', () => {
  const recent = (a: number, b: number) => [...Array(a).fill('a'), ...Array(b).fill('b')];
  it('is the share of the newest docs in the given channels', () => {
    assert.equal(recentShare(recent(192, 64), ['a']), 0.75);
    assert.equal(recentShare(recent(192, 64), ['a', 'b', 'c']), 1);
    assert.equal(recentShare(recent(0, 256), ['a']), 0);
  });
  it('is 0 (keep the tokens) when too few docs exist to tell', () => {
    assert.equal(recentShare(recent(SHARE_SAMPLE / 4 - 1, 0), ['a']), 0);
    assert.equal(recentShare(recent(SHARE_SAMPLE / 4, 0), ['a']), 1);
  });
});

describe('SQLite search plan', () => {
  let dir: string;
  let store: Store;
  let file: string;
  let me: User;
  let other: User;
  let mine: Channel;
  let mine2: Channel;
  let theirs: Channel;
  const send = async (ch: Channel, author: User, text: string) =>
    (await store.messages.create(newMsg(ch, author, { id: newId(), text, createdAt: new Date().toISOString() }))).message;
  /** The share the plan choice sees for `me`, read from the file as the store reads it. */
  const myShare = () => {
    const db = new Database(file, { readonly: true });
    try {
      const recent = db.prepare('SELECT channel_id FROM search_docs ORDER BY id DESC LIMIT ?').pluck().all(SHARE_SAMPLE) as string[];
      return recentShare(recent, [mine.id, mine2.id]);
    } finally {
      db.close();
    }
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nchat-search-plan-'));
    file = join(dir, 'x.db');
    // No reader threads: the plan is the same there, and the test stays on one connection.
    store = await openSqliteStore({ file, sync: 'normal', searchReaders: 0 });
    await store.migrate();
    me = await mkUser(store);
    other = await mkUser(store);
    mine = await mkChannel(store, me);
    mine2 = await mkChannel(store, me);
    theirs = await mkChannel(store, other);
  });

  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a caller whose channels carry the traffic: the same window as the token plan', async () => {
    const sent: string[] = [];
    for (let i = 0; i < 300; i++) {
      const ch = i % 3 === 0 ? theirs : i % 3 === 1 ? mine : mine2;
      const m = await send(ch, ch === theirs ? other : me, `common word${i % 7} n${i}`);
      if (ch !== theirs) sent.push(m.id);
    }
    await store.search.flushIndex?.();
    assert.ok(myShare() >= TOKENS_SKIP_SHARE, `the share (${myShare()}) skips the tokens`);
    const plain = await store.search.search(spec(me.id, 'common', { limit: 100 }), bounds);
    // Naming the caller's channels (in:) always puts them in the MATCH: the token plan.
    const tokens = await store.search.search(spec(me.id, 'common', { limit: 100, channelIds: [mine.id, mine2.id] }), bounds);
    assert.equal(plain.hits.length, 100);
    assert.deepEqual(
      plain.hits.map((h) => h.message.id),
      tokens.hits.map((h) => h.message.id),
    );
    assert.equal(plain.total, tokens.total);
    assert.ok(plain.hits.every((h) => sent.includes(h.message.id)));
  });

  it('a walk stopped at SCAN_MAX among unreadable matches falls back to the tokens', async () => {
    const needle = await send(mine, me, 'needle rare');
    // More than SCAN_MAX newer matches of "needle" in a channel the caller is not in...
    // (64 at a time: the store groups concurrent sends into one transaction.)
    for (let i = 0; i <= SCAN_MAX; i += 64) {
      await Promise.all(Array.from({ length: 64 }, (_, k) => send(theirs, other, `needle filler ${i + k}`)));
    }
    // ...then enough of the caller's own traffic that the newest docs are theirs.
    for (let i = 0; i < SHARE_SAMPLE; i++) await send(mine, me, `chatter ${i}`);
    await store.search.flushIndex?.();
    assert.ok(myShare() >= TOKENS_SKIP_SHARE, `the share (${myShare()}) skips the tokens`);
    const r = await store.search.search(spec(me.id, 'needle'), bounds);
    assert.deepEqual(
      r.hits.map((h) => h.message.id),
      [needle.id],
    );
    assert.equal(r.total, 1);
    assert.equal(r.totalExact, true);
  });
});
