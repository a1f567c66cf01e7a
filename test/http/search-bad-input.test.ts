// Bad input to search, on both backends (issue 10): any q is a result or a coded 4xx — never a
// 500, never a stack trace — and the server keeps answering; long queries, deep pages, bad
// cursors and parameters are refused with 400; the per-user limit answers 429.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { forEachBackend, unique, type TestUser } from '../helpers/server.js';
import { assertError, ok, send } from './util.js';

const q = encodeURIComponent;

const HOSTILE = [
  '"',
  '"unbalanced phrase',
  '((( a',
  'a ) ) )',
  '*',
  '* *',
  'a*',
  '-',
  '--x',
  'from:',
  'in:#',
  'has:',
  'before:',
  'before:2026-99-99',
  'on:0000-00-00',
  'is:',
  'a OR b AND NOT c NEAR(d e, 3)',
  "'; DROP TABLE messages; --",
  "' OR '1'='1",
  '{text}:x ch:* au:y ^start a+b',
  "\\' \\\\ :* <-> ! & | @@ ''",
  'x:* & !y | z <-> w',
  '😀 🎉 ❤️',
  'שלום עולם',
  'مرحبا بالعالم',
  '東京タワー 北京',
  'ÅNGSTRÖM naïve',
  '%_%',
  '\\',
  'null undefined NaN',
  '__proto__ constructor',
  `${'"a" '.repeat(60)}`,
  `${'word '.repeat(100)}`.trim(),
];

async function fresh(srv: { user(p?: string): Promise<TestUser> }) {
  const u = await srv.user('sb');
  const ch = ok(await u.api.post('/api/channels', { name: unique('sb'), type: 'public' }), 201);
  return { u, ch: ch.id as string };
}

