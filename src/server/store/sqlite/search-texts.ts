// The texts of recent search candidates, kept per connection (the main one and each reader
// thread), so that ranking a window does not read every candidate's messages row again.
//
// Why: a relevance search ranks its whole window (500 candidates by default) by their texts, and
// reading them was the largest part of the candidate statement: two b-tree lookups per candidate
// (messages by id, then by its key), and on a reader thread every commit by the writer drops the
// connection's page cache, so under load those lookups re-read their pages each time
// (docs/PERFORMANCE.md). Busy words' windows overlap from one search to the next.
//
// Contract:
// - A text is cached by message id only as read from the database; the page of results is
//   always read fresh (search.ts), so a cached text is only ever used to rank.
// - Edits: the store counts edits and deletes made through the server (SqliteMessages.textEpoch)
//   and every search carries the count it saw; a different count clears the cache before the
//   search runs. A search therefore ranks by every text edited before it started.
// - A text edited by another process writing the same file (the SQLite store is run by one
//   server process; nchat's maintenance commands work with the server stopped) would rank by its
//   old text until the next edit through the server or until evicted. Visibility never depends
//   on the cache: membership and the FTS match are decided by the statement.
// - Bound: TEXT_CACHE_CHARS characters of text (plus ENTRY_COST per text, and a text's scored
//   tokens once kept: their characters plus TOKEN_COST each) per connection; the least recently
//   used half goes when it is full.
// - Scored tokens (rank.ts scoredTokens) are kept beside a text the first time a relevance search
//   ranks it: tokenizing was most of ranking a window (fold and the token regex, ~0.2–0.3 ms of
//   a 500-candidate window, 2026-12-02). They are a function of the text alone, so they are as
//   fresh as the text they sit beside.

import { scoredTokens } from '../../search/rank.js';

/**
 * What one connection keeps, in characters of text plus ENTRY_COST per text (a Map entry and a
 * string header cost about that many bytes, so a cache of very short texts stays bounded too).
 * 1M: the API scenario's six busy words' windows (~3,000 texts of ~30 characters) fit in one
 * half. The cost in server RSS, bench:search at 1M (diverse words, few hits; 2026-12-01): the
 * cache off 277 MB, 1M 318–319 MB, 4M 402–457 MB, against 275–372 MB before it. Most of it is not
 * the texts (a few MB) but the reader threads' young generation, which V8 grows when more objects
 * survive: capping it at 4 MB (Worker resourceLimits) gave 292 MB, and 155 against 179–187
 * queries/s at capacity in one run; not adopted on one run.
 */
export const TEXT_CACHE_CHARS = 1024 * 1024;
export const ENTRY_COST = 64;
/** A kept token's cost beyond its characters (a string header and an array slot). */
export const TOKEN_COST = 24;

interface Entry {
  text: string;
  scored?: readonly string[];
}

function tokensCost(toks: readonly string[]): number {
  let n = 0;
  for (const t of toks) n += t.length + TOKEN_COST;
  return n;
}

export class SearchTexts {
  // Two generations instead of a least-recently-used list: texts go into `young`; when it holds
  // half the bound, it becomes `old` and the previous `old` is dropped whole. A text read from
  // `old` moves back to `young`. Every operation is O(1). (Deleting a Map's first entries one by
  // one and iterating from its start again is not: V8 walks the deleted slots until it rehashes.)
  private young = new Map<string, Entry>();
  private old = new Map<string, Entry>();
  private youngChars = 0;
  private epoch: number | undefined;

  constructor(private readonly maxChars = TEXT_CACHE_CHARS) {}

  /** Clears everything when `epoch` (the store's edit count) moved since the last call. */
  sync(epoch: number): void {
    if (epoch === this.epoch) return;
    this.epoch = epoch;
    this.young = new Map();
    this.old = new Map();
    this.youngChars = 0;
  }

  get(messageId: string): string | undefined {
    return this.entry(messageId)?.text;
  }

  set(messageId: string, text: string): void {
    this.put(messageId, { text });
  }

  /**
   * The scored tokens of `text` (rank.ts scoredTokens), kept with the message's cached text: made
   * once per cached text. A text that is not cached here (or not this text) gets them made anew.
   */
  scoredTokens(messageId: string, text: string): readonly string[] {
    const e = this.entry(messageId);
    if (e === undefined || e.text !== text) return scoredTokens(text);
    if (e.scored === undefined) {
      e.scored = scoredTokens(text);
      // Counted against the young half, where entry() just put it (or, if a later put() has
      // rotated it out since, counted there anyway: the half only fills sooner).
      this.youngChars += tokensCost(e.scored);
    }
    return e.scored;
  }

  /** The entry, moved back to the young half when found in the old one. */
  private entry(messageId: string): Entry | undefined {
    const e = this.young.get(messageId);
    if (e !== undefined) return e;
    const o = this.old.get(messageId);
    if (o !== undefined) {
      this.old.delete(messageId);
      this.put(messageId, o);
    }
    return o;
  }

  private put(messageId: string, e: Entry): void {
    const cost = e.text.length + ENTRY_COST + (e.scored ? tokensCost(e.scored) : 0);
    if (cost > this.maxChars / 2 || this.young.has(messageId)) return;
    if (this.youngChars + cost > this.maxChars / 2) {
      this.old = this.young;
      this.young = new Map();
      this.youngChars = 0;
    }
    this.young.set(messageId, e);
    this.youngChars += cost;
  }

  /** Texts kept (both generations). */
  get size(): number {
    return this.young.size + this.old.size;
  }
}
