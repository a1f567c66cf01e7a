// Ranking: text relevance × recency over the bounded candidate window the store returns (the
// newest matches in the caller's channels). One formula for both backends, computed here on the
// window's texts, because neither engine's own rank is affordable or comparable:
// - FTS5 bm25() first counts, per query phrase, every document containing it (a full doclist
//   scan: ~180 ms for a word in 63% of 1M messages on this machine), whatever the LIMIT;
// - PostgreSQL's ts_rank has no document-frequency term and a different length normalization.
//
// relevance = Σ over required terms of BM25's saturated term frequency
//             tf·(k1+1) / (tf + k1·(1 − b + b·len/avgLen))     (k1 = 1.2, b = 0.75)
// with avgLen the window's mean length. No IDF: every candidate contains every required term,
// so IDF would only weigh the terms against each other, and a per-term document count costs a
// doclist scan on FTS5 (see above).
// score = relevance × (RECENCY_FLOOR + (1 − RECENCY_FLOOR) × 2^(−age / HALF_LIFE_DAYS))
// A message loses half of its recency bonus every HALF_LIFE_DAYS and never drops below
// RECENCY_FLOOR of its text relevance, so an old strong match beats a new weak one, and between
// equal matches the newer wins. Ties go to the newer message.
import type { TextTerm } from './ast.js';
import { tokens } from './text.js';

export const HALF_LIFE_DAYS = 30;
export const RECENCY_FLOOR = 0.6;
const K1 = 1.2;
const B = 0.75;
const DAY_MS = 86_400_000;
/** Characters of a text scored (a 16 KiB message is ranked by its start): bounds the work per window. */
export const SCORED_CHARS = 4096;

export function recencyWeight(createdAtMs: number, nowMs: number): number {
  const ageDays = Math.max(0, nowMs - createdAtMs) / DAY_MS;
  return RECENCY_FLOOR + (1 - RECENCY_FLOOR) * 2 ** (-ageDays / HALF_LIFE_DAYS);
}

/** Occurrences of a term in a token list: a word, a phrase (consecutive tokens), a prefix. */
export function termFrequency(toks: readonly string[], t: TextTerm): number {
  const n = t.tokens.length;
  let tf = 0;
  for (let i = 0; i + n <= toks.length; i++) {
    let ok = true;
    for (let j = 0; j < n && ok; j++) {
      const want = t.tokens[j]!;
      const got = toks[i + j]!;
      ok = t.kind === 'prefix' && j === n - 1 ? got.startsWith(want) : got === want;
    }
    if (ok) tf++;
  }
  return tf;
}

/** The tokens rank() scores a text by: those of its first SCORED_CHARS characters. */
export function scoredTokens(text: string): string[] {
  return tokens(text.slice(0, SCORED_CHARS));
}

export interface Candidate {
  id: string;
  /** The message text (needed for sort 'relevance' only). */
  text: string;
  /**
   * scoredTokens(text), when the caller has kept them from an earlier search (SQLite's per-
   * connection cache, search-texts.ts): tokenizing is most of rank()'s time over a window.
   */
  tokens?: readonly string[];
  createdAtMs: number;
  /** Position in the window, 0 = newest: the tie-breaker. */
  order: number;
}

/** Candidates best first (sort 'relevance') or newest first (sort 'recent'), with their scores. */
export function rank(
  cands: readonly Candidate[],
  terms: readonly TextTerm[],
  sort: 'relevance' | 'recent',
  nowMs: number,
): { id: string; score: number }[] {
  if (sort === 'recent' || terms.length === 0) {
    return cands.map((c) => ({ id: c.id, score: sort === 'recent' ? 0 : recencyWeight(c.createdAtMs, nowMs) }));
  }
  const toks = cands.map((c) => c.tokens ?? scoredTokens(c.text));
  const avgLen = Math.max(1, toks.reduce((s, t) => s + t.length, 0) / Math.max(1, toks.length));
  const scored = cands.map((c, i) => {
    const t = toks[i]!;
    const norm = K1 * (1 - B + (B * t.length) / avgLen);
    let rel = 0;
    for (const term of terms) {
      const tf = termFrequency(t, term);
      rel += (tf * (K1 + 1)) / (tf + norm);
    }
    return { c, score: rel * recencyWeight(c.createdAtMs, nowMs) };
  });
  scored.sort((a, b) => b.score - a.score || a.c.order - b.c.order);
  return scored.map((s) => ({ id: s.c.id, score: s.score }));
}
