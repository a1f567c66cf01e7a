// SQLite search on reader threads (search-readers.ts): the same answers as the main connection,
// a send is searchable from a reader as soon as it is acknowledged, and a reader that dies hands
// its work back to the main connection instead of failing searches.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newId } from '../../ids.js';
import type { Store } from '../store.js';
import { searchSpec } from '../contract/fixtures.js';
import { openSqliteStore } from './index.js';

const bounds = { window: 100, timeoutMs: 0 };

describe('SQLite search readers', () => {
  let dir: string;
  let store: Store;
  let userId: string;
  let channelId: string;
  const spec = (q: string) => searchSpec(userId, q);

  const send = async (text: string) =>
    (
      await store.messages.create({
        id: newId(),
        channelId,
        authorId: userId,
        text,
        clientMsgId: null,
        parentId: null,
        mentions: { userIds: [], channel: false, here: false },
        fileIds: [],
        createdAt: new Date().toISOString(),
        notify: { mentionUserIds: [], allMembers: null, threadParticipants: false },
      })
    ).message;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nchat-readers-'));
    store = await openSqliteStore({ file: join(dir, 'x.db'), sync: 'normal', searchReaders: 2 });
    await store.migrate();
    const at = new Date().toISOString();
    userId = (
      await store.users.create({ id: newId(), username: 'r', email: 'r@x.test', displayName: 'R', passwordHash: 'h', createdAt: at })
    ).id;
    channelId = (
      await store.channels.create({ id: newId(), type: 'public', name: 'c', description: '', topic: '', createdBy: userId, createdAt: at })
    ).id;
  });

  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers from the readers, and sees each send as soon as it is acknowledged', async () => {
    // The first search starts the readers and runs on the main connection; wait until they load.
    await store.search.search(spec('warm'), bounds);
    const readers = (store.search as any).readers.readers as { alive: boolean; ready: boolean }[];
    for (let i = 0; i < 600 && !readers.every((r) => r.ready); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(readers.every((r) => r.ready && r.alive));
    for (let i = 0; i < 20; i++) {
      const m = await send(`alpha number${i}`);
      const r = await store.search.search(spec(`number${i}`), bounds);
      assert.deepEqual(
        r.hits.map((h) => h.message.id),
        [m.id],
      );
    }
    assert.equal(readers.length, 2);
    assert.ok(readers.every((r) => r.alive));
    assert.deepEqual(await store.search.suggestTerms(userId, 'numb', 3, 100), [
      { term: 'number0', count: 1 },
      { term: 'number1', count: 1 },
      { term: 'number10', count: 1 },
    ]);
  });

  it('a bad cursor is the same AppError through a reader', async () => {
    await assert.rejects(
      store.search.search({ ...spec('alpha'), snapshot: 'x'.repeat(30) }, bounds),
      (e: any) => e.code === 'VALIDATION_FAILED',
    );
  });

  it('a reader that dies: its calls and later ones run on the main connection', async () => {
    const readers = (store.search as any).readers.readers as { worker: { terminate(): Promise<number> }; alive: boolean }[];
    const pending = store.search.search(spec('alpha'), bounds);
    await Promise.all(readers.map((r) => r.worker.terminate()));
    assert.equal((await pending).total, 20);
    assert.equal((await store.search.search(spec('alpha'), bounds)).total, 20);
    assert.ok(readers.every((r) => !r.alive));
  });
});
