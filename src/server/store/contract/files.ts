// FileStore and the file parts of MessageStore (issue 11), on every backend: rows, the atomic
// quota, attaching in the send transaction (own files only, at most once, all or nothing, also
// inside a group-commit batch), the snapshot in history, shares removed by delete, thumbnails.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SendRefused } from '../../errors.js';
import { newId } from '../../ids.js';
import { type NewFile, toFileObject } from '../file-store.js';
import type { Store } from '../store.js';
import type { User } from '../types.js';
import { type Ctx, mkChannel, mkUsers, newMsg, nextAt, rejectsWith } from './fixtures.js';

/** A file row of `uploader` (unattached, not an image unless `over` says so). */
export function newFile(uploader: User, over: Partial<NewFile> = {}): NewFile {
  return {
    id: newId(),
    uploaderId: uploader.id,
    channelId: null,
    name: 'a.bin',
    size: 100,
    mime: 'application/octet-stream',
    sha256: randomBytes(32).toString('hex'),
    blobKey: `f/00/${randomBytes(16).toString('hex')}`,
    isImage: false,
    width: null,
    height: null,
    thumbState: 'none',
    createdAt: nextAt(),
    ...over,
  };
}

async function mkFile(s: Store, uploader: User, over: Partial<NewFile> = {}) {
  const f = newFile(uploader, over);
  assert.equal(await s.files.create(f, 0), true);
  return f;
}

