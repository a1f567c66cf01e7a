// Word folding shared by the parser, the highlighter and suggest. It mirrors what the indexes do
// to message text, so a query token equals an indexed token:
// - SQLite FTS5 `unicode61 remove_diacritics 2`: tokens are runs of letters and digits (Unicode
//   categories L*, N*, plus Co); everything else separates; case and diacritics are folded.
// - PostgreSQL: nchat_search_fold() (lower + unaccent) before the 'simple' parser.
// Scripts without spaces (CJK) come out as one token per run of letters, as in both indexes.

/** Lower case, canonical decomposition, combining marks removed (é → e, Å → a, ß stays). */
export function fold(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

const TOKEN = /[\p{L}\p{N}\p{Co}]+/gu;

/** The folded tokens of a piece of text, in order. */
export function tokens(s: string): string[] {
  return fold(s).match(TOKEN) ?? [];
}

export interface Located {
  /** Folded token. */
  token: string;
  /** UTF-16 offsets of the token in the original (unfolded) text. */
  start: number;
  end: number;
}

/**
 * Tokens with their place in the original text (the highlighter marks these ranges). Folding can
 * change a token's length (NFKD of ligatures), so tokens are found on the original text and
 * folded one by one.
 */
export function locatedTokens(text: string, max = Number.POSITIVE_INFINITY): Located[] {
  const out: Located[] = [];
  for (const m of text.matchAll(/[\p{L}\p{N}\p{Co}\p{M}]+/gu)) {
    const start = m.index;
    // A mark-only run (a stray combining accent) folds to nothing: not a token in either index.
    for (const t of fold(m[0]).match(TOKEN) ?? []) {
      out.push({ token: t, start, end: start + m[0].length });
      if (out.length >= max) return out;
    }
  }
  return out;
}

/**
 * Suggest's terms: the distinct folded words of `texts` that start with `prefix`, by how many of
 * the texts hold them (most first, then alphabetical), at most `limit`.
 */
export function countPrefixTerms(texts: string[], prefix: string, limit: number): { term: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const t of texts) {
    for (const w of new Set(tokens(t))) if (w.startsWith(prefix)) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, limit)
    .map(([term, count]) => ({ term, count }));
}
