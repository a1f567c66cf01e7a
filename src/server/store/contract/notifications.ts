import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newId } from '../../ids.js';
import type { Store } from '../store.js';
import type { Channel, NewMessage, Notification, User } from '../types.js';
import { mkChannel, mkUsers, newMsg, nextAt, type Ctx } from './fixtures.js';

type Notify = NewMessage['notify'];
const notify = (n: Partial<Notify>): Notify => ({ mentionUserIds: [], allMembers: null, threadParticipants: false, ...n });

/** user id → kind, for comparing recipients without caring about row order. */
const kinds = (ns: Notification[]) => Object.fromEntries(ns.map((n) => [n.userId, n.kind]));

async function groupDm(s: Store, users: User[]): Promise<Channel> {
  return (await s.channels.getOrCreateDm(users.map((u) => u.id), users[0].id, newId(), nextAt())).channel;
}

export function notificationsContract(ctx: Ctx): void {
  describe('notifications on send', () => {
    it('mentions reach members only, never the author, with the full row returned', async () => {
      const s = ctx.store;
      const [a, b, c, outsider] = await mkUsers(s, 4);
      const ch = await mkChannel(s, a, { members: [b, c] });
      const input = newMsg(ch, a, { notify: notify({ mentionUserIds: [b.id, outsider.id, a.id, b.id] }) });
      const r = await s.messages.create(input);
      assert.equal(r.notifications.length, 1);
      const n = r.notifications[0];
      assert.equal(typeof n.id, 'string');
      assert.deepEqual(n, {
        id: n.id, userId: b.id, kind: 'mention', channelId: ch.id, messageId: input.id, seq: r.message.seq,
        actorId: a.id, createdAt: input.createdAt, readAt: null,
      });
      assert.deepEqual((await s.notifications.list(b.id, { unreadOnly: false, limit: 10 })).items, [n]);
      assert.deepEqual((await s.notifications.list(outsider.id, { unreadOnly: false, limit: 10 })).items, []);
      assert.deepEqual((await s.notifications.list(a.id, { unreadOnly: false, limit: 10 })).items, []);
    });

    it('allMembers: every member but the author, as dm or mention', async () => {
      const s = ctx.store;
      const [a, b, c] = await mkUsers(s, 3);
      const ch = await mkChannel(s, a, { members: [b, c] });
      const r = await s.messages.create(newMsg(ch, a, { notify: notify({ allMembers: 'mention' }) }));
      assert.deepEqual(kinds(r.notifications), { [b.id]: 'mention', [c.id]: 'mention' });
      const dm = await groupDm(s, [a, b]);
      const r2 = await s.messages.create(newMsg(dm, b, { notify: notify({ allMembers: 'dm' }) }));
      assert.deepEqual(kinds(r2.notifications), { [a.id]: 'dm' });
      const none = await s.messages.create(newMsg(ch, a));
      assert.deepEqual(none.notifications, []);
    });

    it('thread participants get reply; one row per user with precedence mention > reply > dm', async () => {
      const s = ctx.store;
      const [a, b, c, d, e] = await mkUsers(s, 5);
      const ch = await groupDm(s, [a, b, c, d]);
      const root = (await s.messages.create(newMsg(ch, b, { text: 'root' }))).message;
      const r1 = await s.messages.create(newMsg(ch, c, { parentId: root.id, notify: notify({ threadParticipants: true }) }));
      assert.deepEqual(kinds(r1.notifications), { [b.id]: 'reply' });
      const r2 = await s.messages.create(
        newMsg(ch, a, { parentId: root.id, notify: notify({ mentionUserIds: [c.id, e.id], allMembers: 'dm', threadParticipants: true }) }),
      );
      assert.deepEqual(kinds(r2.notifications), { [b.id]: 'reply', [c.id]: 'mention', [d.id]: 'dm' });
      assert.equal(r2.notifications.length, 3);
      // threadParticipants without a parent: nobody gets 'reply'.
      const flat = await s.messages.create(newMsg(ch, a, { notify: notify({ threadParticipants: true }) }));
      assert.deepEqual(flat.notifications, []);
      // A participant who left the channel is not notified.
      await s.channels.removeMember(ch.id, c.id);
      const r3 = await s.messages.create(newMsg(ch, d, { parentId: root.id, notify: notify({ threadParticipants: true }) }));
      assert.deepEqual(kinds(r3.notifications), { [b.id]: 'reply', [a.id]: 'reply' });
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
      assert.deepEqual(ids, made.map((n) => n.id).sort().reverse());
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
      assert.deepEqual(unread.items.map((n) => n.id).sort(), made.slice(1).map((n) => n.id).sort());
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
      assert.deepEqual(left.items.map((n) => n.id).sort(), made.filter((n) => n.channelId !== ch2.id).map((n) => n.id).sort());
      assert.equal(left.items.length, 2);
    });
  });
}
