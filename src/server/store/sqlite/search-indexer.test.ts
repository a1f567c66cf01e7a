// SQLite search indexing after commit (search-indexer.ts): what it promises beyond the shared
// contract (contract/search.ts, which runs unchanged on this store): a search sees every send
// acknowledged before it even while indexing is held back, edits and deletes of a message not
// yet indexed are exact, a crash (SIGKILL) between a send's commit and its indexing loses nothing,
// and doc ids stay unique when many messages share a millisecond.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { newId } from '../../ids.js';
import { mkChannel, mkUser, newMsg, searchSpec, uniq } from '../contract/fixtures.js';
import type { Store } from '../store.js';
import type { Channel, User } from '../types.js';
import { openSqliteStore } from './index.js';
import { migrations, runMigrations } from './migrations.js';

const bounds = { window: 2000, timeoutMs: 0 };
const HOUR = 3_600_000;
/** Letters only (one FTS token), unique per call. */
const w = () => uniq('w').replace(/[0-9]/g, (d) => 'abcdefghij'[Number(d)]!);

/** Newest first, 50 a page. */
const spec = (userId: string, q: string) => searchSpec(userId, q, { sort: 'recent', limit: 50 });

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nchat-indexer-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A second, read-only connection: what is on disk, not what the store says. */
function peek<T>(file: string, f: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return f(db);
  } finally {
    db.close();
  }
}
const queued = (file: string) => peek(file, (db) => db.prepare('SELECT count(*) FROM search_pending').pluck().get() as number);
const docsOf = (file: string, ids: string[]) =>
  peek(
    file,
    (db) =>
      db
        .prepare('SELECT count(*) FROM search_docs WHERE message_id IN (SELECT value FROM json_each(?))')
        .pluck()
        .get(JSON.stringify(ids)) as number,
  );

async function crashChild(file: string, n: number, word: string): Promise<{ userId: string; channelId: string; ids: string[] }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./search-indexer.crash-child.ts', import.meta.url)), file, String(n), word],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
  assert.equal(signal, 'SIGKILL', `the child must die by SIGKILL after its sends (stderr: ${err})`);
  return JSON.parse(out);
}

