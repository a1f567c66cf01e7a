import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newId } from '../../ids.js';
import { mkChannel, mkUsers, newMsg, nextAt, post, sorted, type Ctx } from './fixtures.js';

export function membersContract(ctx: Ctx): void {
  describe('members', () => {
    it('memberIdsByUsernames: members among the names, case-insensitive; non-members and unknown names left out', async () => {
      const s = ctx.store;
      const [owner, u1, u2, outsider] = await mkUsers(s, 4);
      const ch = await mkChannel(s, owner, { members: [u1, u2] });
      const names = [u2.username.toUpperCase(), outsider.username, 'no-such-user-x', u1.username, owner.username];
      const got = await s.channels.memberIdsByUsernames(ch.id, names);
      assert.deepEqual(sorted(got), sorted([owner.id, u1.id, u2.id]), 'the members named');
      assert.deepEqual(await s.channels.memberIdsByUsernames(ch.id, []), []);
      assert.deepEqual(await s.channels.memberIdsByUsernames(newId(), [u1.username]), [], 'no such channel: nobody');
    });

    it('memberIdsByUsernames called many times at once: each call gets the answer it would get alone', async () => {
      // PostgreSQL shares one statement between the calls of an event-loop turn (read-batch.ts).
      const s = ctx.store;
      const [owner, u1, u2, outsider] = await mkUsers(s, 4);
      const a = await mkChannel(s, owner, { members: [u1] });
      const b = await mkChannel(s, owner, { members: [u1, u2] });
      const calls: [string, string[]][] = [
        [a.id, [u1.username, u2.username]],
        [b.id, [u1.username.toUpperCase(), u2.username, u2.username]],
        [b.id, [outsider.username]],
        [a.id, [u2.username, u1.username]],
        [newId(), [u1.username]],
        [a.id, ['no-such-user-y', owner.username, u1.username]],
        [b.id, []],
      ];
      const together = await Promise.all(calls.map(([ch, names]) => s.channels.memberIdsByUsernames(ch, names)));
      const alone: string[][] = [];
      for (const [ch, names] of calls) alone.push(await s.channels.memberIdsByUsernames(ch, names));
      assert.deepEqual(together.map(sorted), alone.map(sorted), 'together as alone');
      assert.deepEqual(
        together.map(sorted),
        [[u1.id], sorted([u1.id, u2.id]), [], [u1.id], [], sorted([owner.id, u1.id]), []].map(sorted),
        'the members named, per call',
      );
    });

    it('addMembers adds only new members and keeps memberCount', async () => {
      const s = ctx.store;
      const [owner, u1, u2, u3] = await mkUsers(s, 4);
      const ch = await mkChannel(s, owner);
      const when = nextAt();
      const added = await s.channels.addMembers(
        ch.id,
        [
          { userId: u1.id, role: 'member' },
          { userId: u2.id, role: 'admin' },
        ],
        when,
      );
      assert.deepEqual(sorted(added), sorted([u1.id, u2.id]));
      const again = await s.channels.addMembers(
        ch.id,
        [
          { userId: u2.id, role: 'member' },
          { userId: u3.id, role: 'member' },
          { userId: owner.id, role: 'member' },
        ],
        nextAt(),
      );
      assert.deepEqual(again, [u3.id]);
      assert.deepEqual(await s.channels.addMembers(ch.id, [], nextAt()), []);
      assert.equal((await s.channels.get(ch.id))!.memberCount, 4);
      assert.deepEqual(await s.channels.getMember(ch.id, u2.id), {
        channelId: ch.id,
        userId: u2.id,
        role: 'admin',
        joinedAt: when,
        readSeq: 0,
      });
      assert.equal((await s.channels.getMember(ch.id, owner.id))!.role, 'owner');
      assert.deepEqual(sorted(await s.channels.memberIds(ch.id)), sorted([owner.id, u1.id, u2.id, u3.id]));
    });

    it('getWithMember equals get() plus getMember(), member undefined for outsiders', async () => {
      const s = ctx.store;
      const [owner, u1, outsider] = await mkUsers(s, 3);
      const ch = await mkChannel(s, owner, { members: [u1] });
      await s.channels.markRead(ch.id, u1.id, 0);
      const inside = await s.channels.getWithMember(ch.id, u1.id);
      assert.deepEqual(inside, { channel: await s.channels.get(ch.id), member: await s.channels.getMember(ch.id, u1.id) });
      const outside = await s.channels.getWithMember(ch.id, outsider.id);
      assert.deepEqual(outside, { channel: await s.channels.get(ch.id), member: undefined });
      assert.equal(await s.channels.getWithMember(newId(), u1.id), undefined);
    });

    it('getWithMember calls made together (a store may share one read among them) each get their own answer', async () => {
      const s = ctx.store;
      const [owner, u1, outsider] = await mkUsers(s, 3);
      const a = await mkChannel(s, owner, { members: [u1] });
      const b = await mkChannel(s, u1);
      await s.channels.markRead(a.id, u1.id, 0);
      const keys: [string, string][] = [
        [a.id, u1.id],
        [a.id, owner.id],
        [a.id, outsider.id],
        [b.id, u1.id],
        [b.id, owner.id],
        [newId(), u1.id],
        [a.id, u1.id], // the same key twice in one turn
        ['not-an-id \u0000', u1.id], // a key no store can match must not fail the others
      ];
      const together = await Promise.allSettled(keys.map(([c, u]) => s.channels.getWithMember(c, u)));
      for (const [i, [c, u]] of keys.entries()) {
        const alone = await s.channels.getWithMember(c, u).then(
          (v) => ({ status: 'fulfilled', value: v }),
          (e: unknown) => ({ status: 'rejected', reason: String(e) }),
        );
        const got = together[i].status === 'fulfilled' ? together[i] : { status: 'rejected', reason: String(together[i].reason) };
        assert.deepEqual(got, alone, `key ${i}`);
      }
      const [first, again] = [together[0], together[6]];
      assert.ok(first.status === 'fulfilled' && again.status === 'fulfilled' && first.value && again.value);
      assert.notEqual(first.value, again.value, 'each caller its own object');
      assert.equal(together[2].status === 'fulfilled' && together[2].value?.member, undefined, 'outsider: no member');
    });

    it('removeMember and setMemberRole report whether the user was a member', async () => {
      const s = ctx.store;
      const [owner, u1, outsider] = await mkUsers(s, 3);
      const ch = await mkChannel(s, owner, { members: [u1] });
      assert.equal(await s.channels.setMemberRole(ch.id, u1.id, 'admin'), true);
      assert.equal((await s.channels.getMember(ch.id, u1.id))!.role, 'admin');
      assert.equal(await s.channels.setMemberRole(ch.id, outsider.id, 'admin'), false);
      assert.equal(await s.channels.getMember(ch.id, outsider.id), undefined);
      assert.equal(await s.channels.removeMember(ch.id, u1.id), true);
      assert.equal(await s.channels.removeMember(ch.id, u1.id), false);
      assert.equal(await s.channels.getMember(ch.id, u1.id), undefined);
      assert.equal((await s.channels.get(ch.id))!.memberCount, 1);
      assert.deepEqual(await s.channels.memberIds(ch.id), [owner.id]);
    });

    it('listMembers is ordered by user id and paged by a user-id cursor', async () => {
      const s = ctx.store;
      const users = await mkUsers(s, 5);
      const ch = await mkChannel(s, users[0], { members: users.slice(1) });
      const ids = sorted(users.map((u) => u.id));
      const all = await s.channels.listMembers(ch.id, 100);
      assert.deepEqual(
        all.map((m) => m.userId),
        ids,
      );
      const p1 = await s.channels.listMembers(ch.id, 2);
      assert.deepEqual(
        p1.map((m) => m.userId),
        ids.slice(0, 2),
      );
      const p2 = await s.channels.listMembers(ch.id, 2, p1[1].userId);
      assert.deepEqual(
        p2.map((m) => m.userId),
        ids.slice(2, 4),
      );
      const p3 = await s.channels.listMembers(ch.id, 2, p2[1].userId);
      assert.deepEqual(
        p3.map((m) => m.userId),
        ids.slice(4),
      );
      assert.deepEqual(await s.channels.listMembers(newId(), 10), []);
    });

    it("positionsForUser lists exactly the user's channels with lastSeq", async () => {
      const s = ctx.store;
      const [u, other] = await mkUsers(s, 2);
      const a = await mkChannel(s, u);
      const b = await mkChannel(s, other, { members: [u] });
      const notMine = await mkChannel(s, other);
      await post(s, a, u, 2);
      await post(s, notMine, other, 1);
      const pos = await s.channels.positionsForUser(u.id);
      assert.deepEqual(
        [...pos].sort((x, y) => x.channelId.localeCompare(y.channelId)),
        [
          { channelId: a.id, lastSeq: 2 },
          { channelId: b.id, lastSeq: 0 },
        ].sort((x, y) => x.channelId.localeCompare(y.channelId)),
      );
    });

    it('markRead is monotonic, capped at lastSeq, and undefined for non-members', async () => {
      const s = ctx.store;
      const [owner, reader, outsider] = await mkUsers(s, 3);
      const ch = await mkChannel(s, owner, { members: [reader] });
      await post(s, ch, owner, 3);
      assert.equal(await s.channels.markRead(ch.id, reader.id, 2), 2);
      assert.equal(await s.channels.markRead(ch.id, reader.id, 1), 2);
      assert.equal(await s.channels.markRead(ch.id, reader.id, 99), 3);
      assert.equal((await s.channels.getMember(ch.id, reader.id))!.readSeq, 3);
      assert.equal(await s.channels.markRead(ch.id, outsider.id, 1), undefined);
      assert.equal(await s.channels.markRead(newId(), reader.id, 1), undefined);
      // The author's own message moves the author's read position.
      await s.messages.create(newMsg(ch, reader));
      assert.equal((await s.channels.getMember(ch.id, reader.id))!.readSeq, 4);
    });

    it('listForUser: read state, unreadCount and mentionCount per member', async () => {
      const s = ctx.store;
      const [a, b, c, d] = await mkUsers(s, 4);
      const ch = await mkChannel(s, a, { members: [b, c, d] });
      const send = async (author: typeof a, mentions: Partial<{ userIds: string[]; channel: boolean; here: boolean }> = {}) =>
        (await s.messages.create(newMsg(ch, author, { mentions: { userIds: [], channel: false, here: false, ...mentions } }))).message;
      await send(b); //                                    1  b's own: b.readSeq = 1
      await send(a); //                                    2
      await send(a, { userIds: [b.id] }); //               3  mentions b
      await send(a, { channel: true }); //                 4  @channel
      await send(a, { here: true }); //                    5  @here
      await send(a, { userIds: [b.id], channel: true }); //6  counted once
      const m7 = await send(a, { userIds: [b.id] }); //    7  deleted below
      const m8 = await send(a); //                         8  deleted below: a.readSeq = 8
      await send(c, { userIds: [a.id] }); //               9  mentions a; c.readSeq = 9
      await s.messages.softDelete(m7.id, nextAt());
      await s.messages.softDelete(m8.id, nextAt());

      const view = async (u: typeof a) => (await s.channels.listForUser(u.id)).find((x) => x.id === ch.id)!;
      const vb = await view(b);
      assert.deepEqual(
        {
          lastSeq: vb.lastSeq,
          readSeq: vb.readSeq,
          unread: vb.unreadCount,
          mentions: vb.mentionCount,
          role: vb.memberRole,
          dm: vb.dmUserIds,
        },
        { lastSeq: 9, readSeq: 1, unread: 6, mentions: 4, role: 'member', dm: null },
      );
      const asChannel: Record<string, unknown> = { ...vb };
      for (const k of ['memberRole', 'readSeq', 'unreadCount', 'mentionCount', 'dmUserIds']) delete asChannel[k];
      assert.deepEqual(asChannel, await s.channels.get(ch.id));
      assert.deepEqual(pick(await view(d)), { readSeq: 0, unread: 7, mentions: 3 });
      assert.deepEqual(pick(await view(a)), { readSeq: 8, unread: 1, mentions: 1 });
      assert.deepEqual(pick(await view(c)), { readSeq: 9, unread: 0, mentions: 0 });
      assert.equal((await view(a)).memberRole, 'owner');

      await s.channels.markRead(ch.id, b.id, 4);
      assert.deepEqual(pick(await view(b)), { readSeq: 4, unread: 3, mentions: 2 });

      // Archived channels stay in the member's list; channels left disappear.
      await s.channels.archive(ch.id, nextAt());
      assert.ok((await view(b)).archivedAt);
      await s.channels.removeMember(ch.id, d.id);
      assert.equal(
        (await s.channels.listForUser(d.id)).some((x) => x.id === ch.id),
        false,
      );
    });
  });
}

function pick(v: { readSeq: number; unreadCount: number; mentionCount: number }) {
  return { readSeq: v.readSeq, unread: v.unreadCount, mentions: v.mentionCount };
}
