// PostgreSQL type-ahead terms (PostgresSearch.suggestTerms): counted over a sample of the
// caller's recent messages (the newest of each channel), never from the GIN index. The contract
// suite checks permissions and edits on small corpora, where the sample is every message; here a
// busy channel is larger than the sample.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import pg from 'pg';
import { describePostgres, type FreshPostgres, freshPostgres } from '../../../../test/helpers/postgres.js';
import { newId } from '../../ids.js';
import { suggestSpec } from '../../search/ast.js';
import type { Store } from '../store.js';
import { openPostgresStore } from './index.js';

const noMentions = { userIds: [], channel: false, here: false };
const notify = { mentionUserIds: [], allMembers: null, threadParticipants: false };
/** More than the sample reads in all (SUGGEST_SCAN = 400). */
const BUSY = 900;

await describePostgres('postgres suggestTerms: a sample of recent messages', () => {
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

  it('the bound: a word used only before the sample is not suggested, at any prefix length, before or after ANALYZE', async () => {
    for (const prefix of ['kr', 'krin', 'krino']) assert.equal((await terms(prefix)).includes('krinolex'), false, prefix);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query('ANALYZE messages');
    } finally {
      await c.end();
    }
    assert.deepEqual(await terms('krin'), ['krinagon']);
    // A search still finds it.
    const hits = await store.search.search({ ...suggestSpec(user, 'krino'), limit: 10 }, { window: 50, timeoutMs: 5000 });
    assert.deepEqual(
      hits.hits.map((h) => h.message.text),
      ['krinolex from long ago'],
    );
  });

  it('counts are over the sample: the busy channel gives half of it', async () => {
    // 400 rows over two channels: the busy channel's newest 200 are "krinagon today" and 199
    // fillers (the quiet one has 1 message).
    assert.deepEqual(await store.search.suggestTerms(user, 'fill', 10, 200), [{ term: 'filler', count: 199 }]);
  });
});
