// SearchSpec → a PostgreSQL tsquery expression (SQL text with bind parameters) over
// messages.search_tsv (postgres/search-schema.ts).
//
// Safety: no user text is ever tsquery syntax. Words and phrases go to phraseto_tsquery(), which
// reads its argument as plain text through the same parser and folding as the index
// (nchat_search_fold); prefixes are built here from the parser's tokens (letters and digits
// only), each single-quoted with quotes and backslashes escaped, and passed as one bind value.
import type { TextTerm } from './ast.js';

/** Adds a bind value and returns its placeholder ($n). */
export type Bind = (value: unknown) => string;

const lexeme = (t: string) => `'${t.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/** The tsquery literal of a prefix term: 'a' <-> 'b' <-> 'pre':* */
export function prefixLiteral(tokens: readonly string[]): string {
  return tokens.map((t, i) => (i === tokens.length - 1 ? `${lexeme(t)}:*` : lexeme(t))).join(' <-> ');
}

function termSql(t: TextTerm, bind: Bind): string {
  if (t.kind === 'prefix') return `to_tsquery('pg_catalog.simple', ${bind(prefixLiteral(t.tokens))})`;
  return `phraseto_tsquery('pg_catalog.simple', nchat_search_fold(${bind(t.source)}))`;
}

/** All of the terms (&&), or undefined when there are none. */
export function allOf(terms: readonly TextTerm[], bind: Bind): string | undefined {
  return terms.length ? `(${terms.map((t) => termSql(t, bind)).join(' && ')})` : undefined;
}

/** Any of the terms (||), or undefined when there are none: exclusions are `NOT (tsv @@ anyOf)`. */
export function anyOf(terms: readonly TextTerm[], bind: Bind): string | undefined {
  return terms.length ? `(${terms.map((t) => termSql(t, bind)).join(' || ')})` : undefined;
}

/**
 * A tsquery literal matching any of the ids as `<sigil><id>` lexemes (postgres/search-schema.ts,
 * 0005: '#<channel id>', '@<author id>'), for a `$n::tsquery` cast: the cast takes lexemes as
 * written (to_tsquery would run them through the parser, which drops # and @).
 */
export function idLexemes(sigil: '#' | '@', ids: readonly string[]): string {
  return ids.map((id) => lexeme(`${sigil}${id}`)).join(' | ');
}