export function filesContract(ctx: Ctx): void {
  describe('files', () => {
    it('create / get round trip; usage sums the uploader’s sizes; unknown ids are undefined', async () => {
      const s = ctx.store;
      const [a, b] = await mkUsers(s, 2);
      const f = await mkFile(s, a, {
        size: 1234,
        isImage: true,
        mime: 'image/png',
        width: 10,
        height: 20,
        thumbState: 'pending',
        name: 'é 😀.png',
      });
      await mkFile(s, a, { size: 66 });
      await mkFile(s, b, { size: 5 });
      assert.deepEqual(await s.files.get(f.id), { ...f, thumbKey: null, thumbMs: null, messageId: null });
      assert.equal(await s.files.usage(a.id), 1300);
      assert.equal(await s.files.usage(newId()), 0);
      assert.equal(await s.files.get(newId()), undefined);
      assert.deepEqual(await s.files.sharesOf(f.id), []);
    });

    it('quota: a create past it returns false and writes nothing; concurrent creates never exceed it together', async () => {
      const s = ctx.store;
      const [a] = await mkUsers(s, 1);
      await mkFile(s, a, { size: 400 });
      const over = newFile(a, { size: 101 });
      assert.equal(await s.files.create(over, 500), false);
      assert.equal(await s.files.get(over.id), undefined);
      assert.equal(await s.files.create(newFile(a, { size: 100 }), 500), true, 'exactly the quota fits');
      const [c] = await mkUsers(s, 1);
      const results = await Promise.all(Array.from({ length: 10 }, () => s.files.create(newFile(c, { size: 100 }), 450)));
      assert.equal(results.filter(Boolean).length, 4);
      assert.equal(await s.files.usage(c.id), 400);
    });

    it('a message with files: snapshot objects in order, in get and history; message_files shares', async () => {
      const s = ctx.store;
      const [a, b] = await mkUsers(s, 2);
      const ch = await mkChannel(s, a, { members: [b] });
      const img = await mkFile(s, a, { isImage: true, mime: 'image/jpeg', width: 4, height: 3, thumbState: 'pending' });
      const doc = await mkFile(s, a);
      const input = newMsg(ch, a, { text: '', fileIds: [doc.id, img.id] });
      const r = await s.messages.create(input);
      const want = [doc, img].map((f) => toFileObject({ ...f, thumbKey: null, thumbMs: null, messageId: null }));
      assert.deepEqual(r.message.files, want);
      assert.deepEqual((await s.messages.get(input.id))!.files, want);
      assert.deepEqual((await s.messages.history(ch.id, { limit: 10 }))[0].files, want);
      assert.deepEqual(await s.files.sharesOf(img.id), [{ messageId: input.id, channelId: ch.id }]);
      assert.equal((await s.files.get(doc.id))!.messageId, input.id);
    });

    it('someone else’s file, an attached file or an unknown id: VALIDATION_FAILED and nothing of the send is written', async () => {
      const s = ctx.store;
      const [a, b] = await mkUsers(s, 2);
      const ch = await mkChannel(s, a, { members: [b] });
      const mine = await mkFile(s, a);
      const theirs = await mkFile(s, b);
      await rejectsWith(s.messages.create(newMsg(ch, a, { fileIds: [mine.id, theirs.id] })), 'VALIDATION_FAILED');
      await rejectsWith(s.messages.create(newMsg(ch, a, { fileIds: [newId()] })), 'VALIDATION_FAILED');
      assert.equal((await s.channels.get(ch.id))!.lastSeq, 0);
      assert.equal((await s.files.get(mine.id))!.messageId, null, 'the refused send attached nothing');
      await s.messages.create(newMsg(ch, a, { fileIds: [mine.id] }));
      await rejectsWith(s.messages.create(newMsg(ch, a, { fileIds: [mine.id] })), 'VALIDATION_FAILED');
      assert.equal((await s.channels.get(ch.id))!.lastSeq, 1);
    });

    it('concurrent sends (one group-commit batch): a bad one fails alone, two claiming one file: exactly one wins', async () => {
      const s = ctx.store;
      const [a, b] = await mkUsers(s, 2);
      const ch = await mkChannel(s, a, { members: [b] });
      const f1 = await mkFile(s, a);
      const shared = await mkFile(s, a);
      const theirs = await mkFile(s, b);
      const out = await Promise.allSettled([
        s.messages.create(newMsg(ch, a, { text: 'plain' })),
        s.messages.create(newMsg(ch, a, { fileIds: [f1.id] })),
        s.messages.create(newMsg(ch, a, { fileIds: [theirs.id] })),
        s.messages.create(newMsg(ch, a, { fileIds: [shared.id] })),
        s.messages.create(newMsg(ch, a, { fileIds: [shared.id] })),
      ]);
      assert.equal(out[0].status, 'fulfilled');
      assert.equal(out[1].status, 'fulfilled');
      assert.equal(out[2].status, 'rejected');
      assert.equal([out[3], out[4]].filter((o) => o.status === 'fulfilled').length, 1);
      assert.equal((await s.channels.get(ch.id))!.lastSeq, 3, 'seqs stay gapless');
    });

    it('checkAuthor with files: the author is checked first (SendRefused, nothing written); then the files (VALIDATION_FAILED)', async () => {
      const s = ctx.store;
      const [a, b, outsider] = await mkUsers(s, 3);
      const ch = await mkChannel(s, a, { members: [b] });
      const mine = await mkFile(s, a);
      const theirs = await mkFile(s, b);
      const outsiders = await mkFile(s, outsider);
      const checked = (author: User, fileIds: string[]) => newMsg(ch, author, { text: '', fileIds, checkAuthor: true });
      for (const fileIds of [[outsiders.id], [theirs.id], [newId()]]) {
        await assert.rejects(
          s.messages.create(checked(outsider, fileIds)),
          (e) => e instanceof SendRefused,
          `non-member, files ${fileIds}`,
        );
      }
      await rejectsWith(s.messages.create(checked(a, [theirs.id])), 'VALIDATION_FAILED');
      assert.equal((await s.channels.get(ch.id))!.lastSeq, 0, 'nothing written');
      assert.equal((await s.files.get(outsiders.id))!.messageId, null);
      const ok = await s.messages.create(checked(a, [mine.id]));
      assert.deepEqual(
        ok.message.files.map((f) => f.id),
        [mine.id],
      );
      assert.equal(ok.message.seq, 1);
      assert.equal((await s.files.get(mine.id))!.messageId, ok.message.id);
    });

    it('a repeated clientMsgId with files returns the original, files and all', async () => {
      const s = ctx.store;
      const [a] = await mkUsers(s, 1);
      const ch = await mkChannel(s, a);
      const f = await mkFile(s, a);
      const first = await s.messages.create(newMsg(ch, a, { clientMsgId: 'files-retry', fileIds: [f.id] }));
      const again = await s.messages.create(newMsg(ch, a, { clientMsgId: 'files-retry', fileIds: [f.id] }));
      assert.equal(again.created, false);
      assert.deepEqual(again.message, first.message);
    });

    it('soft delete blanks the files and removes the shares; the file row stays attached (never re-attachable)', async () => {
      const s = ctx.store;
      const [a] = await mkUsers(s, 1);
      const ch = await mkChannel(s, a);
      const f = await mkFile(s, a);
      const m = (await s.messages.create(newMsg(ch, a, { fileIds: [f.id] }))).message;
      const d = await s.messages.softDelete(m.id, nextAt());
      assert.deepEqual(d!.files, []);
      assert.deepEqual((await s.messages.get(m.id))!.files, []);
      assert.deepEqual(await s.files.sharesOf(f.id), []);
      assert.equal((await s.files.get(f.id))!.messageId, m.id);
    });

    it('sweepUnattached: deletes never-attached files created before the cutoff, oldest first, up to the limit; keeps attached files (also of deleted messages), avatars and newer files', async () => {
      const s = ctx.store;
      const [a, b] = await mkUsers(s, 2);
      const ch = await mkChannel(s, a, { members: [b] });
      // Far in the past: no other test's file (nextAt(): now onwards) is ever before these cutoffs.
      const old = (day: number, ms = 0) => new Date(Date.UTC(2001, 0, day) + ms).toISOString();
      const o1 = await mkFile(s, a, { createdAt: old(1), size: 70 });
      const o2 = await mkFile(s, b, { createdAt: old(2), isImage: true, mime: 'image/png', thumbState: 'pending' });
      const attached = await mkFile(s, a, { createdAt: old(3) });
      const ofDeleted = await mkFile(s, a, { createdAt: old(4) });
      const avatar = await mkFile(s, b, { createdAt: old(5), isImage: true, mime: 'image/png' });
      const fresh = await mkFile(s, a, { createdAt: old(20) });
      await s.messages.create(newMsg(ch, a, { fileIds: [attached.id] }));
      const m = (await s.messages.create(newMsg(ch, a, { fileIds: [ofDeleted.id] }))).message;
      await s.messages.softDelete(m.id, nextAt());
      await s.users.update(b.id, { avatarFileId: avatar.id });
      const usageBefore = await s.files.usage(a.id);

      const first = await s.files.sweepUnattached(old(10), 1);
      assert.deepEqual(first, [{ ...o1, thumbKey: null, thumbMs: null, messageId: null }], 'the oldest first, the whole row');
      assert.deepEqual(
        (await s.files.sweepUnattached(old(10), 100)).map((f) => f.id),
        [o2.id],
      );
      assert.deepEqual(await s.files.sweepUnattached(old(10), 100), [], 'nothing left to sweep');
      assert.equal(await s.files.get(o1.id), undefined);
      assert.equal(await s.files.get(o2.id), undefined);
      for (const kept of [attached, ofDeleted, avatar, fresh]) assert.ok(await s.files.get(kept.id), `${kept.createdAt} kept`);
      assert.equal(await s.files.usage(a.id), usageBefore - 70, 'the quota no longer counts a swept file');
      assert.ok(!(await s.files.pendingThumbnails(100000)).some((f) => f.id === o2.id));
      // Once the avatar is replaced it is an ordinary unattached upload again.
      await s.users.update(b.id, { avatarFileId: null });
      assert.deepEqual(
        (await s.files.sweepUnattached(old(10), 100)).map((f) => f.id),
        [avatar.id],
      );
      assert.ok(await s.files.get(fresh.id), 'newer than the cutoff: kept');
      assert.deepEqual(
        (await s.files.sweepUnattached(old(21), 100)).map((f) => f.id),
        [fresh.id],
        'swept once the cutoff passes it',
      );
    });

    it('sweepUnattached from several sweepers at once (nodes sharing the database): every row is returned by exactly one', async () => {
      const s = ctx.store;
      const [a] = await mkUsers(s, 1);
      const old = (ms: number) => new Date(Date.UTC(2002, 0, 1) + ms).toISOString();
      const ids = new Set<string>();
      for (let i = 0; i < 40; i++) ids.add((await mkFile(s, a, { createdAt: old(i) })).id);
      const got: string[] = [];
      // Rounds of 5 concurrent sweeps of up to 6 rows each, until the files are gone.
      for (let round = 0; round < 20 && got.length < ids.size; round++) {
        const parts = await Promise.all(Array.from({ length: 5 }, () => s.files.sweepUnattached(old(1000), 6)));
        for (const p of parts) got.push(...p.map((f) => f.id));
      }
      assert.equal(new Set(got).size, got.length, 'no row was returned to two sweepers');
      assert.deepEqual(new Set(got), ids, 'every file was swept');
      assert.equal(await s.files.usage(a.id), 0);
    });

    it('thumbnails: pending ones are listed oldest first; setThumbnail records the outcome', async () => {
      const s = ctx.store;
      const [a] = await mkUsers(s, 1);
      const p1 = await mkFile(s, a, { isImage: true, thumbState: 'pending' });
      const p2 = await mkFile(s, a, { isImage: true, thumbState: 'pending' });
      const pending = (await s.files.pendingThumbnails(100000)).map((f) => f.id);
      assert.ok(pending.indexOf(p1.id) >= 0 && pending.indexOf(p1.id) < pending.indexOf(p2.id));
      const done = await s.files.setThumbnail(p1.id, { state: 'ready', thumbKey: 't/00/aa', thumbMs: 12.4 });
      assert.deepEqual([done!.thumbState, done!.thumbKey, done!.thumbMs], ['ready', 't/00/aa', 12]);
      assert.equal((await s.files.setThumbnail(p2.id, { state: 'failed', thumbKey: null, thumbMs: 3 }))!.thumbState, 'failed');
      assert.ok(!(await s.files.pendingThumbnails(100000)).some((f) => f.id === p1.id || f.id === p2.id));
      assert.equal(await s.files.setThumbnail(newId(), { state: 'failed', thumbKey: null, thumbMs: 1 }), undefined);
    });
  });
}
