// PostgreSQL search specifics: the week probes (0005's '~<week>' lexemes) that a search of a
// mid-frequency word takes once ANALYZE has statistics. The contract suite runs on fresh
// databases without statistics (the plain query); here the same answers must come through the
// probes: newest first across weeks, only readable channels, windows that end mid-probe.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import pg from 'pg';
import { describePostgres, type FreshPostgres, freshPostgres } from '../../../../test/helpers/postgres.js';
import { newId } from '../../ids.js';
import { searchSpec } from '../contract/fixtures.js';
import { parseQuery } from '../../search/parse.js';
import type { SearchSpec } from '../../search/ast.js';
import type { Store } from '../store.js';
import { openPostgresStore } from './index.js';
import { planSearch, probeWeeks } from './search.js';

const DAY = 86_400_000;
const noMentions = { userIds: [], channel: false, here: false };

/** Newest first, 50 a page: the shape these probes are written for. */
const spec = (userId: string, q: string, over: Partial<SearchSpec> = {}) => searchSpec(userId, q, { sort: 'recent', limit: 50, ...over });

await describePostgres('postgres search: week probes', () => {
  let db: FreshPostgres;
  let store: Store;
  let user: string;
  const mid: { id: string; at: number }[] = [];
  /** Every message of the caller's channel (all carry "common"). */
  const readable: { id: string; at: number }[] = [];
  let mineId: string;

  before(async () => {
    db = (await freshPostgres())!;
    store = await openPostgresStore({ url: db.url, poolSize: 4 });
    await store.migrate();
    const now = Date.now();
    const mk = async (name: string, ms: number) =>
      store.users.create({
        id: newId(ms),
        username: name,
        email: `${name}@x.test`,
        displayName: name,
        passwordHash: 'h',
        createdAt: new Date(ms).toISOString(),
      });
    const start = now - 420 * DAY;
    user = (await mk('reader', start)).id;
    const other = (await mk('other', start)).id;
    const mine = await store.channels.create({
      id: newId(start),
      type: 'public',
      name: 'mine',
      description: '',
      topic: '',
      createdBy: user,
      createdAt: new Date(start).toISOString(),
    });
    mineId = mine.id;
    const theirs = await store.channels.create({
      id: newId(start),
      type: 'private',
      name: 'theirs',
      description: '',
      topic: '',
      createdBy: other,
      createdAt: new Date(start).toISOString(),
    });
    // 400 messages over 400 days, one a day: "common" in all, "midword" in every 25th (4%).
    for (let i = 0; i < 400; i++) {
      const at = start + (i + 1) * DAY;
      const isMid = i % 25 === 0;
      const ch = i % 2 === 0 ? mine.id : theirs.id;
      const m = await store.messages.create({
        id: newId(at),
        channelId: ch,
        authorId: ch === mine.id ? user : other,
        text: `common filler ${i}${isMid ? ' midword' : ''}`,
        clientMsgId: null,
        parentId: null,
        mentions: noMentions,
        fileIds: [],
        createdAt: new Date(at).toISOString(),
        notify: { mentionUserIds: [], allMembers: null, threadParticipants: false },
      });
      if (isMid && ch === mine.id) mid.push({ id: m.message.id, at });
      if (ch === mine.id) readable.push({ id: m.message.id, at });
    }
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query('ANALYZE messages');
    await c.end();
    mid.sort((a, b) => b.at - a.at);
    readable.sort((a, b) => b.at - a.at);
  });

  after(async () => {
    await store?.close();
    await db?.drop();
  });

  it('the decision: mid-frequency terms probe; common, rare, prefix or no statistics do not', () => {
    const st = {
      at: 0,
      freq: new Map([
        ['the', 0.6],
        ['deploy', 0.02],
        ['build', 0.019],
        ['@u1', 0.01],
      ]),
      minFreq: 0.0014,
    };
    const s = (q: string, over: Partial<SearchSpec> = {}) => spec('u', q, over);
    assert.equal(probeWeeks(s('deploy'), st), true);
    assert.equal(probeWeeks(s('the'), st), false, 'common: walk backwards');
    assert.equal(probeWeeks(s('zzrare'), st), false, 'rare: GIN bitmap');
    assert.equal(probeWeeks(s('deploy build'), st), false, 'together rarer than anything listed');
    assert.equal(probeWeeks(s('"the build"'), st), true, 'a phrase with a common word: rarer than its words');
    assert.equal(probeWeeks(s('dep*'), st), true, 'a prefix: the listed lexemes it starts (deploy)');
    assert.equal(probeWeeks(s('th*'), st), false, 'a prefix of a very common word');
    assert.equal(probeWeeks(s('zz*'), st), false, 'a prefix of nothing listed: rare');
    assert.equal(probeWeeks(s('the', { authorIds: ['u1'] }), st), true, '@u1 at 1% × the: probed');
    assert.equal(probeWeeks(s('deploy'), undefined), false, 'no ANALYZE yet');
  });

  it('after ANALYZE, a mid-frequency word is found newest first across weeks, only where readable', async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      // This search takes the probes (the statistics say "midword" is in 4% of messages).
      const st = await (store.search as any).lexemeStats(c);
      assert.equal(probeWeeks(spec(user, 'midword'), st), true);
    } finally {
      await c.end();
    }
    const all = await store.search.search(spec(user, 'midword', { limit: 50 }), { window: 100, timeoutMs: 5000 });
    assert.deepEqual(
      all.hits.map((h) => h.message.id),
      mid.map((m) => m.id),
    );
    assert.equal(all.totalExact, true);
    // A window that fills inside a later probe: exactly the newest 3.
    const three = await store.search.search(spec(user, 'midword', { limit: 3 }), { window: 3, timeoutMs: 5000 });
    assert.deepEqual(
      three.hits.map((h) => h.message.id),
      mid.slice(0, 3).map((m) => m.id),
    );
    assert.equal(three.totalExact, false);
    // after:/before: inside the probes.
    const after = new Date(mid[4]!.at - DAY / 2).toISOString().slice(0, 10);
    const p = parseQuery(`midword after:${after}`);
    const recent = await store.search.search(spec(user, 'midword', { after: p.after }), { window: 100, timeoutMs: 5000 });
    assert.deepEqual(
      recent.hits.map((h) => h.message.id),
      mid.filter((m) => m.at >= Date.parse(p.after!)).map((m) => m.id),
    );
  });
  it('after ANALYZE, a word in every message walks the primary key backwards: the newest window of readable messages', async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const st = await (store.search as any).lexemeStats(c);
      assert.equal(
        planSearch({ include: spec(user, 'common').include, authorIds: [], channelIds: [] }, st, [mineId], 30, '0').kind,
        'walk',
      );
    } finally {
      await c.end();
    }
    const page = await store.search.search(spec(user, 'common', { limit: 30 }), { window: 30, timeoutMs: 5000 });
    assert.deepEqual(
      page.hits.map((h) => h.message.id),
      readable.slice(0, 30).map((m) => m.id),
    );
    assert.equal(page.totalExact, false);
    const before = new Date(readable[40]!.at + DAY / 2).toISOString().slice(0, 10);
    const p = parseQuery(`common before:${before}`);
    const older = await store.search.search(spec(user, 'common', { before: p.before, limit: 5 }), { window: 5, timeoutMs: 5000 });
    assert.deepEqual(
      older.hits.map((h) => h.message.id),
      readable
        .filter((m) => m.at < Date.parse(p.before!))
        .slice(0, 5)
        .map((m) => m.id),
    );
  });

  it('0014: the PL/pgSQL search functions give what the SQL ones they replaced gave, week boundaries included', async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const langs = await c.query<{ f: string; lang: string }>(
        `SELECT p.oid::regprocedure::text AS f, l.lanname AS lang FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
         WHERE p.proname IN ('nchat_search_fold', 'nchat_search_week', 'nchat_search_doc') ORDER BY 1`,
      );
      assert.equal(langs.rows.length, 4);
      for (const r of langs.rows) assert.equal(r.lang, 'plpgsql', r.f);
      // The bodies of 0005/0007, as session-local SQL functions.
      await c.query(`CREATE FUNCTION pg_temp.old_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT
        AS $$ SELECT pg_catalog.lower(public.unaccent('public.unaccent'::regdictionary, t)) $$`);
      await c.query(`CREATE FUNCTION pg_temp.old_week(at timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT
        AS $$ SELECT floor(extract(epoch FROM at) / 604800)::bigint $$`);
      await c.query(`CREATE FUNCTION pg_temp.old_doc(t text, ch text, au text, at timestamptz) RETURNS tsvector LANGUAGE sql IMMUTABLE
        AS $$ SELECT pg_catalog.to_tsvector('pg_catalog.simple', pg_temp.old_fold(coalesce(t, '')))
                     || pg_catalog.array_to_tsvector(ARRAY['#' || ch, '@' || au, '~' || pg_temp.old_week(at)]) $$`);
      const texts = [
        'Café CRÈME brûlée',
        'load test message 42 lorem ipsum',
        '',
        null,
        'naïve façade — ÅNGSTRÖM',
        'x'.repeat(3000),
        '```ts\nconst a = 1;\n```',
      ];
      // Week boundaries (604,800 s from the epoch) and the microseconds just before them.
      const times = [
        '1970-01-01T00:00:00Z',
        '2026-11-26T00:00:00Z',
        '2026-11-25T23:59:59.999999Z',
        '2026-12-02T12:34:56.789Z',
        '1969-12-31T23:59:59.999999Z',
      ];
      const r = await c.query<{ same: boolean; n: number }>(
        `SELECT bool_and(public.nchat_search_doc(t, 'ch1', 'au1', at) IS NOT DISTINCT FROM pg_temp.old_doc(t, 'ch1', 'au1', at)
                     AND public.nchat_search_week(at) = pg_temp.old_week(at)
                     AND public.nchat_search_fold(t) IS NOT DISTINCT FROM pg_temp.old_fold(t)
                     AND public.nchat_search_doc(t) IS NOT DISTINCT FROM pg_catalog.to_tsvector('pg_catalog.simple', pg_temp.old_fold(t))) AS same,
                count(*)::int AS n
         FROM unnest($1::text[]) AS t, unnest($2::timestamptz[]) AS at`,
        [texts, times],
      );
      assert.deepEqual(r.rows[0], { same: true, n: texts.length * times.length });
      // And the generated column of a stored message is the function's value.
      const row = await c.query<{ same: boolean }>(
        `SELECT bool_and(m.search_tsv = public.nchat_search_doc(m.text, m.channel_id, m.author_id, m.created_at)) AS same FROM messages m`,
      );
      assert.equal(row.rows[0].same, true);
    } finally {
      await c.end();
    }
  });
});
