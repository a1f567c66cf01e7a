// Full-text search over messages: the part of the Store contract that search.ts in each backend
// implements (sqlite/search.ts: FTS5; postgres/search.ts: tsvector + GIN) and that
// contract/search.ts checks on both.
//
// Rules every implementation keeps:
// - Permission inside the query: a hit's channel is one the caller (spec.userId) is a member of
//   at query time. Public channels the caller has not joined are not searched (Slack's default;
//   joining is one click). Counts and pages are computed after this filter, never before.
// - Deleted messages are never hits; an edit is searchable by its new text and not by its old one
//   as soon as the edit's transaction has committed (SQLite: triggers; PostgreSQL: a generated
//   column), and so is a new message as soon as its send has committed. (A store may write the
//   index entry after the commit, as SQLite does since 0008: sqlite/search-indexer.ts; then its
//   search, suggestTerms and stats first index every committed message, so this still holds.)
// - Matching is case- and accent-insensitive for Latin scripts (`cafe` finds `Café`); tokens
//   come from the caller as data (TextTerm.tokens) and are always quoted in MATCH / tsquery, so
//   no user input is ever parsed as FTS or tsquery syntax.
// - Bounded work: a search considers at most `window` candidates, the newest matches first
//   (SQLite walks the FTS rowid, which is the creation time, backwards; PostgreSQL scans the
//   time-ordered primary key backwards or takes a GIN bitmap, whichever the planner prices
//   lower), then ranks those. A match older than the newest `window` matches is not found by a
//   relevance search of a very common word: that is the price of the bound, and why `total`
//   says whether it is exact. PostgreSQL also runs every search under SET LOCAL statement_timeout.
// - Recency is createdAt. Stores may rely on message ids being time-ordered (ids.ts): a bulk
//   loader creates ids with newId(createdAtMs).
import type { SearchSpec } from '../search/ast.js';
import type { SearchAuthor, SearchChannel } from '../../protocol/search.js';
import type { Message } from './types.js';

/** One hit. The snippet and its highlights are made by the service (search/highlight.ts) for the page only. */
export interface SearchHit {
  message: Message;
  /** Read with the page (one query, not one per hit). */
  channel: SearchChannel;
  author: SearchAuthor;
  /** Higher is better; comparable within one reply only. */
  score: number;
}

export interface SearchResult {
  hits: SearchHit[];
  /** Matches in the caller's channels within the candidate window. */
  total: number;
  /** false when the window was full: there may be more (older) matches than `total`. */
  totalExact: boolean;
  /** Pass back as SearchSpec.snapshot for the next pages (store-specific, e.g. the newest doc id). */
  snapshot: string;
}

export interface SearchBounds {
  /** Candidates ranked per search (the window); offset + limit must stay within it. */
  window: number;
  /** PostgreSQL statement_timeout for one search (ms); SQLite has no per-statement timer. */
  timeoutMs: number;
}

export interface SearchStore {
  /** One page of hits for the spec (see the rules above). Throws only on programming errors. */
  search(spec: SearchSpec, bounds: SearchBounds): Promise<SearchResult>;
  /**
   * Type-ahead terms: distinct lower-cased, accent-folded words starting with `prefix` (≥ 2
   * chars), counted over the newest `sample` messages the caller can read that contain such a
   * word, most frequent first. Built from readable messages only, so a word that appears only
   * in channels the caller cannot read is never suggested.
   */
  suggestTerms(userId: string, prefix: string, limit: number, sample: number): Promise<{ term: string; count: number }[]>;
  /**
   * The caller's channels (member of, archived included) by exact name (case-insensitive; `in:`)
   * or by name prefix (suggest), ordered by name, at most `limit`. Direct and group channels have
   * no name and are never returned.
   */
  memberChannels(userId: string, by: { names: string[] } | { prefix: string }, limit: number): Promise<SearchChannel[]>;
  /**
   * Bulk load support (nchat seed). Stops per-row index maintenance: after it, inserted messages
   * may not be searchable until resumeIndexing() (SQLite: not at all; PostgreSQL: yes, but
   * without the index, slowly). SQLite drops the search triggers; PostgreSQL drops
   * the GIN index (the tsvector column is still computed per row). Idempotent. While paused, only
   * inserts may happen (an edit or delete of a message indexed before the pause would leave the
   * index out of step until resumeIndexing()).
   */
  pauseIndexing(): Promise<void>;
  /**
   * Rebuilds the index in one pass over every live message and restores per-row maintenance
   * (PostgreSQL also runs ANALYZE on messages: search plans depend on its statistics).
   * Idempotent; also repairs an index that drifted. Takes the write lock for its duration.
   */
  resumeIndexing(): Promise<void>;
  /** Indexed (searchable) messages and the index's size on disk in bytes, for reports. */
  stats(): Promise<{ documents: number; indexBytes: number }>;
  /**
   * Stores that index after the send commits (SQLite since 0008_search_async_index:
   * sqlite/search-indexer.ts): index every committed message now. Never needed for correctness
   * (search, suggestTerms and stats index what is queued first); for benchmarks that must count
   * the indexing work of the messages they sent. Absent where indexing is part of the write.
   */
  flushIndex?(): Promise<void>;
}
