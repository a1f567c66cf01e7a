// The parsed form of a search: what parse.ts makes of `q` (plus the route's query parameters),
// what the service resolves (names → ids) and what each store translates to its own dialect
// (fts5.ts for SQLite FTS5 MATCH, tsquery.ts for PostgreSQL). Plain data, no server imports.

/** One text condition. Every `text` is a normalized word or phrase, never raw syntax. */
export interface TextTerm {
  /** 'word': one token; 'phrase': tokens that must follow each other; 'prefix': a token's start. */
  kind: 'word' | 'phrase' | 'prefix';
  /**
   * Folded tokens (text.ts): a word has one, a phrase several (a chunk such as `e-mail` or `v1.2`
   * is a phrase of its tokens), a prefix's last token is the prefix. What FTS5 matches.
   */
  tokens: string[];
  /**
   * The chunk as typed (≤ 200 chars; for a prefix, its tokens joined by spaces): PostgreSQL reads
   * it with phraseto_tsquery, i.e. as plain text through its own parser, which keeps `v1.2`,
   * `example.com` or `e-mail` whole as its index does. Never parsed as tsquery syntax.
   */
  source: string;
}

export const HAS_VALUES = ['file', 'image', 'link'] as const;
export type HasValue = (typeof HAS_VALUES)[number];

/** What the parser produces from `q`: names are still names (the service resolves them). */
export interface ParsedQuery {
  /** All must match. */
  include: TextTerm[];
  /** None may match (`-word`, `-"a phrase"`). A query of only exclusions is refused by the service. */
  exclude: TextTerm[];
  /** `from:@alice` / `from:alice` (lower-cased usernames). Several: any of them. */
  from: string[];
  /** `in:#general` / `in:general` (lower-cased channel names). Several: any of them. */
  in: string[];
  /** `has:file|image|link`. Several: all of them. */
  has: HasValue[];
  /**
   * Dates (UTC days) as ISO times: createdAt < before, createdAt >= after. `before:D` is the start
   * of D, `after:D` the end of D (D itself excluded, as in Slack), `on:D` sets both to D's bounds.
   */
  before?: string;
  after?: string;
  /** `is:thread`: a reply, or a root that has replies. */
  isThread: boolean;
  /** Operators the parser dropped (unknown operator, missing or bad value), for the reply's `ignored`. */
  ignored: string[];
}

/** A search as the store runs it: every name resolved to ids, bounds applied. */
export interface SearchSpec {
  /** The caller. Results only come from channels this user is a member of. */
  userId: string;
  include: TextTerm[];
  exclude: TextTerm[];
  /** Channel ids (already checked to be the caller's); empty = all the caller's channels. */
  channelIds: string[];
  /** Author ids; empty = anyone. */
  authorIds: string[];
  has: HasValue[];
  /** ISO times: createdAt < before, createdAt >= after. */
  before?: string;
  after?: string;
  isThread: boolean;
  /** 'relevance': bm25/ts_rank × recency within the candidate window; 'recent': newest first. */
  sort: 'relevance' | 'recent';
  /** Page size and offset into the ranked window (offset + limit ≤ the window; the service checks). */
  limit: number;
  offset: number;
  /**
   * Snapshot from the first page (SearchResult.snapshot, carried in the cursor): later pages see
   * only what the first one could, so new sends do not shift them. Opaque, store-specific;
   * undefined on a first page.
   */
  snapshot?: string;
}

/** Suggest's search: the newest readable messages holding a word that starts with `prefix`. */
export function suggestSpec(userId: string, prefix: string): SearchSpec {
  return {
    userId,
    include: [{ kind: 'prefix', tokens: [prefix], source: prefix }],
    exclude: [],
    channelIds: [],
    authorIds: [],
    has: [],
    isThread: false,
    sort: 'recent',
    limit: 1,
    offset: 0,
  };
}
