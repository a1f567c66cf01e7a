// The page rule (paging.ts), checked on every paged read of every backend: a limit outside
// 1..max or a bad seq cursor throws before any SQL runs; the maximum itself is accepted; the
// value asked for is the value used (no clamping, no rounding).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { PAGE_LIMITS, type PagedRead } from '../paging.js';
import type { Channel, Message, User } from '../types.js';
import { mkChannel, mkUsers, newMsg, post, seqs, type Ctx } from './fixtures.js';

const throwsRange = async (p: Promise<unknown>, what: string) =>
  assert.rejects(p, (e: unknown) => e instanceof RangeError, `${what}: expected a RangeError`);

export function pagingContract(ctx: Ctx): void {
  describe('page rule', () => {
    let users: User[];
    let ch: Channel;
    let root: Message;
    before(async () => {
      const s = ctx.store;
      users = await mkUsers(s, 3);
      ch = await mkChannel(s, users[0], { members: users.slice(1) });
      root = (await s.messages.create(newMsg(ch, users[0], { text: 'root' }))).message;
      for (let i = 0; i < 3; i++) await s.messages.create(newMsg(ch, users[1], { parentId: root.id, text: `r${i}` }));
      await post(s, ch, users[0], 4); // seqs 5..8
    });

    /** Every paged read, called with one limit. */
    const reads: Record<PagedRead, (limit: number) => Promise<unknown>> = {
      history: (limit) => ctx.store.messages.history(ch.id, { limit }),
      thread: (limit) => ctx.store.messages.thread(root.id, limit),
      publicChannels: (limit) => ctx.store.channels.listPublic(limit),
      members: (limit) => ctx.store.channels.listMembers(ch.id, limit),
      users: (limit) => ctx.store.users.search('u', limit),
      notifications: (limit) => ctx.store.notifications.list(users[1].id, { unreadOnly: false, limit }),
    };

    for (const read of Object.keys(reads) as PagedRead[]) {
      const max = PAGE_LIMITS[read].max;
      it(`${read}: limit must be an integer in 1..${max}; ${max} itself is accepted`, async () => {
        for (const bad of [
          0,
          -1,
          max + 1,
          Number.NaN,
          Number.POSITIVE_INFINITY,
          1.5,
          'abc' as unknown as number,
          undefined as unknown as number,
        ]) {
          await throwsRange(reads[read](bad), `${read} limit=${String(bad)}`);
        }
        await reads[read](max);
        await reads[read](1);
      });
    }

    it('history: before/after must be integers ≥ 0 when given; the limit asked for is the one used', async () => {
      const s = ctx.store;
      for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, null as unknown as number]) {
        await throwsRange(s.messages.history(ch.id, { before: bad, limit: 10 }), `before=${String(bad)}`);
        await throwsRange(s.messages.history(ch.id, { after: bad, limit: 10 }), `after=${String(bad)}`);
      }
      assert.deepEqual(seqs(await s.messages.history(ch.id, { limit: 3 })), [8, 7, 6]);
      assert.deepEqual(seqs(await s.messages.history(ch.id, { after: 0, limit: 1 })), [1]);
      assert.deepEqual(seqs(await s.messages.history(ch.id, { before: 0, limit: 10 })), []);
      // Both cursors: the seqs strictly between them, oldest first.
      assert.deepEqual(seqs(await s.messages.history(ch.id, { after: 2, before: 6, limit: 10 })), [3, 4, 5]);
      assert.deepEqual(seqs(await s.messages.history(ch.id, { after: 2, before: 6, limit: 2 })), [3, 4]);
    });

    it('thread: afterSeq must be an integer ≥ 0 when given', async () => {
      const s = ctx.store;
      for (const bad of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        await throwsRange(s.messages.thread(root.id, 10, bad), `afterSeq=${bad}`);
      }
      const all = await s.messages.thread(root.id, 10);
      assert.deepEqual(seqs(all), [2, 3, 4]);
      assert.deepEqual(seqs(await s.messages.thread(root.id, 10, 0)), [2, 3, 4]);
      assert.deepEqual(seqs(await s.messages.thread(root.id, 10, 2)), [3, 4]);
    });
  });
}
