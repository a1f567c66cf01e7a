// PostgreSQL store: the shared contract suite plus PostgreSQL-specific checks (concurrent
// migrations, seq under concurrency, concurrent idempotent sends, pool stats).
// Each test database is created fresh and dropped; skipped when PostgreSQL is unreachable
// (fails instead under CI=true / NCHAT_REQUIRE_SERVICES=1).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { describePostgres, freshPostgres, pgSkipReason, type FreshPostgres } from '../../../test/helpers/postgres.js';
import { AppError } from '../errors.js';
import { newId } from '../ids.js';
import { runStoreContract } from './contract/index.js';
import { migrations, openPostgresStore } from './postgres/index.js';
import type { Store } from './store.js';
import type { NewMessage } from './types.js';

const now = () => new Date().toISOString();

async function openFresh(poolSize = 8): Promise<{ store: Store; db: FreshPostgres; cleanup(): Promise<void> }> {
  const db = await freshPostgres();
  if (!db) throw new Error('unreachable: describePostgres skips first');
  const store = await openPostgresStore({ url: db.url, poolSize });
  await store.migrate();
  return {
    store,
    db,
    cleanup: async () => {
      await store.close();
      await db.drop();
    },
  };
}

async function user(store: Store, name: string) {
  return store.users.create({
    id: newId(),
    username: name,
    email: `${name}@example.test`,
    displayName: name.toUpperCase(),
    passwordHash: 'x',
    createdAt: now(),
  });
}

function msg(channelId: string, authorId: string, over: Partial<NewMessage> = {}): NewMessage {
  return {
    id: newId(),
    channelId,
    authorId,
    text: 'hello',
    clientMsgId: null,
    parentId: null,
    mentions: { userIds: [], channel: false, here: false },
    fileIds: [],
    createdAt: now(),
    notify: { mentionUserIds: [], allMembers: null, threadParticipants: false },
    ...over,
  };
}

const skip = await pgSkipReason();
if (skip) describe('Store contract: postgres', { skip }, () => {});
else {
  runStoreContract('postgres', async () => {
    const { store, cleanup } = await openFresh();
    return { store, cleanup };
  });
}

