// SearchSpec → an FTS5 MATCH expression for the search_fts table (sqlite/search-schema.ts:
// columns text, ch = channel id, au = author id).
//
// Safety: every token is emitted inside double quotes with any `"` doubled, so FTS5 reads it as
// a string, never as an operator, column name or syntax; the parser already reduced tokens to
// letters and digits, so this is a second wall, not the only one. The only syntax in the
// expression is what this file writes.
import type { SearchSpec, TextTerm } from './ast.js';

const quote = (t: string) => `"${t.replace(/"/g, '""')}"`;

/** One term as an FTS5 phrase: `"a b c"` (tokens in sequence), `"a b" *` (last token a prefix). */
export function fts5Phrase(t: TextTerm): string {
  const body = quote(t.tokens.join(' '));
  return t.kind === 'prefix' ? `${body} *` : body;
}

const anyOf = (col: string, values: readonly string[]) => `{${col}} : (${values.map(quote).join(' OR ')})`;

/**
 * The MATCH expression, or undefined when the spec has no positive FTS clause (no words, no
 * from:/in:/has:link and at most `maxChannelTokens` channels to filter on), in which case the
 * store scans by recency instead. `channelIds` are the channels the permission filter allows
 * (already intersected with in:), added as ch tokens when there are few enough of them.
 */
export function fts5Match(spec: SearchSpec, channelIds: readonly string[] | undefined): string | undefined {
  const pos: string[] = [];
  if (spec.include.length) pos.push(`{text} : (${spec.include.map(fts5Phrase).join(' AND ')})`);
  if (spec.has.includes('link')) pos.push(anyOf('text', ['http', 'https']));
  if (spec.authorIds.length) pos.push(anyOf('au', spec.authorIds));
  if (channelIds?.length) pos.push(anyOf('ch', channelIds));
  if (pos.length === 0) return undefined;
  const positive = pos.map((p) => `(${p})`).join(' AND ');
  if (spec.exclude.length === 0) return positive;
  return `(${positive}) NOT ({text} : (${spec.exclude.map(fts5Phrase).join(' OR ')}))`;
}
