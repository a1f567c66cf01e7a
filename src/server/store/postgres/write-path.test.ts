// The send path without foreign keys on messages and mention rows (0009_pg_write_path): what the
// keys used to guarantee still holds, because the send statement writes only messages of channel
// rows it has locked and updated. Real PostgreSQL (test/helpers/postgres.ts), one fresh database.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { describePostgres, freshPostgres, type FreshPostgres } from '../../../../test/helpers/postgres.js';
import { AppError } from '../../errors.js';
import { newId } from '../../ids.js';
import { toFileObject } from '../file-store.js';
import type { Store } from '../store.js';
import type { CreateMessageResult } from '../types.js';
import type { FileObject } from '../../../protocol/files.js';
import { newFile } from '../contract/files.js';
import { newMsg } from '../contract/fixtures.js';
import { SEND_SESSION_OPTIONS } from './db.js';
import { openPostgresStore } from './index.js';
import type { MessageWriter } from './message-create.js';
import { FILES_PLAIN_SQL, FILES_SQL, FULL_SQL, ONE_PLAIN_SQL, PLAIN_SQL } from './message-sql.js';

const now = () => new Date().toISOString();

await describePostgres('postgres send path (0009_pg_write_path)', () => {
  let db: FreshPostgres;
  let store: Store;
  let sql: pg.Client;
  before(async () => {
    const fresh = await freshPostgres();
    if (!fresh) throw new Error('unreachable: describePostgres skips first');
    db = fresh;
    store = await openPostgresStore({ url: db.url, poolSize: 8 });
    await store.migrate();
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
  });
  after(async () => {
    await sql?.end();
    await store?.close();
    await db?.drop();
  });

  const user = (name: string) =>
    store.users.create({
      id: newId(),
      username: name,
      email: `${name}@example.test`,
      displayName: name,
      passwordHash: 'x',
      createdAt: now(),
    });

  // First: the tables are as empty as a new deployment's when its send connections plan.
  test('the send statements plan no sequential scan, even planned on empty tables (the send pool session settings)', async () => {
    const c = new pg.Client({ connectionString: db.url, options: SEND_SESSION_OPTIONS });
    await c.connect();
    try {
      const one = JSON.stringify([{ idx: 0, id: 'm', channel_id: 'c', author_id: 'a', body: 'b', created_at: now() }]);
      const withFile = JSON.stringify([
        { idx: 0, id: 'm', channel_id: 'c', author_id: 'a', body: 'b', created_at: now(), file_ids: ['f'] },
      ]);
      const statements: [string, string, string][] = [
        ['full', FULL_SQL, `('${one}'::jsonb)`],
        ['plain', PLAIN_SQL, `('${one}'::jsonb)`],
        ['files', FILES_SQL, `('${withFile}'::jsonb)`],
        ['files_plain', FILES_PLAIN_SQL, `('${withFile}'::jsonb)`],
        ['one_plain', ONE_PLAIN_SQL, `('m', 'c', 'a', 'b', NULL, now(), false, false, false)`],
      ];
      for (const [name, text, args] of statements) {
        await c.query(`PREPARE wp_${name} AS ${text}`);
        const plan = (await c.query(`EXPLAIN EXECUTE wp_${name}${args}`)).rows.map((r) => String(r['QUERY PLAN']));
        assert.ok(plan.length > 10, `${name}: a plan`);
        assert.deepEqual(
          plan.filter((l) => /Seq Scan/.test(l)).map((l) => l.trim()),
          [],
          `${name}: every table access is an index probe`,
        );
        if (name.startsWith('files')) {
          assert.ok(
            plan.some((l) => /Index Scan using files_pkey on files/.test(l)),
            `${name}: the files are locked by primary-key probes`,
          );
          assert.deepEqual(
            plan.filter((l) => /files_(unattached|uploader)_idx/.test(l)).map((l) => l.trim()),
            [],
            `${name}: not by scanning every unattached file, or the uploader's, per id`,
          );
        }
      }
    } finally {
      await c.end();
    }
  });

  /** A public channel whose only member is its owner. */
  const ownChannel = async (name: string, ownerId: string) => {
    const ch = await store.channels.create({
      id: newId(),
      type: 'public',
      name,
      description: '',
      topic: '',
      createdBy: ownerId,
      createdAt: now(),
    });
    await store.channels.addMembers(ch.id, [{ userId: ownerId, role: 'owner' }], now());
    return ch;
  };

  test('the send statement checks no foreign key row by row: messages and mention rows have none', async () => {
    const r = await sql.query<{ rel: string; name: string }>(
      `SELECT conrelid::regclass::text AS rel, conname AS name FROM pg_constraint
       WHERE contype = 'f' AND conrelid IN ('messages'::regclass, 'message_mentions'::regclass)`,
    );
    assert.deepEqual(r.rows, []);
    // reactions keeps its key (not the hot path).
    const k = await sql.query(`SELECT 1 FROM pg_constraint WHERE contype = 'f' AND conrelid = 'reactions'::regclass`);
    assert.equal(k.rowCount, 1);
  });

  test('a send to a missing channel writes nothing, alone or in a batch with mentions and notifications', async () => {
    const a = await user('wp_a');
    const b = await user('wp_b');
    const ch = await store.channels.create({
      id: newId(),
      type: 'public',
      name: 'wp',
      description: '',
      topic: '',
      createdBy: a.id,
      createdAt: now(),
    });
    await store.channels.addMembers(
      ch.id,
      [
        { userId: a.id, role: 'owner' },
        { userId: b.id, role: 'member' },
      ],
      now(),
    );
    const mention = { userIds: [b.id], channel: false, here: false };
    const notify = { mentionUserIds: [b.id], allMembers: null, threadParticipants: false };
    const missing = newId();
    const alone = newMsg(missing, a, { mentions: mention, notify, clientMsgId: 'wp-alone' });
    await assert.rejects(store.messages.create(alone), (e) => e instanceof AppError && e.code === 'NOT_FOUND');

    // Same event-loop turn: one batch (the full statement, since some calls mention someone).
    const good = newMsg(ch.id, a, { mentions: mention, notify, text: '@wp_b look' });
    const bad = [
      newMsg(missing, a, { mentions: mention, notify }),
      newMsg(newId(), b, { mentions: { userIds: [a.id], channel: false, here: false } }),
    ];
    const out = await Promise.allSettled([store.messages.create(bad[0]), store.messages.create(good), store.messages.create(bad[1])]);
    assert.equal(out[1].status, 'fulfilled');
    for (const o of [out[0], out[2]]) assert.ok(o.status === 'rejected' && o.reason instanceof AppError && o.reason.code === 'NOT_FOUND');
    assert.ok(out[1].status === 'fulfilled' && out[1].value.notifications.length === 1);

    const ids = [alone.id, ...bad.map((m) => m.id)];
    for (const [table, col] of [
      ['messages', 'id'],
      ['message_mentions', 'message_id'],
      ['notifications', 'message_id'],
    ]) {
      const r = await sql.query(`SELECT 1 FROM ${table} WHERE ${col} = ANY($1::text[])`, [ids]);
      assert.equal(r.rowCount, 0, `${table} has rows of rejected sends`);
    }
    // No row anywhere points at a channel or message that does not exist.
    const orphans = await sql.query(
      `SELECT (SELECT count(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM channels c WHERE c.id = m.channel_id))::int AS messages,
              (SELECT count(*) FROM message_mentions mm WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = mm.message_id))::int AS mentions`,
    );
    assert.deepEqual(orphans.rows[0], { messages: 0, mentions: 0 });
    const got = await store.messages.history(ch.id, { limit: 10, after: 0 });
    assert.deepEqual(
      got.map((m) => [m.seq, m.id, m.mentions.userIds]),
      [[1, good.id, [b.id]]],
    );
    // The mention row of the message that was written is there.
    const mm = await sql.query('SELECT user_id, seq FROM message_mentions WHERE message_id = $1', [good.id]);
    assert.deepEqual(mm.rows, [{ user_id: b.id, seq: '1' }]);
  });

  test('a plain send alone (its own short statement): seq, read position, repeat by clientMsgId, missing channel', async () => {
    const a = await user('wp1_a');
    const ch = await ownChannel('wp1', a.id);
    const first = newMsg(ch.id, a, { text: 'first', clientMsgId: 'wp1-1', mentions: { userIds: [], channel: true, here: false } });
    const r1 = await store.messages.create(first);
    assert.equal(r1.created, true);
    assert.equal(r1.message.seq, 1);
    assert.deepEqual(r1.message.mentions, { userIds: [], channel: true, here: false });
    // The same clientMsgId again, alone: the original, nothing written, no seq used.
    const again = await store.messages.create(newMsg(ch.id, a, { text: 'first (retry)', clientMsgId: 'wp1-1' }));
    assert.equal(again.created, false);
    assert.equal(again.message.id, first.id);
    assert.equal(again.message.text, 'first');
    const r2 = await store.messages.create(newMsg(ch.id, a, { text: 'second' }));
    assert.equal(r2.message.seq, 2);
    const member = await store.channels.getMember(ch.id, a.id);
    assert.equal(member?.readSeq, 2);
    const stored = await sql.query(
      'SELECT seq, text, mention_channel, mention_here, created_at = $2::timestamptz AS same_time FROM messages WHERE id = $1',
      [first.id, first.createdAt],
    );
    assert.deepEqual(stored.rows, [{ seq: '1', text: 'first', mention_channel: true, mention_here: false, same_time: true }]);
    const lost = newMsg(newId(), a, { text: 'nowhere', clientMsgId: 'wp1-x' });
    await assert.rejects(store.messages.create(lost), (e) => e instanceof AppError && e.code === 'NOT_FOUND');
    assert.equal((await sql.query('SELECT 1 FROM messages WHERE id = $1', [lost.id])).rowCount, 0);
    const last = await sql.query('SELECT last_seq FROM channels WHERE id = $1', [ch.id]);
    assert.equal(last.rows[0].last_seq, '2');
  });

  // FILES_PLAIN_SQL (no mention) and FILES_SQL (a mention of the author: a mention row, no notification).
  for (const [variant, tag] of [
    ['plain', 'p'],
    ['with a mention', 'm'],
  ] as const) {
    test(`a send with files (${variant}) waits on a file row another transaction is attaching; when that commits, it writes nothing`, async () => {
      const a = await user(`wpf${tag}_a`);
      const ch = await ownChannel(`wpf${tag}`, a.id);
      const over = (fileIds: string[]) =>
        tag === 'm' ? { text: '', fileIds, mentions: { userIds: [a.id], channel: false, here: false } } : { text: '', fileIds };
      const [f1, f2] = [newFile(a), newFile(a)];
      for (const f of [f1, f2]) assert.equal(await store.files.create(f, 0), true);
      // Another writer holds f2's row: the send reads both as attachable, then waits in fl's lock.
      const other = newId();
      await sql.query('BEGIN');
      await sql.query('UPDATE files SET message_id = $1 WHERE id = $2', [other, f2.id]);
      const send = newMsg(ch.id, a, over([f1.id, f2.id]));
      const pending = store.messages.create(send);
      let waited = false;
      for (let i = 0; i < 200 && !waited; i++) {
        waited = (await pgWaiting(db.url)) > 0;
        if (!waited) await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(waited, 'the send waits on the file row lock');
      await sql.query('COMMIT');
      await assert.rejects(pending, (e) => e instanceof AppError && e.code === 'VALIDATION_FAILED');
      const rows = await sql.query('SELECT id, message_id FROM files WHERE id = ANY($1::text[]) ORDER BY id', [[f1.id, f2.id]]);
      assert.deepEqual(
        rows.rows.map((r) => [r.id, r.message_id]).sort(),
        [
          [f1.id, null],
          [f2.id, other],
        ].sort(),
        'f1 stays unattached: nothing of the refused send is written',
      );
      for (const q of ['SELECT 1 FROM messages WHERE id = $1', 'SELECT 1 FROM message_files WHERE message_id = $1']) {
        assert.equal((await sql.query(q, [send.id])).rowCount, 0, q);
      }
      assert.equal((await sql.query('SELECT last_seq FROM channels WHERE id = $1', [ch.id])).rows[0].last_seq, '0');
      // The free file still attaches.
      const ok = await store.messages.create(newMsg(ch.id, a, over([f1.id])));
      assert.equal(ok.message.seq, 1);
      assert.deepEqual(
        ok.message.files.map((f) => f.id),
        [f1.id],
      );
      const mentions = await sql.query('SELECT user_id FROM message_mentions WHERE message_id = $1', [ok.message.id]);
      assert.deepEqual(
        mentions.rows.map((r) => r.user_id),
        tag === 'm' ? [a.id] : [],
        'the mention row is written by FILES_SQL; the plain variant has none to write',
      );
    });
  }

  test('sends with files share a batch with other sends; each call attaches its own files or writes nothing', async () => {
    const a = await user('wpb_a');
    const b = await user('wpb_b');
    const ch = await ownChannel('wpb', a.id);
    const [f1, f2, f3, fb] = [newFile(a), newFile(a), newFile(a), newFile(b)];
    for (const f of [f1, f2, f3, fb]) assert.equal(await store.files.create(f, 0), true);
    const text = newMsg(ch.id, a, { text: 'plain text' });
    const first = newMsg(ch.id, a, { text: '', fileIds: [f1.id, f2.id] });
    const notHers = newMsg(ch.id, a, { text: '', fileIds: [fb.id] }); // b's file
    const mention = newMsg(ch.id, a, { text: '', fileIds: [f3.id], mentions: { userIds: [a.id], channel: false, here: false } });
    const { results, statements } = await inOneTurn(
      [
        (w) => w.create(text),
        async (w, snap) => w.createWithFiles(first, await snap),
        async (w, snap) => w.createWithFiles(notHers, await snap),
        async (w, snap) => w.createWithFiles(mention, await snap),
      ],
      [[], first.fileIds, notHers.fileIds, mention.fileIds],
    );
    assert.equal(statements, 1, 'one batch, one statement');
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(seqsOf(results), [1, 2, undefined, 3], 'the written calls take consecutive seqs in queue order; the refused one none');
    assert.deepEqual(await owners([f1.id, f2.id, f3.id, fb.id]), [first.id, first.id, mention.id, null]);
    const mf = await sql.query('SELECT message_id, file_id FROM message_files WHERE channel_id = $1', [ch.id]);
    assert.deepEqual(
      mf.rows.map((r) => `${r.message_id}:${r.file_id}`).sort(),
      [`${first.id}:${f1.id}`, `${first.id}:${f2.id}`, `${mention.id}:${f3.id}`].sort(),
    );
    assert.equal((await sql.query('SELECT 1 FROM messages WHERE id = $1', [notHers.id])).rowCount, 0);
    const mentions = await sql.query('SELECT message_id FROM message_mentions WHERE channel_id = $1', [ch.id]);
    assert.deepEqual(
      mentions.rows.map((r) => r.message_id),
      [mention.id],
      'the batch took FILES_SQL (one call has a mention)',
    );
  });

  test('a call naming a file an earlier call of the turn names waits for the next batch: its outcome stays its own', async () => {
    const a = await user('wpd_a');
    const ch = await ownChannel('wpd', a.id);
    const [f1, f2, f3] = [newFile(a), newFile(a), newFile(a)];
    for (const f of [f1, f2, f3]) assert.equal(await store.files.create(f, 0), true);
    const first = newMsg(ch.id, a, { text: '', fileIds: [f1.id, f2.id] });
    const again = newMsg(ch.id, a, { text: '', fileIds: [f2.id, f3.id] }); // f2 is first's: refused
    const later = newMsg(ch.id, a, { text: '', fileIds: [f3.id] }); // f3 is free: written
    const { results, statements } = await inOneTurn(
      [first, again, later].map((m) => async (w, snap) => w.createWithFiles(m, await snap)),
      [first.fileIds, again.fileIds, later.fileIds],
    );
    assert.equal(statements, 3, 'again and later each start a batch');
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(seqsOf(results), [1, undefined, 2]);
    assert.deepEqual(await owners([f1.id, f2.id, f3.id]), [first.id, first.id, later.id]);
  });

  type Call = (w: MessageWriter, snap: Promise<FileObject[]>) => Promise<CreateMessageResult>;
  /**
   * Queues the calls in one event-loop turn on the store's own writer (the files' snapshots are
   * read first), and counts the statements its send pool ran for them.
   */
  async function inOneTurn(calls: Call[], fileIds: string[][]) {
    const snaps = await Promise.all(
      fileIds.map(async (ids) => Promise.all(ids.map(async (id) => toFileObject((await store.files.get(id))!)))),
    );
    const internals = store as unknown as { sendPool: pg.Pool; messages: { writer: MessageWriter } };
    const pool = internals.sendPool;
    const query = pool.query;
    let statements = 0;
    pool.query = ((...args: unknown[]) => {
      statements++;
      return (query as (...a: unknown[]) => unknown).apply(pool, args);
    }) as typeof pool.query;
    try {
      const results = await Promise.allSettled(calls.map((c, i) => c(internals.messages.writer, Promise.resolve(snaps[i]))));
      return { results, statements };
    } finally {
      pool.query = query;
    }
  }

  const seqsOf = (rs: PromiseSettledResult<CreateMessageResult>[]) =>
    rs.map((r) => (r.status === 'fulfilled' ? r.value.message.seq : undefined));
  const owners = async (ids: string[]) => {
    const r = await sql.query('SELECT id, message_id FROM files WHERE id = ANY($1::text[])', [ids]);
    const by = new Map(r.rows.map((x) => [x.id, x.message_id]));
    return ids.map((id) => by.get(id) ?? null);
  };
});

/** Backends of the database waiting on a lock (another connection, so the test's own is free). */
async function pgWaiting(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    return r.rows[0].n;
  } finally {
    await c.end();
  }
}
