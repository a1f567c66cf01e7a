// The query parser and the two translations: every operator, and hostile input that must stay
// data (the output holds only folded letter/digit tokens, and the FTS5 / tsquery text quotes them).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { SearchSpec } from './ast.js';
import { fts5Match } from './fts5.js';
import { snippet } from './highlight.js';
import { MAX_QUERY_CHARS, MAX_TERMS, parseQuery } from './parse.js';
import { allOf, anyOf, prefixLiteral } from './tsquery.js';
import { fold, tokens } from './text.js';

const words = (q: string) => parseQuery(q).include.map((t) => `${t.kind}:${t.tokens.join(' ')}`);

const specOf = (q: string): SearchSpec => {
  const p = parseQuery(q);
  return {
    userId: 'u',
    include: p.include,
    exclude: p.exclude,
    channelIds: [],
    authorIds: [],
    has: p.has,
    isThread: false,
    sort: 'relevance',
    limit: 10,
    offset: 0,
  };
};

describe('parseQuery', () => {
  it('words, phrases, exclusions and prefixes, folded', () => {
    const p = parseQuery('Café "Release Notes" -draft -"old plan" deplo* e-mail');
    assert.deepEqual(
      p.include.map((t) => [t.kind, t.tokens]),
      [
        ['word', ['cafe']],
        ['phrase', ['release', 'notes']],
        ['prefix', ['deplo']],
        ['phrase', ['e', 'mail']],
      ],
    );
    assert.deepEqual(
      p.exclude.map((t) => [t.kind, t.tokens]),
      [
        ['word', ['draft']],
        ['phrase', ['old', 'plan']],
      ],
    );
    assert.equal(p.include[3]!.source, 'e-mail', 'PostgreSQL reads the chunk as typed');
  });

  it('operators: from, in, has, dates, is:thread; several values; bad ones ignored', () => {
    const p = parseQuery('x from:@Alice from:bob in:#General has:files has:image before:2026-03-01 after:2026-01-31 is:thread');
    assert.deepEqual(p.from, ['alice', 'bob']);
    assert.deepEqual(p.in, ['general']);
    assert.deepEqual(p.has, ['file', 'image']);
    assert.equal(p.before, '2026-03-01T00:00:00.000Z');
    assert.equal(p.after, '2026-02-01T00:00:00.000Z', 'after: excludes the day itself');
    assert.equal(p.isThread, true);
    const on = parseQuery('on:2026-02-10');
    assert.deepEqual([on.after, on.before], ['2026-02-10T00:00:00.000Z', '2026-02-11T00:00:00.000Z']);
    const bad = parseQuery('from: in:# has:video before:2026-02-30 on:tomorrow is:open -from:x FROM:Carol');
    assert.deepEqual(bad.ignored, ['from:', 'in:#', 'has:video', 'before:2026-02-30', 'on:tomorrow', 'is:open', 'from:x']);
    assert.deepEqual(bad.from, ['carol']);
    assert.deepEqual(bad.include, []);
  });

  it('unknown operators and URLs are text', () => {
    assert.deepEqual(words('status:done https://example.com/a?b=1'), ['phrase:status done', 'phrase:https example com a b 1']);
  });

  it('hostile input never throws and yields only letter/digit tokens', () => {
    const hostile = [
      '',
      '   ',
      '*',
      '**',
      '"',
      '"""',
      '"unbalanced phrase',
      '(((',
      ')',
      'a OR b AND NOT c NEAR(d e, 3)',
      "'; DROP TABLE messages; --",
      '{text}:x ch:* au:y ^start a+b',
      "\\' \\\\ :* <-> ! & | @@ ''",
      'NEAR/3 col:"x" - -- -"',
      '😀 🎉 ❤️',
      'שלום עולם مرحبا بالعالم',
      '東京タワー 北京',
      'x'.repeat(20_000),
      'a '.repeat(5000),
      '\u0000\u0001\u202e',
      `${'"a" '.repeat(40)}`,
      'from:@@@ in:## has:: before:9999-99-99 on:0000-00-00',
    ];
    for (const h of hostile) {
      const p = parseQuery(h);
      for (const t of [...p.include, ...p.exclude]) {
        for (const tok of t.tokens) assert.match(tok, /^[\p{L}\p{N}\p{Co}]+$/u, JSON.stringify(h));
        assert.ok(t.tokens.length <= 12);
      }
      assert.ok(p.include.length + p.exclude.length <= MAX_TERMS);
      assert.ok(p.ignored.length <= MAX_TERMS);
    }
    assert.deepEqual(parseQuery('*').include, []);
    assert.deepEqual(words('a*'), [], 'a one-letter prefix is dropped');
    assert.deepEqual(words('東京タワー'), ['word:東京タワー'], 'a CJK run is one token, as in both indexes');
    assert.equal(parseQuery('a '.repeat(5000)).include.length, MAX_TERMS);
    assert.ok(MAX_QUERY_CHARS <= 1000);
  });

  it('every FTS5 expression from hostile input is accepted by FTS5 (no syntax error) and matches as data', () => {
    const db = new Database(':memory:');
    db.exec("CREATE VIRTUAL TABLE f USING fts5(text, ch, au, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')");
    db.prepare('INSERT INTO f (rowid, text, ch, au) VALUES (1, ?, ?, ?)').run('near or and not drop table messages', 'c1', 'u1');
    const run = (q: string) => {
      const m = fts5Match(specOf(q), ['c1']);
      return m === undefined ? [] : db.prepare('SELECT rowid FROM f WHERE f MATCH ? ORDER BY rowid DESC').pluck().all(m);
    };
    for (const q of [
      'a OR b AND NOT c NEAR(d e, 3)',
      "'; DROP TABLE messages; --",
      '{text}:x ch:* ^a',
      '"',
      '((( near',
      'col:"x" - -- -"',
      '東京 😀',
    ]) {
      run(q);
    }
    assert.deepEqual(run('NEAR or AND not'), [1], 'operator words are plain words');
    assert.deepEqual(run("'; DROP TABLE messages; --"), [1]);
    assert.deepEqual(run('drop -messages'), []);
    assert.deepEqual(run('ch:c1 drop'), [], '"ch" is a word here, not a column');
    db.close();
  });

  it('tsquery text: prefixes quoted and escaped, words as bind values', () => {
    assert.equal(prefixLiteral(['a', "o'b\\"]), "'a' <-> 'o''b\\\\':*");
    const params: unknown[] = [];
    const bind = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const p = parseQuery("it's deplo* -x");
    assert.equal(
      allOf(p.include, bind),
      "(phraseto_tsquery('pg_catalog.simple', nchat_search_fold($1)) && to_tsquery('pg_catalog.simple', $2))",
    );
    assert.equal(anyOf(p.exclude, bind), "(phraseto_tsquery('pg_catalog.simple', nchat_search_fold($3)))");
    assert.deepEqual(params, ["it's", "'deplo':*", 'x']);
    assert.equal(allOf([], bind), undefined);
  });
});

