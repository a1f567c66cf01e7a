// PostgreSQL type-ahead terms (PostgresSearch.suggestTerms): counted over a sample of the
// caller's recent messages (the newest of each channel), and from the GIN index as well only for a
// rare prefix of 4+ letters. The contract suite checks permissions and edits on small corpora,
// where the sample is every message; here a busy channel is larger than the sample.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import pg from 'pg';
import { describePostgres, type FreshPostgres, freshPostgres } from '../../../../test/helpers/postgres.js';
import { newId } from '../../ids.js';
import type { Store } from '../store.js';
import { openPostgresStore } from './index.js';

const noMentions = { userIds: [], channel: false, here: false };
const notify = { mentionUserIds: [], allMembers: null, threadParticipants: false };
/** More than the sample reads in all (SUGGEST_SCAN = 400). */
const BUSY = 900;

await describePostgres('postgres suggestTerms: a sample of recent messages, the index for rare prefixes', () => {
  let db: FreshPostgres;
  let store: Store;
  let user: string;

  before(async () => {
    db = (await freshPostgres())!;
    store = await openPostgresStore({ url: db.url, poolSize: 4 });
    await store.migrate();
    const start = Date.now() - 10 * 86_400_000;
    user = (
      await store.users.create({
        id: newId(start),
        username: 'typist',
        email: 'typist@x.test',
        displayName: 'typist',
        passwordHash: 'h',
        createdAt: new Date(start).toISOString(),
      })
    ).id;
    const channel = async (name: string) =>
      (
        await store.channels.create({
          id: newId(start),
          type: 'public',
          name,
          description: '',
          topic: '',
          createdBy: user,
          createdAt: new Date(start).toISOString(),
        })
      ).id;
    const busy = await channel('busy');
    const quiet = await channel('quiet');
    let at = start;
    const send = (channelId: string, text: string) =>
      store.messages.create({
        id: newId(++at),
        channelId,
        authorId: user,
        text,
        clientMsgId: null,
        parentId: null,
        mentions: noMentions,
        fileIds: [],
        createdAt: new Date(at).toISOString(),
        notify,
      });
    // The quiet channel's only message is older than everything in the busy one.
    await send(quiet, 'krispel in the quiet channel');
    // The busy channel's oldest message has a word the sample cannot reach.
    await send(busy, 'krinolex from long ago');
    for (let i = 0; i < BUSY; i++) await send(busy, `filler ${i}`);
    await send(busy, 'krinagon today');
  });

  after(async () => {
    await store?.close();
    await db?.drop();
  });

  const terms = async (prefix: string) => (await store.search.suggestTerms(user, prefix, 10, 200)).map((t) => t.term).sort();

  it("every channel is in the sample: the quiet channel's newest message though a busy one has newer", async () => {
    assert.deepEqual(await terms('kri'), ['krinagon', 'krispel']);
  });

  it('a rare 4-letter prefix also reaches past the sample through the index, with or without statistics', async () => {
    assert.deepEqual(await terms('krin'), ['krinagon', 'krinolex'], 'no ANALYZE yet');
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query('ANALYZE messages');
    } finally {
      await c.end();
    }
    assert.deepEqual(await terms('krin'), ['krinagon', 'krinolex'], 'after ANALYZE');
  });

  it('a prefix common in the sample is answered from it alone (the bound: older words are not searched)', async () => {
    // The busy channel's half of the sample (200 of 400 rows) is its newest message and 199
    // fillers: enough matches that the index is not asked (it would count 200).
    assert.deepEqual(await store.search.suggestTerms(user, 'fill', 10, 200), [{ term: 'filler', count: 199 }]);
  });

  it('a 2–3 letter prefix never asks the index (its posting union is the cost): the old word is not suggested', async () => {
    assert.equal((await terms('kr')).includes('krinolex'), false);
  });
});
