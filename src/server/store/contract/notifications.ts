import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newId } from '../../ids.js';
import type { Store } from '../store.js';
import type { Channel, NewMessage, Notification, User } from '../types.js';
import { mkChannel, mkUsers, newMsg, nextAt, sorted, type Ctx } from './fixtures.js';

type Notify = NewMessage['notify'];
const notify = (n: Partial<Notify>): Notify => ({ mentionUserIds: [], allMembers: null, threadParticipants: false, ...n });

/** user id → kind, for comparing recipients without caring about row order. */
const kinds = (ns: Notification[]) => Object.fromEntries(ns.map((n) => [n.userId, n.kind]));

async function groupDm(s: Store, users: User[]): Promise<Channel> {
  return (
    await s.channels.getOrCreateDm(
      users.map((u) => u.id),
      users[0].id,
      newId(),
      nextAt(),
    )
  ).channel;
}

export function notificationsContract(ctx: Ctx): void {
  // One test per clause of the recipient rule stated on MessageStore.create (store.ts).
  describe('notification recipients (MessageStore.create)', () => {
    /** The rows each user can list for one message: what was written, not only what was returned. */
    async function written(s: Store, users: User[], messageId: string): Promise<Record<string, string>> {
      const out: Record<string, string> = {};
      for (const u of users) {
        for (const n of (await s.notifications.list(u.id, { unreadOnly: false, limit: 100 })).items)
          if (n.messageId === messageId) out[n.userId] = n.kind;
      }
      return out;
    }

    it('1. mention: each mentioned member gets one "mention" row, returned in full', async () => {
      const s = ctx.store;
      const [a, b, c, d] = await mkUsers(s, 4);
      const ch = await mkChannel(s, a, { members: [b, c, d] });
      const input = newMsg(ch, a, { notify: notify({ mentionUserIds: [c.id, b.id, b.id] }) });
      const r = await s.messages.create(input);
      assert.deepEqual(kinds(r.notifications), { [b.id]: 'mention', [c.id]: 'mention' });
      assert.equal(r.notifications.length, 2, 'one row per user, duplicates in the input collapse');
      const n = r.notifications.find((x) => x.userId === b.id)!;
      assert.deepEqual(n, {
        id: n.id,
        userId: b.id,
        kind: 'mention',
        channelId: ch.id,
        messageId: input.id,
        seq: r.message.seq,
        actorId: a.id,
        createdAt: input.createdAt,
        readAt: null,
      });
      assert.deepEqual((await s.notifications.list(b.id, { unreadOnly: false, limit: 10 })).items, [n]);
      assert.deepEqual(await written(s, [a, b, c, d], input.id), kinds(r.notifications), 'd, not mentioned, gets nothing');
    });

    it('2. allMembers "mention" (@channel): every member but the author', async () => {
      const s = ctx.store;
      const [a, b, c] = await mkUsers(s, 3);
      const ch = await mkChannel(s, a, { members: [b, c] });
      const r = await s.messages.create(newMsg(ch, a, { notify: notify({ allMembers: 'mention' }) }));
      assert.deepEqual(kinds(r.notifications), { [b.id]: 'mention', [c.id]: 'mention' });
      assert.deepEqual(await written(s, [a, b, c], r.message.id), kinds(r.notifications));
      const none = await s.messages.create(newMsg(ch, a));
      assert.deepEqual(none.notifications, [], 'notify empty: no rows');
    });

    it('3. allMembers "dm": every member of a direct or group channel but the author', async () => {
      const s = ctx.store;
      const [a, b, c] = await mkUsers(s, 3);
      const direct = await groupDm(s, [a, b]);
      const r = await s.messages.create(newMsg(direct, b, { notify: notify({ allMembers: 'dm' }) }));
      assert.deepEqual(kinds(r.notifications), { [a.id]: 'dm' });
      const group = await groupDm(s, [a, b, c]);
      const r2 = await s.messages.create(newMsg(group, c, { notify: notify({ allMembers: 'dm' }) }));
      assert.deepEqual(kinds(r2.notifications), { [a.id]: 'dm', [b.id]: 'dm' });
      assert.deepEqual(await written(s, [a, b, c], r2.message.id), kinds(r2.notifications));
      const self = await groupDm(s, [a]);
      assert.deepEqual(
        (await s.messages.create(newMsg(self, a, { notify: notify({ allMembers: 'dm' }) }))).notifications,
        [],
        'a self-DM notifies nobody',
      );
    });

    it('4. thread reply: the root author and earlier repliers (deleted replies too) get "reply"', async () => {
      const s = ctx.store;
      const [a, b, c, d, e] = await mkUsers(s, 5);
      const ch = await mkChannel(s, a, { members: [b, c, d, e] });
      const root = (await s.messages.create(newMsg(ch, b, { text: 'root' }))).message;
      const reply = (author: User) =>
        s.messages.create(newMsg(ch, author, { parentId: root.id, notify: notify({ threadParticipants: true }) }));
      assert.deepEqual(kinds((await reply(c)).notifications), { [b.id]: 'reply' });
      const byD = (await reply(d)).message;
      await s.messages.softDelete(byD.id, nextAt());
      const r = await reply(a);
      assert.deepEqual(kinds(r.notifications), { [b.id]: 'reply', [c.id]: 'reply', [d.id]: 'reply' }, 'e never replied: nothing');
      assert.deepEqual(await written(s, [a, b, c, d, e], r.message.id), kinds(r.notifications));
      // The root's author replying: only the other participants.
      assert.deepEqual(kinds((await reply(b)).notifications), { [a.id]: 'reply', [c.id]: 'reply', [d.id]: 'reply' });
      // threadParticipants without a parent: nobody gets "reply".
      assert.deepEqual((await s.messages.create(newMsg(ch, a, { notify: notify({ threadParticipants: true }) }))).notifications, []);
      // A parent without threadParticipants: nobody either (the service always sets it for replies).
      assert.deepEqual((await s.messages.create(newMsg(ch, a, { parentId: root.id }))).notifications, []);
    });

    it('4. thread reply: an earlier reply sent in the same group commit counts', async () => {
      const s = ctx.store;
      const [a, b, c] = await mkUsers(s, 3);
      const ch = await mkChannel(s, a, { members: [b, c] });
      const root = (await s.messages.create(newMsg(ch, a, { text: 'root' }))).message;
      // Both calls are made before either settles: every backend may (and these do) batch them.
      const [rb, rc] = await Promise.all(
        [b, c].map((u) => s.messages.create(newMsg(ch, u, { parentId: root.id, notify: notify({ threadParticipants: true }) }))),
      );
      assert.ok(rb.message.seq < rc.message.seq);
      assert.deepEqual(kinds(rb.notifications), { [a.id]: 'reply' });
      assert.deepEqual(kinds(rc.notifications), { [a.id]: 'reply', [b.id]: 'reply' });
    });

    it('only current members: a mentioned non-member, a participant who left, a removed member get nothing', async () => {
      const s = ctx.store;
      const [a, b, c, d, outsider] = await mkUsers(s, 5);
      const ch = await mkChannel(s, a, { members: [b, c, d] });
      const root = (await s.messages.create(newMsg(ch, c, { text: 'root' }))).message;
      await s.messages.create(newMsg(ch, d, { parentId: root.id }));
      await s.channels.removeMember(ch.id, c.id);
      await s.channels.removeMember(ch.id, d.id);
      const r = await s.messages.create(
        newMsg(ch, a, {
          parentId: root.id,
          notify: notify({ mentionUserIds: [outsider.id, c.id], allMembers: 'mention', threadParticipants: true }),
        }),
      );
      assert.deepEqual(kinds(r.notifications), { [b.id]: 'mention' });
      assert.deepEqual(await written(s, [a, b, c, d, outsider], r.message.id), { [b.id]: 'mention' });
    });

    it('never the author, whichever clause names them', async () => {
      const s = ctx.store;
      const [a, b] = await mkUsers(s, 2);
      const ch = await groupDm(s, [a, b]);
      const root = (await s.messages.create(newMsg(ch, a, { text: 'root' }))).message;
      const r = await s.messages.create(
        newMsg(ch, a, { parentId: root.id, notify: notify({ mentionUserIds: [a.id], allMembers: 'dm', threadParticipants: true }) }),
      );
      assert.deepEqual(kinds(r.notifications), { [b.id]: 'dm' });
      assert.deepEqual(await written(s, [a], r.message.id), {});
    });

    it('one row per user, kind by precedence mention > reply > dm; rows returned ordered by userId', async () => {
      const s = ctx.store;
      const [a, b, c, d, e] = await mkUsers(s, 5);
      const ch = await groupDm(s, [a, b, c, d]);
      const root = (await s.messages.create(newMsg(ch, b, { text: 'root' }))).message;
      await s.messages.create(newMsg(ch, c, { parentId: root.id }));
      // b: reply + dm → reply; c: reply + mention + dm → mention; d: dm only; e: not a member.
      const r = await s.messages.create(
        newMsg(ch, a, { parentId: root.id, notify: notify({ mentionUserIds: [c.id, e.id], allMembers: 'dm', threadParticipants: true }) }),
      );
      assert.deepEqual(kinds(r.notifications), { [b.id]: 'reply', [c.id]: 'mention', [d.id]: 'dm' });
      assert.equal(r.notifications.length, 3);
      assert.deepEqual(
        r.notifications.map((n) => n.userId),
        sorted([b.id, c.id, d.id]),
      );
      assert.deepEqual(await written(s, [a, b, c, d, e], r.message.id), kinds(r.notifications));
      // Without a thread: mention beats dm.
      const m = await s.messages.create(newMsg(ch, a, { notify: notify({ mentionUserIds: [d.id], allMembers: 'dm' }) }));
      assert.deepEqual(kinds(m.notifications), { [b.id]: 'dm', [c.id]: 'dm', [d.id]: 'mention' });
    });

    it('a repeated clientMsgId writes and returns no notifications', async () => {
      const s = ctx.store;
      const [a, b] = await mkUsers(s, 2);
      const ch = await mkChannel(s, a, { members: [b] });
      const input = newMsg(ch, a, { clientMsgId: 'repeat-1', notify: notify({ mentionUserIds: [b.id] }) });
      const first = await s.messages.create(input);
      assert.equal(first.notifications.length, 1);
      const again = await s.messages.create({ ...input, id: newId(), createdAt: nextAt() });
      assert.equal(again.created, false);
      assert.deepEqual(again.notifications, []);
      assert.equal((await s.notifications.list(b.id, { unreadOnly: false, limit: 10 })).items.length, 1);
    });
  });

  describe('notifications list and markRead', () => {
    /** A user with `n` mention notifications spread over two channels. */
    async function setup(n: number) {
      const s = ctx.store;
      const [author, me] = await mkUsers(s, 2);
      const ch1 = await mkChannel(s, author, { members: [me] });
      const ch2 = await mkChannel(s, author, { members: [me] });
      const made: Notification[] = [];
      for (let i = 0; i < n; i++) {
        const r = await s.messages.create(newMsg(i % 2 ? ch2 : ch1, author, { notify: notify({ mentionUserIds: [me.id] }) }));
        made.push(...r.notifications);
      }
      return { s, author, me, ch1, ch2, made };
    }

    it('lists newest first (by id) and pages with the last id as cursor', async () => {
      const { s, me, made } = await setup(5);
      const all = await s.notifications.list(me.id, { unreadOnly: false, limit: 50 });
      assert.equal(all.nextCursor, null);
      const ids = all.items.map((n) => n.id);
      assert.deepEqual(
        ids,
        made
          .map((n) => n.id)
          .sort()
          .reverse(),
      );
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let guard = 0; guard < 10; guard++) {
        const page = await s.notifications.list(me.id, { unreadOnly: false, limit: 2, cursor });
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((n) => n.id));
        if (page.nextCursor === null) break;
        assert.equal(page.nextCursor, page.items[page.items.length - 1].id);
        cursor = page.nextCursor;
      }
      assert.deepEqual(seen, ids);
      const exact = await s.notifications.list(me.id, { unreadOnly: false, limit: 5 });
      assert.equal(exact.items.length, 5);
      assert.equal(exact.nextCursor, null);
    });

    it('markRead changes only the caller’s unread ids, or all of them; unreadOnly filters', async () => {
      const { s, author, me, made } = await setup(4);
      const other = await mkUsers(s, 1);
      const ch = await mkChannel(s, author, { members: other });
      const foreign = (await s.messages.create(newMsg(ch, author, { notify: notify({ mentionUserIds: [other[0].id] }) }))).notifications[0];

      assert.equal(await s.notifications.markRead(me.id, [made[0].id, foreign.id, newId()], nextAt()), 1);
      assert.equal(await s.notifications.markRead(me.id, [made[0].id], nextAt()), 0);
      assert.equal(await s.notifications.markRead(me.id, [], nextAt()), 0);
      assert.equal((await s.notifications.list(other[0].id, { unreadOnly: true, limit: 10 })).items.length, 1);

      const unread = await s.notifications.list(me.id, { unreadOnly: true, limit: 10 });
      assert.deepEqual(
        unread.items.map((n) => n.id).sort(),
        made
          .slice(1)
          .map((n) => n.id)
          .sort(),
      );
      const readOne = (await s.notifications.list(me.id, { unreadOnly: false, limit: 10 })).items.find((n) => n.id === made[0].id);
      assert.ok(readOne?.readAt);

      assert.equal(await s.notifications.markRead(me.id, 'all', nextAt()), 3);
      assert.equal(await s.notifications.markRead(me.id, 'all', nextAt()), 0);
      assert.deepEqual((await s.notifications.list(me.id, { unreadOnly: true, limit: 10 })).items, []);
      assert.equal((await s.notifications.list(me.id, { unreadOnly: false, limit: 10 })).items.length, 4);
      assert.equal((await s.notifications.list(other[0].id, { unreadOnly: true, limit: 10 })).items.length, 1);
    });

    it('hides notifications of channels the user has left', async () => {
      const { s, me, ch2, made } = await setup(4);
      await s.channels.removeMember(ch2.id, me.id);
      const left = await s.notifications.list(me.id, { unreadOnly: false, limit: 10 });
      assert.deepEqual(
        left.items.map((n) => n.id).sort(),
        made
          .filter((n) => n.channelId !== ch2.id)
          .map((n) => n.id)
          .sort(),
      );
      assert.equal(left.items.length, 2);
    });
  });
}