await describePostgres('postgres store', () => {
  let ctx: Awaited<ReturnType<typeof openFresh>>;
  let store: Store;
  before(async () => {
    ctx = await openFresh();
    store = ctx.store;
  });
  after(() => ctx?.cleanup());

  test('migrations: shared ids start at 0001_initial; migrate() is idempotent', async () => {
    assert.equal(migrations[0].id, '0001_initial');
    assert.deepEqual(await store.migrate(), []);
    await store.ping();
  });

  test('concurrent migrate() from two stores applies each migration once', async () => {
    const db = await freshPostgres();
    assert.ok(db);
    const a = await openPostgresStore({ url: db.url, poolSize: 2 });
    const b = await openPostgresStore({ url: db.url, poolSize: 2 });
    try {
      const [ra, rb] = await Promise.all([a.migrate(), b.migrate()]);
      assert.deepEqual([...ra, ...rb].sort(), migrations.map((m) => m.id).sort());
      assert.deepEqual(await a.migrate(), []);
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  });

  test('first user is owner even when sign-ups race; unique violations map to codes', async () => {
    const us = await Promise.all(['ann', 'bob', 'cy', 'dee'].map((n) => user(store, n)));
    assert.equal(us.filter((u) => u.role === 'owner').length, 1);
    await assert.rejects(
      store.users.create({
        id: newId(),
        username: 'ANN',
        email: 'other@example.test',
        displayName: 'a',
        passwordHash: 'x',
        createdAt: now(),
      }),
      (e: unknown) => e instanceof AppError && e.code === 'USERNAME_TAKEN',
    );
    await assert.rejects(
      store.users.create({
        id: newId(),
        username: 'ann2',
        email: 'ANN@example.test',
        displayName: 'a',
        passwordHash: 'x',
        createdAt: now(),
      }),
      (e: unknown) => e instanceof AppError && e.code === 'EMAIL_TAKEN',
    );
    const byLogin = await store.users.getByLogin('Ann@Example.TEST');
    assert.equal(byLogin?.username, 'ann');
    assert.equal(byLogin?.passwordHash, 'x');
    assert.equal(typeof (await store.users.count()), 'number');
    const found = await store.users.search('b', 10);
    assert.deepEqual(
      found.map((u) => u.username),
      ['bob'],
    );
    assert.deepEqual(await store.users.search('%', 10), []);
  });

  test('channel names are unique case-insensitively; DMs are one channel per set under concurrency', async () => {
    const [a, b] = await Promise.all([user(store, 'chan_a'), user(store, 'chan_b')]);
    await store.channels.create({
      id: newId(),
      type: 'public',
      name: 'General',
      description: '',
      topic: '',
      createdBy: a.id,
      createdAt: now(),
    });
    await assert.rejects(
      store.channels.create({
        id: newId(),
        type: 'private',
        name: 'general',
        description: '',
        topic: '',
        createdBy: a.id,
        createdAt: now(),
      }),
      (e: unknown) => e instanceof AppError && e.code === 'CHANNEL_NAME_TAKEN',
    );
    const dms = await Promise.all(
      Array.from({ length: 6 }, (_, i) => store.channels.getOrCreateDm(i % 2 ? [a.id, b.id] : [b.id, a.id, a.id], a.id, newId(), now())),
    );
    assert.equal(new Set(dms.map((d) => d.channel.id)).size, 1);
    assert.equal(dms.filter((d) => d.created).length, 1);
    assert.equal(dms[0].channel.type, 'direct');
    assert.equal(dms[0].channel.memberCount, 2);
  });

  test('seq stays unique and gapless under concurrent sends; int8 comes back as numbers', async () => {
    const a = await user(store, 'seq_a');
    const chans = await Promise.all(
      ['seq-1', 'seq-2'].map((name) =>
        store.channels.create({ id: newId(), type: 'public', name, description: '', topic: '', createdBy: a.id, createdAt: now() }),
      ),
    );
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.messages.create(msg(chans[i % 2].id, a.id))));
    for (const ch of chans) {
      const seqs = results
        .filter((r) => r.message.channelId === ch.id)
        .map((r) => r.message.seq)
        .sort((x, y) => x - y);
      assert.deepEqual(
        seqs,
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
      const fresh = await store.channels.get(ch.id);
      assert.equal(fresh?.lastSeq, 100);
      assert.equal(typeof fresh?.lastSeq, 'number');
    }
    const page = await store.messages.history(chans[0].id, { limit: 10 });
    assert.deepEqual(
      page.map((m) => m.seq),
      [100, 99, 98, 97, 96, 95, 94, 93, 92, 91],
    );
    const older = await store.messages.history(chans[0].id, { limit: 3, after: 5 });
    assert.deepEqual(
      older.map((m) => m.seq),
      [6, 7, 8],
    );
    assert.match(page[0].createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal((await store.channels.getMember(chans[0].id, a.id))?.readSeq, 100);
  });

  test('concurrent duplicates of one clientMsgId create one message and leave no seq gap', async () => {
    const a = await user(store, 'dup_a');
    const ch = await store.channels.create({
      id: newId(),
      type: 'public',
      name: 'dup',
      description: '',
      topic: '',
      createdBy: a.id,
      createdAt: now(),
    });
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all(
        Array.from({ length: 8 }, () => store.messages.create(msg(ch.id, a.id, { clientMsgId: `c${round}` }))),
      );
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.message.id)).size, 1);
      assert.ok(results.filter((r) => !r.created).every((r) => r.notifications.length === 0));
    }
    const c = await store.channels.get(ch.id);
    assert.equal(c?.lastSeq, 5);
    const all = await store.messages.history(ch.id, { limit: 50, after: 0 });
    assert.deepEqual(
      all.map((m) => m.seq),
      [1, 2, 3, 4, 5],
    );
  });

  test('group commit: one bad call or missing channel in a batch does not affect the others', async () => {
    const a = await user(store, 'gc_a');
    const ch = await store.channels.create({
      id: newId(),
      type: 'public',
      name: 'gc',
      description: '',
      topic: '',
      createdBy: a.id,
      createdAt: now(),
    });
    // Issued in the same event-loop turn: one batch. NUL cannot be stored in PostgreSQL text.
    const calls = [
      store.messages.create(msg(ch.id, a.id, { text: 'one' })),
      store.messages.create(msg(ch.id, a.id, { text: 'bad\u0000text' })),
      store.messages.create(msg(newId(), a.id, { text: 'no such channel' })),
      store.messages.create(msg(ch.id, a.id, { text: 'two' })),
    ];
    const out = await Promise.allSettled(calls);
    assert.equal(out[0].status, 'fulfilled');
    assert.equal(out[1].status, 'rejected');
    assert.equal(out[2].status, 'rejected');
    assert.ok(out[2].status === 'rejected' && out[2].reason instanceof AppError && out[2].reason.code === 'NOT_FOUND');
    assert.equal(out[3].status, 'fulfilled');
    const got = await store.messages.history(ch.id, { limit: 10, after: 0 });
    assert.deepEqual(
      got.map((m) => [m.seq, m.text]),
      [
        [1, 'one'],
        [2, 'two'],
      ],
    );
  });

  test('concurrent duplicates from two nodes (two pools) resolve to one message each, no seq gap', async () => {
    const other = await openPostgresStore({ url: ctx.db.url, poolSize: 4 });
    try {
      const a = await user(store, 'nodes_a');
      const ch = await store.channels.create({
        id: newId(),
        type: 'public',
        name: 'nodes',
        description: '',
        topic: '',
        createdBy: a.id,
        createdAt: now(),
      });
      const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
      const results = await Promise.all(
        keys.flatMap((k) => [store, other, store, other].map((s) => s.messages.create(msg(ch.id, a.id, { clientMsgId: k })))),
      );
      for (const k of keys) {
        const mine = results.filter((r) => r.message.clientMsgId === k);
        assert.equal(mine.filter((r) => r.created).length, 1, k);
        assert.equal(new Set(mine.map((r) => r.message.seq)).size, 1, k);
      }
      assert.equal((await store.channels.get(ch.id))?.lastSeq, keys.length);
    } finally {
      await other.close();
    }
  });

  test('thread replies in one batch: an earlier reply of the batch counts as a participant', async () => {
    const [a, b, c] = await Promise.all(['tb_a', 'tb_b', 'tb_c'].map((n) => user(store, n)));
    const ch = await store.channels.create({
      id: newId(),
      type: 'public',
      name: 'tbatch',
      description: '',
      topic: '',
      createdBy: a.id,
      createdAt: now(),
    });
    await store.channels.addMembers(
      ch.id,
      [b, c].map((u) => ({ userId: u.id, role: 'member' as const })),
      now(),
    );
    const root = (await store.messages.create(msg(ch.id, a.id))).message;
    const thread = { mentionUserIds: [], allMembers: null, threadParticipants: true };
    const [rb, rc] = await Promise.all([
      store.messages.create(msg(ch.id, b.id, { parentId: root.id, notify: thread })),
      store.messages.create(msg(ch.id, c.id, { parentId: root.id, notify: thread })),
    ]);
    assert.deepEqual(
      rb.notifications.map((n) => [n.userId, n.kind]),
      [[a.id, 'reply']],
    );
    assert.deepEqual(rc.notifications.map((n) => n.userId).sort(), [a.id, b.id].sort());
    const parent = await store.messages.get(root.id);
    assert.equal(parent?.replyCount, 2);
    // ISO strings: the later one is the larger string (Math.max would coerce them to NaN).
    assert.equal(parent?.lastReplyAt, [rc.message.createdAt, rb.message.createdAt].sort()[1]);
    assert.deepEqual(
      (await store.messages.thread(root.id, 10)).map((m) => m.id),
      [rb.message.id, rc.message.id],
    );
  });

  test('notifications: members only, never the author, one per user, mention > reply > dm', async () => {
    const [a, b, c, d, outsider] = await Promise.all(['n_a', 'n_b', 'n_c', 'n_d', 'n_out'].map((n) => user(store, n)));
    const { channel } = await store.channels.getOrCreateDm([a.id, b.id, c.id, d.id], a.id, newId(), now());
    assert.equal(channel.type, 'group');
    const root = await store.messages.create(
      msg(channel.id, b.id, { notify: { mentionUserIds: [], allMembers: 'dm', threadParticipants: false } }),
    );
    assert.deepEqual(root.notifications.map((n) => n.userId).sort(), [a.id, c.id, d.id].sort());
    const reply = await store.messages.create(
      msg(channel.id, a.id, {
        parentId: root.message.id,
        mentions: { userIds: [c.id, outsider.id, a.id], channel: false, here: false },
        notify: { mentionUserIds: [c.id, outsider.id, a.id, c.id], allMembers: 'dm', threadParticipants: true },
      }),
    );
    const kinds = Object.fromEntries(reply.notifications.map((n) => [n.userId, n.kind]));
    assert.deepEqual(kinds, { [b.id]: 'reply', [c.id]: 'mention', [d.id]: 'dm' });
    assert.ok(reply.notifications.every((n) => n.seq === reply.message.seq && n.actorId === a.id && /^[0-9a-z]{22}$/.test(n.id)));
    const parent = await store.messages.get(root.message.id);
    assert.equal(parent?.replyCount, 1);
    const listC = await store.notifications.list(c.id, { unreadOnly: true, limit: 1 });
    assert.equal(listC.items[0].kind, 'mention');
    assert.ok(listC.nextCursor);
    const rest = await store.notifications.list(c.id, { unreadOnly: true, limit: 10, cursor: listC.nextCursor! });
    assert.equal(rest.items.length, 1);
    assert.equal(rest.nextCursor, null);
    assert.equal(await store.notifications.markRead(c.id, 'all', now()), 2);
    const forC = (await store.channels.listForUser(c.id)).find((x) => x.id === channel.id);
    assert.equal(forC?.unreadCount, 2);
    assert.equal(forC?.mentionCount, 1);
    assert.deepEqual(forC?.dmUserIds, [a.id, b.id, c.id, d.id].sort());
  });

  test('reactions, edit, soft delete', async () => {
    const a = await user(store, 'r_a');
    const b = await user(store, 'r_b');
    const ch = await store.channels.create({
      id: newId(),
      type: 'public',
      name: 'react',
      description: '',
      topic: '',
      createdBy: a.id,
      createdAt: now(),
    });
    const m = (await store.messages.create(msg(ch.id, a.id))).message;
    assert.equal(await store.messages.addReaction(m.id, a.id, '👍', now()), true);
    assert.equal(await store.messages.addReaction(m.id, a.id, '👍', now()), false);
    assert.equal(await store.messages.addReaction(m.id, b.id, '👍', now()), true);
    const got = await store.messages.get(m.id);
    assert.deepEqual(got?.reactions, [{ emoji: '👍', count: 2, userIds: [a.id, b.id] }]);
    const many = await Promise.all(Array.from({ length: 8 }, (_, i) => user(store, `r_many${i}`)));
    const adds = await Promise.all(
      many.flatMap((u) => [store.messages.addReaction(m.id, u.id, '🎉', now()), store.messages.addReaction(m.id, u.id, '🎉', now())]),
    );
    assert.equal(adds.filter(Boolean).length, 8);
    assert.equal((await store.messages.get(m.id))?.reactions.find((x) => x.emoji === '🎉')?.count, 8);
    await Promise.all(many.map((u) => store.messages.removeReaction(m.id, u.id, '🎉')));
    assert.deepEqual((await store.messages.history(ch.id, { limit: 1 }))[0].reactions, [{ emoji: '👍', count: 2, userIds: [a.id, b.id] }]);
    const edited = await store.messages.update(m.id, 'hi @r_b', { userIds: [b.id], channel: false, here: false }, now());
    assert.equal(edited?.text, 'hi @r_b');
    assert.ok(edited?.editedAt);
    const del = await store.messages.softDelete(m.id, now());
    const again = await store.messages.softDelete(m.id, now());
    assert.equal(del?.text, '');
    assert.deepEqual(del?.reactions, []);
    assert.equal(again?.deletedAt, del?.deletedAt);
    assert.equal(await store.messages.update(m.id, 'x', { userIds: [], channel: false, here: false }, now()), undefined);
    assert.equal(await store.messages.addReaction(m.id, b.id, '🎉', now()), false);
  });

  test('membership counters, markRead cap, meta first-writer-wins', async () => {
    const [a, b, c] = await Promise.all(['m_a', 'm_b', 'm_c'].map((n) => user(store, n)));
    const ch = await store.channels.create({
      id: newId(),
      type: 'private',
      name: 'members',
      description: '',
      topic: '',
      createdBy: a.id,
      createdAt: now(),
    });
    const added = await Promise.all([
      store.channels.addMembers(
        ch.id,
        [
          { userId: b.id, role: 'member' },
          { userId: c.id, role: 'member' },
        ],
        now(),
      ),
      store.channels.addMembers(ch.id, [{ userId: b.id, role: 'admin' }], now()),
    ]);
    assert.equal(added.flat().filter((x) => x === b.id).length, 1);
    assert.equal((await store.channels.get(ch.id))?.memberCount, 3);
    const removed = await Promise.all([store.channels.removeMember(ch.id, c.id), store.channels.removeMember(ch.id, c.id)]);
    assert.deepEqual(removed.sort(), [false, true]);
    assert.equal((await store.channels.get(ch.id))?.memberCount, 2);
    await store.messages.create(msg(ch.id, a.id));
    assert.equal(await store.channels.markRead(ch.id, b.id, 1e12), 1);
    assert.equal(await store.channels.markRead(ch.id, b.id, 0), 1);
    assert.equal(await store.channels.markRead(ch.id, c.id, 1), undefined);
    const vals = await Promise.all(['v1', 'v2', 'v3'].map((v) => store.meta.setIfAbsent('k', v)));
    assert.equal(new Set(vals).size, 1);
    assert.equal(await store.meta.get('k'), vals[0]);
    assert.equal(await store.meta.get('missing'), undefined);
  });

  test('poolStats reflects the pg.Pool; close() ends it', async () => {
    const db = await freshPostgres();
    assert.ok(db);
    const s = await openPostgresStore({ url: db.url, poolSize: 3 });
    try {
      await Promise.all(Array.from({ length: 6 }, () => s.ping()));
      const stats = s.poolStats();
      assert.ok(stats);
      assert.ok(stats.total >= 1 && stats.total <= 3);
      assert.equal(stats.waiting, 0);
      assert.equal(stats.idle, stats.total);
    } finally {
      await s.close();
      await db.drop();
    }
    await assert.rejects(s.ping());
  });
});