describe('folding and snippets', () => {
  it('fold and tokens match the indexes: case, accents, separators', () => {
    assert.equal(fold('Ça Été ÅNGSTRÖM'), 'ca ete angstrom');
    assert.deepEqual(tokens("naïve_user's e-mail v1.2"), ['naive', 'user', 's', 'e', 'mail', 'v1', '2']);
  });

  it('snippet: offsets of matched words (prefix too), a window with ellipses for long text', () => {
    const s = snippet('The Café opened; cafes everywhere', parseQuery('cafe open*').include);
    assert.deepEqual(
      s.highlights.map((h) => s.text.slice(h.start, h.end)),
      ['Café', 'opened'],
    );
    const long = `${'word '.repeat(200)}needle ${'more '.repeat(200)}`;
    const l = snippet(long, parseQuery('needle').include);
    assert.ok(l.text.startsWith('…') && l.text.endsWith('…'));
    assert.equal(l.text.slice(l.highlights[0]!.start, l.highlights[0]!.end), 'needle');
    const emoji = snippet(`${'😀'.repeat(300)} needle`, parseQuery('needle').include);
    assert.ok(emoji.text.length <= 250);
    assert.equal(emoji.text.isWellFormed?.() ?? true, true, 'never cuts a surrogate pair');
  });
});