describe('SQLite search indexer', () => {
  it('a kill -9 between the commits and the indexing loses nothing: migrate() on the next start indexes the queue', async () => {
    const file = join(dir, 'crash-migrate.db');
    const word = w();
    const { userId, ids } = await crashChild(file, 50, word);
    // The crash happened where it should: every send committed and queued, none indexed.
    assert.equal(queued(file), 50);
    assert.equal(docsOf(file, ids), 0);
    const store = await openSqliteStore({ file, sync: 'normal', searchReaders: 0, searchIndexDelayMs: HOUR });
    try {
      await store.migrate();
      assert.equal(queued(file), 0, 'migrate() indexed the queue');
      assert.equal(docsOf(file, ids), 50);
      const r = await store.search.search(spec(userId, word), bounds);
      assert.deepEqual(r.hits.map((h) => h.message.id).sort(), [...ids].sort());
    } finally {
      await store.close();
    }
  });

  it('after a crash, an open without migrate() indexes the queue on its own within the delay', async () => {
    const file = join(dir, 'crash-timer.db');
    const word = w();
    const { userId, ids } = await crashChild(file, 20, word);
    assert.equal(queued(file), 20);
    const store = await openSqliteStore({ file, sync: 'normal', searchReaders: 0, searchIndexDelayMs: 10 });
    try {
      for (let i = 0; i < 200 && queued(file) > 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(queued(file), 0, 'the recovery timer indexed the queue without any search');
      assert.equal(docsOf(file, ids), 20);
      assert.equal((await store.search.search(spec(userId, word), bounds)).total, 20);
    } finally {
      await store.close();
    }
  });

  describe('with indexing held back (an hour)', () => {
    let store: Store;
    let file: string;
    let a: User;
    let ch: Channel;
    const send = async (text: string, createdAt = new Date().toISOString()) =>
      (await store.messages.create(newMsg(ch, a, { id: newId(Date.parse(createdAt)), text, createdAt }))).message;
    before(async () => {
      file = join(dir, 'held.db');
      store = await openSqliteStore({ file, sync: 'normal', searchReaders: 2, searchIndexDelayMs: HOUR });
      await store.migrate();
      a = await mkUser(store);
      ch = await mkChannel(store, a);
    });
    after(async () => {
      await store.close();
    });

    it('read-your-writes: a search or suggest sees every acknowledged send, on the reader threads too', async () => {
      await store.search.search(spec(a.id, 'warm'), bounds);
      const readers = (store.search as any).readers.readers as { ready: boolean }[];
      for (let i = 0; i < 600 && !readers.every((r) => r.ready); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(
        readers.every((r) => r.ready),
        'the readers loaded',
      );
      const word = w();
      for (let i = 0; i < 10; i++) {
        const m = await send(`${word} round${i}`);
        assert.equal(queued(file), 1, 'not indexed by the send');
        const r = await store.search.search(spec(a.id, `${word} round${i}`), bounds);
        assert.deepEqual(
          r.hits.map((h) => h.message.id),
          [m.id],
        );
        assert.equal(queued(file), 0);
      }
      await send(`${word}zz once`);
      assert.deepEqual(await store.search.suggestTerms(a.id, `${word}z`, 5, 100), [{ term: `${word}zz`, count: 1 }]);
      const docs = (await store.search.stats()).documents;
      await send(`${word} counted`);
      assert.equal((await store.search.stats()).documents, docs + 1, 'stats counts acknowledged sends');
    });

    it('an edit or a delete before the message is indexed: the index holds the current text, a deleted message never', async () => {
      const [old, edited, gone] = [w(), w(), w()];
      const m = await send(`${old} text`);
      await store.messages.update(m.id, `${edited} text`, { userIds: [], channel: false, here: false }, new Date().toISOString());
      const d = await send(`${gone} text`);
      await store.messages.softDelete(d.id, new Date().toISOString());
      assert.equal(queued(file), 2, 'both still queued');
      assert.deepEqual((await store.search.search(spec(a.id, old), bounds)).hits, []);
      assert.deepEqual(
        (await store.search.search(spec(a.id, edited), bounds)).hits.map((h) => [h.message.id, h.message.text]),
        [[m.id, `${edited} text`]],
      );
      assert.deepEqual((await store.search.search(spec(a.id, gone), bounds)).hits, []);
      assert.equal(docsOf(file, [d.id]), 0, 'no doc for the deleted message');
      // And an edit after indexing still replaces the entry at once.
      const again = w();
      await store.messages.update(m.id, `${again} text`, { userIds: [], channel: false, here: false }, new Date().toISOString());
      assert.deepEqual((await store.search.search(spec(a.id, edited), bounds)).hits, []);
      assert.equal((await store.search.search(spec(a.id, again), bounds)).hits.length, 1);
    });

    it('pause, resume: queued and paused-time sends are indexed once, and the queue is empty', async () => {
      const word = w();
      const queuedIds = [];
      for (let i = 0; i < 3; i++) queuedIds.push((await send(`${word} q${i}`)).id);
      await store.search.pauseIndexing();
      const pausedIds = [];
      try {
        for (let i = 0; i < 2; i++) pausedIds.push((await send(`${word} p${i}`)).id);
        assert.equal(queued(file), 3, 'paused: sends are not queued');
      } finally {
        await store.search.resumeIndexing();
      }
      assert.equal(queued(file), 0);
      assert.equal(docsOf(file, [...queuedIds, ...pausedIds]), 5);
      assert.equal((await store.search.search(spec(a.id, word), bounds)).total, 5);
      await send(`${word} after`);
      assert.equal(queued(file), 1, 'queueing is back');
      assert.equal((await store.search.search(spec(a.id, word), bounds)).total, 6);
    });

    it('doc ids stay unique: 1,030 messages of one millisecond, a backdated one, then more of that millisecond', async () => {
      const word = w();
      const at = '2025-06-01T10:00:00.123Z';
      const base = Date.parse(at) * 1024;
      await Promise.all(Array.from({ length: 1030 }, (_, i) => send(`${word} same ms ${i}`, at)));
      await send(`${word} older`, '2025-05-01T00:00:00.000Z');
      assert.equal((await store.search.search(spec(a.id, word), bounds)).total, 1031);
      for (let i = 0; i < 3; i++) await send(`${word} later same ms ${i}`, at);
      assert.equal((await store.search.search(spec(a.id, word), bounds)).total, 1034);
      const inRange = peek(
        file,
        (db) =>
          db
            .prepare('SELECT count(*) FROM search_docs WHERE id BETWEEN ? AND ?')
            .pluck()
            .get(base, base + 1023) as number,
      );
      assert.equal(inRange, 1024, 'the first 1,024 of the millisecond in its own id range, the rest above every other id');
    });
  });

  it('0008 on a file indexed by the 0004 triggers: old messages stay found and editable, new sends are queued', async () => {
    const file = join(dir, 'upgrade.db');
    const raw = new Database(file);
    const word = w();
    const [uid, cid, mid] = [newId(), newId(), newId()];
    const at = new Date().toISOString();
    try {
      raw.pragma('journal_mode = WAL');
      runMigrations(
        raw,
        migrations.filter((m) => m.id < '0008'),
      );
      raw
        .prepare(
          `INSERT INTO users (id, username, email, display_name, display_name_fold, password_hash, role, created_at) VALUES (?, 'up', 'up@x.test', 'Up', 'up', 'h', 'member', ?)`,
        )
        .run(uid, at);
      raw
        .prepare(
          `INSERT INTO channels (id, type, name, description, created_by, created_at, member_count, dm_key) VALUES (?, 'public', 'up', '', ?, ?, 1, NULL)`,
        )
        .run(cid, uid, at);
      raw.prepare(`INSERT INTO members (channel_id, user_id, role, joined_at) VALUES (?, ?, 'owner', ?)`).run(cid, uid, at);
      raw.prepare(`UPDATE channels SET last_seq = 1 WHERE id = ?`).run(cid);
      raw
        .prepare(
          `INSERT INTO messages (channel_id, seq, id, author_id, text, created_at, parent_id, mention_user_ids, mention_channel) VALUES (?, 1, ?, ?, ?, ?, NULL, NULL, 0)`,
        )
        .run(cid, mid, uid, `${word} before the upgrade`, at);
      assert.equal(raw.prepare('SELECT count(*) FROM search_docs WHERE message_id = ?').pluck().get(mid), 1, 'indexed by the 0004 trigger');
    } finally {
      raw.close();
    }
    const store = await openSqliteStore({ file, sync: 'normal', searchReaders: 0, searchIndexDelayMs: HOUR });
    try {
      assert.ok((await store.migrate()).includes('0008_search_async_index'));
      assert.deepEqual(
        (await store.search.search(spec(uid, word), bounds)).hits.map((h) => h.message.id),
        [mid],
      );
      const sent = (
        await store.messages.create(
          newMsg(cid, { id: uid } as User, { id: newId(), text: `${word} after`, createdAt: new Date().toISOString() }),
        )
      ).message;
      assert.equal(queued(file), 1, 'queued, not indexed in the send');
      assert.equal((await store.search.search(spec(uid, word), bounds)).total, 2);
      const edited = w();
      await store.messages.update(mid, `${edited} edited`, { userIds: [], channel: false, here: false }, new Date().toISOString());
      assert.deepEqual((await store.search.search(spec(uid, `${word} upgrade`), bounds)).hits, []);
      assert.deepEqual(
        (await store.search.search(spec(uid, edited), bounds)).hits.map((h) => h.message.id),
        [mid],
      );
      assert.deepEqual(
        (await store.search.search(spec(uid, word), bounds)).hits.map((h) => h.message.id),
        [sent.id],
      );
    } finally {
      await store.close();
    }
  });

  it('the timer indexes new sends without any search', async () => {
    const file = join(dir, 'timer.db');
    const store = await openSqliteStore({ file, sync: 'normal', searchReaders: 0, searchIndexDelayMs: 10 });
    try {
      await store.migrate();
      const a = await mkUser(store);
      const ch = await mkChannel(store, a);
      const m = (await store.messages.create(newMsg(ch, a, { id: newId(), text: 'timer text', createdAt: new Date().toISOString() })))
        .message;
      for (let i = 0; i < 200 && docsOf(file, [m.id]) === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(docsOf(file, [m.id]), 1);
      assert.equal(queued(file), 0);
      // The totals /metrics exposes (nchat_search_index*_total): the one message, some time.
      const st = store.indexStats!();
      assert.equal(st.indexed, 1);
      assert.ok(st.busySec > 0, `busySec ${st.busySec}`);
    } finally {
      await store.close();
    }
  });
});
