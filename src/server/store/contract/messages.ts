import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError, SendRefused } from '../../errors.js';
import { newId } from '../../ids.js';
import { mkChannel, mkUser, mkUsers, newMsg, nextAt, post, seqs, type Ctx } from './fixtures.js';

export function messagesContract(ctx: Ctx): void {
  describe('messages', () => {
    it('creates a message with seq 1 and reads it back unchanged', async () => {
      const s = ctx.store;
      const [a, b] = await mkUsers(s, 2);
      const ch = await mkChannel(s, a, { members: [b] });
      const input = newMsg(ch, a, {
        text: 'hi @b',
        clientMsgId: 'client-1',
        mentions: { userIds: [b.id], channel: false, here: true },
        fileIds: [],
      });
      const r = await s.messages.create(input);
      assert.equal(r.created, true);
      assert.deepEqual(r.message, {
        id: input.id,
        channelId: ch.id,
        seq: 1,
        authorId: a.id,
        text: 'hi @b',
        createdAt: input.createdAt,
        editedAt: null,
        deletedAt: null,
        parentId: null,
        replyCount: 0,
        lastReplyAt: null,
        reactions: [],
        mentions: { userIds: [b.id], channel: false, here: true },
        files: [],
        clientMsgId: 'client-1',
      });
      assert.deepEqual(await s.messages.get(input.id), r.message);
      assert.equal((await s.channels.get(ch.id))!.lastSeq, 1);
      assert.equal(await s.messages.get(newId()), undefined);
    });

    it('assigns gapless seqs 1..50 to 50 concurrent creates', async () => {
      const s = ctx.store;
      const a = await mkUser(s);
      const ch = await mkChannel(s, a);
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => s.messages.create(newMsg(ch, a, { text: `n${i}` }))));
      assert.deepEqual(
        seqs(results.map((r) => r.message)).sort((x, y) => x - y),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      assert.equal((await s.channels.get(ch.id))!.lastSeq, 50);
      assert.deepEqual(
        seqs(await s.messages.history(ch.id, { after: 0, limit: 200 })),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
    });

    it('is idempotent on (channel, author, clientMsgId): the original comes back and no seq is used', async () => {
      const s = ctx.store;
      const [a, b] = await mkUsers(s, 2);
      const ch = await mkChannel(s, a, { members: [b] });
      const other = await mkChannel(s, a);
      const first = await s.messages.create(
        newMsg(ch, a, {
          clientMsgId: 'k1',
          text: 'original',
          notify: { mentionUserIds: [b.id], allMembers: null, threadParticipants: false },
        }),
      );
      assert.equal(first.notifications.length, 1);
      const retry = await s.messages.create(
        newMsg(ch, a, {
          clientMsgId: 'k1',
          text: 'retry',
          notify: { mentionUserIds: [b.id], allMembers: null, threadParticipants: false },
        }),
      );
      assert.equal(retry.created, false);
      assert.deepEqual(retry.message, first.message);
      assert.deepEqual(retry.notifications, []);
      assert.equal((await s.notifications.list(b.id, { unreadOnly: false, limit: 10 })).items.length, 1);
      const next = await s.messages.create(newMsg(ch, a, { clientMsgId: 'k2' }));
      assert.equal(next.message.seq, 2);
      // The same clientMsgId from another author or in another channel is a different message.
      assert.equal((await s.messages.create(newMsg(ch, b, { clientMsgId: 'k1' }))).created, true);
      assert.equal((await s.messages.create(newMsg(other, a, { clientMsgId: 'k1' }))).created, true);
      assert.equal((await s.channels.get(ch.id))!.lastSeq, 3);
    });

    it('is idempotent under concurrent retries of the same clientMsgId', async () => {
      const s = ctx.store;
      const a = await mkUser(s);
      const ch = await mkChannel(s, a);
      await post(s, ch, a, 1);
      const results = await Promise.all(Array.from({ length: 8 }, () => s.messages.create(newMsg(ch, a, { clientMsgId: 'same' }))));
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.message.id)).size, 1);
      // Every retry got the one stored message, whole: the same record as a read gives.
      const stored = await s.messages.get(results[0].message.id);
      for (const r of results) assert.deepEqual(r.message, stored);
      assert.equal(stored!.clientMsgId, 'same');
      assert.deepEqual(new Set(seqs(results.map((r) => r.message))), new Set([2]));
      assert.equal((await s.channels.get(ch.id))!.lastSeq, 2);
    });

    it('a failing send among concurrent ones fails alone and leaves no gap', async () => {
      const s = ctx.store;
      const a = await mkUser(s);
      const ch = await mkChannel(s, a);
      const [first] = await post(s, ch, a, 1);
      const results = await Promise.allSettled([
        s.messages.create(newMsg(ch, a, { text: 'ok1' })),
        s.messages.create(newMsg(newId(), a)), // missing channel
        s.messages.create(newMsg(ch, a, { text: 'ok2' })),
        s.messages.create(newMsg(ch, a, { id: first.id, text: 'duplicate id' })), // fails at the insert
        s.messages.create(newMsg(ch, a, { text: 'ok3' })),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'],
      );
      const reason = (i: number) => (results[i] as PromiseRejectedResult).reason;
      assert.ok(reason(1) instanceof AppError && reason(1).code === 'NOT_FOUND', `missing channel: ${reason(1)}`);
      assert.ok(reason(3) instanceof Error, 'duplicate id: the insert fails');
      assert.deepEqual(await s.messages.get(first.id), first, 'the message whose id was reused is untouched');
      const page = await s.messages.history(ch.id, { after: 0, limit: 10 });
      assert.deepEqual(seqs(page), [1, 2, 3, 4]);
      // Concurrent sends may take their seqs in any order.
      assert.deepEqual(page.map((m) => m.text).sort(), [first.text, 'ok1', 'ok2', 'ok3'].sort());
      assert.equal((await s.channels.get(ch.id))!.lastSeq, 4);
    });

    it('rejects a message to a missing channel with NOT_FOUND and stores nothing', async () => {
      const s = ctx.store;
      const a = await mkUser(s);
      const input = newMsg(newId(), a);
      await assert.rejects(s.messages.create(input), (e: unknown) => e instanceof AppError && e.code === 'NOT_FOUND');
      assert.equal(await s.messages.get(input.id), undefined);
    });

    it('checkAuthor: a non-member, an archived channel or a missing channel is refused with SendRefused, writing nothing; the others in the same turn go through', async () => {
      const s = ctx.store;
      const [a, b, outsider, dmPeer] = await mkUsers(s, 4);
      const ch = await mkChannel(s, a, { members: [b] });
      const archived = await mkChannel(s, a, { members: [b] });
      await post(s, archived, a, 1);
      await s.channels.archive(archived.id, nextAt());
      const { channel: dm } = await s.channels.getOrCreateDm([b.id, dmPeer.id], b.id, newId(), nextAt());
      const left = await mkChannel(s, a, { members: [b] });
      await s.channels.removeMember(left.id, b.id);
      const checked = (channel: string, author: typeof a, over: Parameters<typeof newMsg>[2] = {}) =>
        s.messages.create(newMsg(channel, author, { ...over, checkAuthor: true }));
      // All in one turn: the stores group them into one transaction or statement.
      const results = await Promise.allSettled([
        checked(ch.id, b, { text: 'member' }),
        checked(ch.id, outsider, { text: 'outsider', clientMsgId: 'o-1' }),
        checked(archived.id, b, { text: 'archived' }),
        checked(newId(), b, { text: 'no channel' }),
        checked(left.id, b, { text: 'left' }),
        checked(dm.id, dmPeer, {
          text: 'dm',
          notify: { mentionUserIds: [], allMembers: 'dm', threadParticipants: false },
        }),
        checked(ch.id, a, {
          text: 'mention @b',
          mentions: { userIds: [b.id], channel: false, here: false },
          notify: { mentionUserIds: [b.id], allMembers: null, threadParticipants: false },
        }),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'rejected', 'rejected', 'rejected', 'fulfilled', 'fulfilled'],
      );
      for (const i of [1, 2, 3, 4]) {
        const reason = (results[i] as PromiseRejectedResult).reason;
        assert.ok(reason instanceof SendRefused, `call ${i}: ${reason}`);
      }
      const value = (i: number) => (results[i] as PromiseFulfilledResult<Awaited<ReturnType<typeof s.messages.create>>>).value;
      assert.deepEqual(
        value(5).notifications.map((n) => [n.userId, n.kind]),
        [[b.id, 'dm']],
      );
      assert.deepEqual(
        value(6).notifications.map((n) => [n.userId, n.kind]),
        [[b.id, 'mention']],
      );
      // Nothing of the refused calls was written, and they took no seq.
      assert.deepEqual((await s.messages.history(ch.id, { after: 0, limit: 10 })).map((m) => m.text).sort(), ['member', 'mention @b']);
      assert.equal((await s.channels.get(ch.id))!.lastSeq, 2);
      assert.equal((await s.channels.get(archived.id))!.lastSeq, 1);
      assert.equal((await s.channels.get(left.id))!.lastSeq, 0);
      // Plain calls only (PostgreSQL: its smaller batch statement) the same.
      const plain = await Promise.allSettled([checked(ch.id, outsider, { text: 'p1' }), checked(ch.id, b, { text: 'p2' })]);
      assert.deepEqual(
        plain.map((r) => r.status),
        ['rejected', 'fulfilled'],
      );
      assert.ok((plain[0] as PromiseRejectedResult).reason instanceof SendRefused);
      assert.equal((await s.channels.get(ch.id))!.lastSeq, 3);
      // Alone (a batch of one) the same.
      await assert.rejects(checked(ch.id, outsider, { text: 'alone' }), (e: unknown) => e instanceof SendRefused);
      await assert.rejects(checked(archived.id, b, { text: 'alone' }), (e: unknown) => e instanceof SendRefused);
      assert.equal((await s.channels.get(ch.id))!.lastSeq, 3);
      // A refused call with a clientMsgId is refused again on retry, not taken for a repeat.
      await assert.rejects(checked(ch.id, outsider, { text: 'outsider', clientMsgId: 'o-1' }), (e: unknown) => e instanceof SendRefused);
      // A member's checked send with a repeated clientMsgId returns the original.
      const first = await checked(ch.id, b, { text: 'once', clientMsgId: 'b-1' });
      const again = await checked(ch.id, b, { text: 'once', clientMsgId: 'b-1' });
      assert.equal(again.created, false);
      assert.equal(again.message.id, first.message.id);
    });
    it('history: newest first by default and with before, oldest first with after', async () => {
      const s = ctx.store;
      const a = await mkUser(s);
      const ch = await mkChannel(s, a);
      const noise = await mkChannel(s, a);
      await post(s, ch, a, 10);
      await post(s, noise, a, 3);
      assert.deepEqual(seqs(await s.messages.history(ch.id, { limit: 3 })), [10, 9, 8]);
      assert.deepEqual(seqs(await s.messages.history(ch.id, { before: 8, limit: 3 })), [7, 6, 5]);
      assert.deepEqual(seqs(await s.messages.history(ch.id, { before: 3, limit: 50 })), [2, 1]);
      assert.deepEqual(seqs(await s.messages.history(ch.id, { before: 1, limit: 50 })), []);
      assert.deepEqual(seqs(await s.messages.history(ch.id, { after: 7, limit: 50 })), [8, 9, 10]);
      assert.deepEqual(seqs(await s.messages.history(ch.id, { after: 0, limit: 2 })), [1, 2]);
      assert.deepEqual(seqs(await s.messages.history(ch.id, { after: 10, limit: 2 })), []);
      for (const m of await s.messages.history(ch.id, { limit: 50 })) assert.equal(m.channelId, ch.id);
      assert.deepEqual(await s.messages.history(newId(), { limit: 10 }), []);
    });

    it('keeps deleted messages in history with text "" and their seq; softDelete is idempotent', async () => {
      const s = ctx.store;
      const [a, b] = await mkUsers(s, 2);
      const ch = await mkChannel(s, a, { members: [b] });
      const [m1, m2, m3] = await post(s, ch, a, 3);
      await s.messages.addReaction(m2.id, b.id, '👍', nextAt());
      const when = nextAt();
      const del = await s.messages.softDelete(m2.id, when);
      assert.equal(del?.id, m2.id);
      assert.equal(del?.seq, 2);
      assert.equal(del?.text, '');
      assert.equal(del?.deletedAt, when);
      assert.deepEqual(del?.reactions, []);
      const again = await s.messages.softDelete(m2.id, nextAt());
      assert.equal(again?.deletedAt, when);
      assert.equal(again?.text, '');
      const page = await s.messages.history(ch.id, { after: 0, limit: 10 });
      assert.deepEqual(seqs(page), [1, 2, 3]);
      assert.deepEqual([page[0].text, page[1].text, page[2].text], [m1.text, '', m3.text]);
      assert.equal(page[1].deletedAt, when);
      assert.deepEqual(page[1].reactions, []);
      assert.equal(await s.messages.softDelete(newId(), nextAt()), undefined);
    });

    it('threads: replies take channel seqs, list oldest first, and update replyCount/lastReplyAt', async () => {
      const s = ctx.store;
      const [a, b] = await mkUsers(s, 2);
      const ch = await mkChannel(s, a, { members: [b] });
      const root = (await s.messages.create(newMsg(ch, a, { text: 'root' }))).message;
      const r1 = (await s.messages.create(newMsg(ch, b, { parentId: root.id, text: 'r1' }))).message;
      await post(s, ch, a, 1);
      const r2 = (await s.messages.create(newMsg(ch, a, { parentId: root.id, text: 'r2' }))).message;
      const r3 = (await s.messages.create(newMsg(ch, b, { parentId: root.id, text: 'r3' }))).message;
      assert.deepEqual(seqs([root, r1, r2, r3]), [1, 2, 4, 5]);
      assert.equal(r1.parentId, root.id);
      assert.deepEqual(
        (await s.messages.thread(root.id, 50)).map((m) => m.id),
        [r1.id, r2.id, r3.id],
      );
      assert.deepEqual(
        (await s.messages.thread(root.id, 50, r1.seq)).map((m) => m.id),
        [r2.id, r3.id],
      );
      assert.deepEqual(
        (await s.messages.thread(root.id, 1)).map((m) => m.id),
        [r1.id],
      );
      assert.deepEqual(await s.messages.thread(r3.id, 10), []);
      const got = await s.messages.get(root.id);
      assert.equal(got?.replyCount, 3);
      assert.equal(got?.lastReplyAt, r3.createdAt);
      assert.deepEqual(seqs(await s.messages.history(ch.id, { limit: 10 })), [5, 4, 3, 2, 1]);
    });

    it('update sets text, mentions and editedAt, and is refused for missing or deleted messages', async () => {
      const s = ctx.store;
      const [a, b] = await mkUsers(s, 2);
      const ch = await mkChannel(s, a, { members: [b] });
      const [m] = await post(s, ch, a, 1);
      const mentionsOf = async () => (await s.channels.listForUser(b.id)).find((x) => x.id === ch.id)!.mentionCount;
      assert.equal(await mentionsOf(), 0);
      const when = nextAt();
      const up = await s.messages.update(m.id, 'edited @b', { userIds: [b.id], channel: false, here: false }, when);
      assert.deepEqual(up, { ...m, text: 'edited @b', editedAt: when, mentions: { userIds: [b.id], channel: false, here: false } });
      assert.deepEqual(await s.messages.get(m.id), up);
      assert.equal(await mentionsOf(), 1);
      await s.messages.update(m.id, 'no mention', { userIds: [], channel: false, here: false }, nextAt());
      assert.equal(await mentionsOf(), 0);
      assert.equal(await s.messages.update(newId(), 'x', { userIds: [], channel: false, here: false }, nextAt()), undefined);
      await s.messages.softDelete(m.id, nextAt());
      assert.equal(await s.messages.update(m.id, 'x', { userIds: [], channel: false, here: false }, nextAt()), undefined);
      assert.equal((await s.messages.get(m.id))!.text, '');
    });

    it('reactions: add/remove are idempotent and summarised per emoji in reaction order', async () => {
      const s = ctx.store;
      const [a, b, c] = await mkUsers(s, 3);
      const ch = await mkChannel(s, a, { members: [b, c] });
      const [m, other] = await post(s, ch, a, 2);
      assert.equal(await s.messages.addReaction(m.id, b.id, '👍', nextAt()), true);
      assert.equal(await s.messages.addReaction(m.id, b.id, '👍', nextAt()), false);
      assert.equal(await s.messages.addReaction(m.id, c.id, '🎉', nextAt()), true);
      assert.equal(await s.messages.addReaction(m.id, a.id, '👍', nextAt()), true);
      assert.equal(await s.messages.addReaction(other.id, c.id, ':shipit:', nextAt()), true);
      assert.deepEqual((await s.messages.get(m.id))!.reactions, [
        { emoji: '👍', count: 2, userIds: [b.id, a.id] },
        { emoji: '🎉', count: 1, userIds: [c.id] },
      ]);
      assert.equal(await s.messages.removeReaction(m.id, b.id, '👍'), true);
      assert.equal(await s.messages.removeReaction(m.id, b.id, '👍'), false);
      assert.equal(await s.messages.removeReaction(m.id, b.id, '🎉'), false);
      const page = await s.messages.history(ch.id, { after: 0, limit: 10 });
      // Emojis are ordered by their earliest remaining reaction: c's 🎉 is now older than a's 👍.
      assert.deepEqual(page[0].reactions, [
        { emoji: '🎉', count: 1, userIds: [c.id] },
        { emoji: '👍', count: 1, userIds: [a.id] },
      ]);
      assert.deepEqual(page[1].reactions, [{ emoji: ':shipit:', count: 1, userIds: [c.id] }]);
    });

    it('reactions with limits: LIMIT_REACHED writes nothing; an existing reaction is false, not over the limit; exact under concurrency', async () => {
      const s = ctx.store;
      const [a, b] = await mkUsers(s, 2);
      const ch = await mkChannel(s, a, { members: [b] });
      const [m, gone, race] = await post(s, ch, a, 3);
      const limits = { perUser: 2, perMessage: 3 };
      const isLimit = (e: unknown) => e instanceof AppError && e.code === 'LIMIT_REACHED';
      assert.equal(await s.messages.addReaction(m.id, a.id, 'x1', nextAt(), limits), true);
      assert.equal(await s.messages.addReaction(m.id, a.id, 'x2', nextAt(), limits), true);
      await assert.rejects(s.messages.addReaction(m.id, a.id, 'x3', nextAt(), limits), isLimit, 'third reaction of one user');
      assert.equal(await s.messages.addReaction(m.id, a.id, 'x2', nextAt(), limits), false, 'already there: false, not LIMIT_REACHED');
      assert.equal(await s.messages.addReaction(m.id, b.id, 'x3', nextAt(), limits), true, 'third distinct emoji');
      await assert.rejects(s.messages.addReaction(m.id, b.id, 'x4', nextAt(), limits), isLimit, 'fourth distinct emoji');
      assert.equal(await s.messages.addReaction(m.id, b.id, 'x1', nextAt(), limits), true, 'a known emoji is still allowed');
      assert.deepEqual((await s.messages.get(m.id))!.reactions, [
        { emoji: 'x1', count: 2, userIds: [a.id, b.id] },
        { emoji: 'x2', count: 1, userIds: [a.id] },
        { emoji: 'x3', count: 1, userIds: [b.id] },
      ]);
      await s.messages.softDelete(gone.id, nextAt());
      assert.equal(await s.messages.addReaction(gone.id, a.id, 'x1', nextAt(), limits), false, 'deleted message');
      assert.equal(await s.messages.addReaction(newId(), a.id, 'x1', nextAt(), limits), false, 'missing message');
      const outcomes = await Promise.allSettled(
        ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'].map((e) => s.messages.addReaction(race.id, b.id, e, nextAt(), limits)),
      );
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled' && o.value === true).length, 2, 'exactly perUser adds win');
      assert.ok(outcomes.filter((o) => o.status === 'rejected').every((o) => isLimit((o as PromiseRejectedResult).reason)));
      assert.equal((await s.messages.get(race.id))!.reactions.length, 2);
    });

    // MessageStore.historyVersion: a store either never versions (undefined: PostgreSQL, where
    // other nodes write) or changes the token on every write a page shows, and on nothing else.
    it('historyVersion changes on every write a history page shows, and not on reads, no-ops or other channels', async () => {
      const s = ctx.store;
      const [a, b] = await mkUsers(s, 2);
      const ch = await mkChannel(s, a, { members: [b] });
      const other = await mkChannel(s, a, { members: [b] });
      const v = () => s.messages.historyVersion(ch.id);
      if ((await v()) === undefined) {
        assert.equal(s.kind, 'postgres', 'only the PostgreSQL store may decline to version pages');
        await s.messages.create(newMsg(ch, a));
        assert.equal(await v(), undefined, 'undefined stays undefined');
        return;
      }
      /** Runs `step`, then says whether the token moved. */
      const moves = async (what: string, step: () => Promise<unknown>, expected: boolean) => {
        const before = await v();
        await step();
        const after = await v();
        assert.equal(after !== before, expected, `${what}: ${before} → ${after}`);
      };
      const root = (await s.messages.create(newMsg(ch, a, { text: 'root' }))).message;
      await moves('history read', () => s.messages.history(ch.id, { limit: 10 }), false);
      await moves('send', () => s.messages.create(newMsg(ch, b, { text: 'two' })), true);
      const keyed = newMsg(ch, b, { clientMsgId: 'hv-1' });
      await moves('send with a clientMsgId', () => s.messages.create(keyed), true);
      await moves('its repeat (writes nothing)', () => s.messages.create({ ...keyed, id: newId() }), false);
      await moves('a send to another channel', () => s.messages.create(newMsg(other, a)), false);
      await moves('edit', () => s.messages.update(root.id, 'root, edited', { userIds: [], channel: false, here: false }, nextAt()), true);
      await moves('reaction added', () => s.messages.addReaction(root.id, b.id, 'tada', nextAt()), true);
      await moves('the same reaction again (no-op)', () => s.messages.addReaction(root.id, b.id, 'tada', nextAt()), false);
      await moves(
        'reaction added with limits',
        () => s.messages.addReaction(root.id, a.id, 'eyes', nextAt(), { perUser: 5, perMessage: 5 }),
        true,
      );
      await moves('reaction removed', () => s.messages.removeReaction(root.id, b.id, 'tada'), true);
      await moves('removing it again (no-op)', () => s.messages.removeReaction(root.id, b.id, 'tada'), false);
      await moves('thread reply (the root shows its count)', () => s.messages.create(newMsg(ch, b, { parentId: root.id })), true);
      await moves('delete', () => s.messages.softDelete(root.id, nextAt()), true);
      await moves('delete again (idempotent)', () => s.messages.softDelete(root.id, nextAt()), false);
    });
  });
}