await forEachBackend(
  'search bad input',
  (ctx) => {
    it('hostile q: 200 or a coded 400, never a 500; the data is intact and the server answers', async () => {
      const { u, ch } = await fresh(ctx.server());
      const m = await send(u.api, ch, 'near or and not drop table messages 東京タワー שלום');
      for (const text of HOSTILE) {
        const r = await u.api.get(`/api/search?q=${q(text)}`);
        if (r.status === 200) assert.ok(Array.isArray(r.body.results), text);
        else assertError(r, 400, 'VALIDATION_FAILED', text);
        if (r.status !== 200) assert.doesNotMatch(JSON.stringify(r.body), /at .*\.ts:\d+/, 'no stack trace');
      }
      const found = ok(await u.api.get(`/api/search?q=${q("'; DROP TABLE messages; --")}`));
      assert.deepEqual(
        found.results.map((x: { message: { id: string } }) => x.message.id),
        [m.id],
        'SQL in q is words',
      );
      assert.equal(ok(await u.api.get(`/api/search?q=${q('東京タワー')}`)).results.length, 1);
      assert.equal(ok(await u.api.get(`/api/search?q=${q('שלום')}`)).results.length, 1);
      assert.equal(ok(await u.api.get(`/api/channels/${ch}/messages`)).messages.length, 1);
    });

    it('empty, exclusion-only and filler-only queries: 400 VALIDATION_FAILED', async () => {
      const { u } = await fresh(ctx.server());
      for (const text of ['', '   ', '*', '-word', '-"a phrase"', '😀', '"', 'has:video']) {
        assertError(await u.api.get(`/api/search?q=${q(text)}`), 400, 'VALIDATION_FAILED', text);
      }
      assertError(await u.api.get('/api/search'), 400, 'VALIDATION_FAILED', 'no q');
    });

    it('caps: q over 512 characters and a 10 KB q → 400; control characters → 400', async () => {
      const { u } = await fresh(ctx.server());
      ok(await u.api.get(`/api/search?q=${'a'.repeat(512)}`));
      assertError(await u.api.get(`/api/search?q=${'a'.repeat(513)}`), 400, 'VALIDATION_FAILED', '513');
      assertError(await u.api.get(`/api/search?q=${'ab+'.repeat(3414)}`), 400, 'VALIDATION_FAILED', '10 KB');
      assertError(await u.api.get(`/api/search?q=${q('😀'.repeat(600))}`), 400, 'VALIDATION_FAILED', '600 emoji (1,200 UTF-16 units)');
      assertError(await u.api.get(`/api/search?q=a%00b`), 400, 'VALIDATION_FAILED', 'NUL');
      assertError(await u.api.get(`/api/search?q=${q('a\u202eb')}`), 400, 'VALIDATION_FAILED', 'bidi override');
      assertError(await u.api.get(`/api/search?q=%ff%fe`), 400, 'INVALID_UNICODE', 'bad UTF-8');
    });

    it('parameters: limit, dates, has, sort, unknown fields, cursor shape and depth', async () => {
      const { u, ch } = await fresh(ctx.server());
      for (let i = 0; i < 3; i++) await send(u.api, ch, `deep page ${i}`);
      const bad = [
        'q=a&limit=0',
        'q=a&limit=51',
        'q=a&limit=x',
        'q=a&before=2026-1-1',
        'q=a&after=yesterday',
        'q=a&on=2026-02-30T00:00',
        'q=a&has=video',
        'q=a&sort=random',
        'q=a&channelId=not-an-id',
        'q=a&from=@@',
        'q=a&isThread=maybe',
        'q=a&unknown=1',
        'q=a&cursor=!!!',
        `q=a&cursor=${'A'.repeat(201)}`,
        `q=a&cursor=${Buffer.from('{"o":-1,"s":"1"}').toString('base64url')}`,
        `q=a&cursor=${Buffer.from('{"o":1,"s":"DROP TABLE"}').toString('base64url')}`,
        `q=a&cursor=${Buffer.from('not json').toString('base64url')}`,
        `q=a&cursor=${Buffer.from('{"o":1e400,"s":"1"}').toString('base64url')}`,
      ];
      for (const p of bad) assertError(await u.api.get(`/api/search?${p}`), 400, 'VALIDATION_FAILED', p);
      // Depth: a cursor past the ranked window (NCHAT_SEARCH_WINDOW, 50 here) is refused.
      const first = ok(await u.api.get('/api/search?q=deep&limit=1'));
      assert.ok(first.nextCursor);
      const deep = Buffer.from(JSON.stringify({ o: 50, s: JSON.parse(Buffer.from(first.nextCursor, 'base64url').toString()).s })).toString(
        'base64url',
      );
      assertError(await u.api.get(`/api/search?q=deep&limit=1&cursor=${deep}`), 400, 'VALIDATION_FAILED', 'past the window');
      // Dates that contradict each other: nothing, not an error.
      assert.deepEqual(ok(await u.api.get('/api/search?q=deep&after=2026-05-01&before=2026-04-01')).results, []);
    });

    it('suggest: bad q → 400; hostile prefixes → 200', async () => {
      const { u } = await fresh(ctx.server());
      assertError(await u.api.get('/api/search/suggest'), 400, 'VALIDATION_FAILED', 'no q');
      assertError(await u.api.get('/api/search/suggest?q='), 400, 'VALIDATION_FAILED', 'empty');
      assertError(await u.api.get(`/api/search/suggest?q=${'a'.repeat(65)}`), 400, 'VALIDATION_FAILED', 'long');
      assertError(await u.api.get('/api/search/suggest?q=a&limit=21'), 400, 'VALIDATION_FAILED', 'limit');
      for (const text of ['"', '*', '%', '_', '@', '#', "'", '\\', '😀', '東京', '@%', '#_', 'a b c*']) {
        const r = ok(await u.api.get(`/api/search/suggest?q=${q(text)}`), 200, text);
        assert.ok(Array.isArray(r.terms) && Array.isArray(r.users) && Array.isArray(r.channels));
      }
      // LIKE wildcards are literal: '%' matches no user and no channel.
      const r = ok(await u.api.get(`/api/search/suggest?q=${q('%')}`));
      assert.deepEqual([r.users, r.channels], [[], []]);
    });

    it('unauthenticated → 401', async () => {
      assertError(await ctx.server().api.get('/api/search?q=a'), 401, 'UNAUTHENTICATED');
      assertError(await ctx.server().api.get('/api/search/suggest?q=a'), 401, 'UNAUTHENTICATED');
    });

    it('per-user rate limit: search and suggest share NCHAT_SEARCH_LIMIT, then 429 RATE_LIMITED', async () => {
      const srv = ctx.server();
      const [a, b] = [await srv.user('rl'), await srv.user('rl')];
      // The other tests of this suite use their own users; 40 per minute here.
      let lastOk = 0;
      for (let i = 0; i < 40; i++) {
        const r = await a.api.get(i % 2 ? '/api/search/suggest?q=ab' : '/api/search?q=ab');
        assert.equal(r.status, 200);
        lastOk = i;
      }
      assert.equal(lastOk, 39);
      assertError(await a.api.get('/api/search?q=ab'), 429, 'RATE_LIMITED', '41st');
      assertError(await a.api.get('/api/search/suggest?q=ab'), 429, 'RATE_LIMITED', '42nd');
      assert.equal((await b.api.get('/api/search?q=ab')).status, 200, 'another user is not limited');
    });
  },
  { NCHAT_SEARCH_LIMIT: '40', NCHAT_SEARCH_WINDOW: '50' },
);
