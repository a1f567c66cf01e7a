// Snippets for the page of results: a window of the message text around the first matched word,
// with the matched words as offsets. Done here, on the final page only, for both backends (the
// same result whatever the index; no markup in the text, so a client cannot be fed HTML).
// A word matches when its folded form equals a query token, or starts with a prefix term's last
// token: the same folding the indexes apply (text.ts).
import type { SearchSnippet } from '../../protocol/search.js';
import type { TextTerm } from './ast.js';
import { locatedTokens } from './text.js';

/** Snippet length in UTF-16 code units; shorter texts are returned whole. */
export const SNIPPET_CHARS = 240;
/** Context kept before the first match. */
const LEAD_CHARS = 60;
/** Words of one text examined (a 16 KiB message holds ~3,000). */
const MAX_WORDS = 4000;

export function snippet(text: string, terms: readonly TextTerm[]): SearchSnippet {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const t of terms) {
    const toks = t.kind === 'prefix' ? t.tokens.slice(0, -1) : t.tokens;
    for (const k of toks) exact.add(k);
    if (t.kind === 'prefix') prefixes.push(t.tokens[t.tokens.length - 1]!);
  }
  const hits = locatedTokens(text, MAX_WORDS).filter((w) => exact.has(w.token) || prefixes.some((p) => w.token.startsWith(p)));
  let start = 0;
  let end = text.length;
  if (text.length > SNIPPET_CHARS) {
    const first = hits[0]?.start ?? 0;
    start = Math.max(0, first - LEAD_CHARS);
    // Start and end on a space when one is near, and never inside a surrogate pair.
    const space = text.lastIndexOf(' ', first);
    if (space >= start - 20 && space < first) start = space + 1;
    end = Math.min(text.length, start + SNIPPET_CHARS);
    const endSpace = text.lastIndexOf(' ', end);
    if (end < text.length && endSpace > start + SNIPPET_CHARS / 2) end = endSpace;
    if (isLowSurrogate(text.charCodeAt(start))) start++;
    if (end < text.length && isLowSurrogate(text.charCodeAt(end))) end--;
  }
  const lead = start > 0 ? '…' : '';
  const body = text.slice(start, end);
  const out = `${lead}${body}${end < text.length ? '…' : ''}`;
  const highlights: { start: number; end: number }[] = [];
  for (const h of hits) {
    if (h.start < start || h.end > end) continue;
    const s = h.start - start + lead.length;
    const e = h.end - start + lead.length;
    const last = highlights[highlights.length - 1];
    if (last && s < last.end) continue;
    highlights.push({ start: s, end: e });
  }
  return { text: out, highlights };
}

const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;
