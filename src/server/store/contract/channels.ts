import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newId } from '../../ids.js';
import { mkChannel, mkUser, mkUsers, nextAt, rejectsWith, sorted, uniq, type Ctx } from './fixtures.js';

export function channelsContract(ctx: Ctx): void {
  describe('channels', () => {
    it('creates a channel with its creator as owner member', async () => {
      const s = ctx.store;
      const owner = await mkUser(s);
      const input = {
        id: newId(),
        type: 'private' as const,
        name: uniq('c'),
        description: 'd',
        topic: 't',
        createdBy: owner.id,
        createdAt: nextAt(),
      };
      const ch = await s.channels.create(input);
      assert.deepEqual(ch, { ...input, archivedAt: null, lastSeq: 0, memberCount: 1 });
      assert.deepEqual(await s.channels.get(ch.id), ch);
      const m = await s.channels.getMember(ch.id, owner.id);
      assert.deepEqual(m, { channelId: ch.id, userId: owner.id, role: 'owner', joinedAt: input.createdAt, readSeq: 0 });
      assert.equal(await s.channels.get(newId()), undefined);
      assert.equal(await s.channels.getMember(ch.id, newId()), undefined);
    });

    it('rejects a taken name case-insensitively, across public and private, on create and rename', async () => {
      const s = ctx.store;
      const owner = await mkUser(s);
      const name = uniq('c');
      const a = await mkChannel(s, owner, { name });
      const dupId = newId();
      await rejectsWith(
        s.channels.create({
          id: dupId,
          type: 'private',
          name: name.toUpperCase(),
          description: '',
          topic: '',
          createdBy: owner.id,
          createdAt: nextAt(),
        }),
        'CHANNEL_NAME_TAKEN',
      );
      assert.equal(await s.channels.get(dupId), undefined);
      const b = await mkChannel(s, owner);
      await rejectsWith(s.channels.update(b.id, { name: a.name!.toUpperCase() }), 'CHANNEL_NAME_TAKEN');
      assert.equal((await s.channels.get(b.id))!.name, b.name);
    });

    it('update patches only the given fields; archive sets archivedAt', async () => {
      const s = ctx.store;
      const owner = await mkUser(s);
      const ch = await mkChannel(s, owner);
      const newName = uniq('c');
      const v1 = await s.channels.update(ch.id, { name: newName, topic: 'new topic' });
      assert.deepEqual(v1, { ...ch, name: newName, topic: 'new topic' });
      const v2 = await s.channels.update(ch.id, { description: '' });
      assert.deepEqual(v2, { ...v1, description: '' });
      assert.equal(await s.channels.update(newId(), { topic: 'x' }), undefined);
      const when = nextAt();
      const archived = await s.channels.archive(ch.id, when);
      assert.deepEqual(archived, { ...v2, archivedAt: when });
      assert.deepEqual(await s.channels.get(ch.id), archived);
      assert.equal(await s.channels.archive(newId(), nextAt()), undefined);
    });

    it('getOrCreateDm: one channel per set of users, in any order, with all of them as members', async () => {
      const s = ctx.store;
      const [a, b, c] = await mkUsers(s, 3);
      const first = await s.channels.getOrCreateDm([a.id, b.id], a.id, newId(), nextAt());
      assert.equal(first.created, true);
      assert.equal(first.channel.type, 'direct');
      assert.equal(first.channel.name, null);
      assert.equal(first.channel.memberCount, 2);
      assert.deepEqual(sorted(await s.channels.memberIds(first.channel.id)), sorted([a.id, b.id]));

      const again = await s.channels.getOrCreateDm([b.id, a.id], b.id, newId(), nextAt());
      assert.equal(again.created, false);
      assert.deepEqual(again.channel, first.channel);
      const dup = await s.channels.getOrCreateDm([a.id, b.id, a.id], a.id, newId(), nextAt());
      assert.equal(dup.channel.id, first.channel.id);

      const self = await s.channels.getOrCreateDm([c.id], c.id, newId(), nextAt());
      assert.equal(self.channel.type, 'direct');
      assert.equal(self.channel.memberCount, 1);
      assert.notEqual(self.channel.id, first.channel.id);

      const group = await s.channels.getOrCreateDm([c.id, a.id, b.id], c.id, newId(), nextAt());
      assert.equal(group.created, true);
      assert.equal(group.channel.type, 'group');
      assert.equal(group.channel.memberCount, 3);
      assert.equal((await s.channels.getOrCreateDm([b.id, c.id, a.id], a.id, newId(), nextAt())).channel.id, group.channel.id);

      const listed = (await s.channels.listForUser(a.id)).find((x) => x.id === group.channel.id);
      assert.deepEqual(listed?.dmUserIds, sorted([a.id, b.id, c.id]));
    });

    it('getOrCreateDm is idempotent under concurrent calls for the same set', async () => {
      const s = ctx.store;
      const users = await mkUsers(s, 3);
      const orders = [
        [0, 1, 2],
        [2, 1, 0],
        [1, 0, 2],
        [0, 2, 1],
        [2, 0, 1],
        [1, 2, 0],
      ];
      const results = await Promise.all(
        orders.map((o) =>
          s.channels.getOrCreateDm(
            o.map((i) => users[i].id),
            users[o[0]].id,
            newId(),
            nextAt(),
          ),
        ),
      );
      assert.equal(new Set(results.map((r) => r.channel.id)).size, 1);
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.deepEqual(sorted(await s.channels.memberIds(results[0].channel.id)), sorted(users.map((u) => u.id)));

      const [x, y] = await mkUsers(s, 2);
      const pair = await Promise.all(
        Array.from({ length: 6 }, (_, i) => s.channels.getOrCreateDm(i % 2 ? [x.id, y.id] : [y.id, x.id], x.id, newId(), nextAt())),
      );
      assert.equal(new Set(pair.map((r) => r.channel.id)).size, 1);
      assert.equal(pair.filter((r) => r.created).length, 1);
    });

    it('listPublic: non-archived public channels ordered by name, paged by a name cursor', async () => {
      const s = ctx.store;
      const owner = await mkUser(s);
      const p = uniq('lp');
      const c = await mkChannel(s, owner, { name: `${p}c` });
      const a = await mkChannel(s, owner, { name: `${p}a` });
      await mkChannel(s, owner, { name: `${p}b`, type: 'private' });
      const d = await mkChannel(s, owner, { name: `${p}d` });
      const gone = await mkChannel(s, owner, { name: `${p}e` });
      await s.channels.archive(gone.id, nextAt());
      await s.channels.getOrCreateDm([owner.id], owner.id, newId(), nextAt());

      const page = await s.channels.listPublic(3, p);
      assert.deepEqual(
        page.map((x) => x.id),
        [a.id, c.id, d.id],
      );
      assert.deepEqual(page[0], a);
      const first = await s.channels.listPublic(1, p);
      assert.deepEqual(
        first.map((x) => x.id),
        [a.id],
      );
      const next = await s.channels.listPublic(2, first[0].name!);
      assert.deepEqual(
        next.map((x) => x.id),
        [c.id, d.id],
      );
      const names = (await s.channels.listPublic(200)).map((x) => x.name!.toLowerCase());
      assert.deepEqual(names, [...names].sort());
      for (const x of await s.channels.listPublic(200)) assert.equal(x.type, 'public');
    });
  });
}
