// Search on the wire (issue 10): GET /api/search and GET /api/search/suggest, their query
// parameters and replies. The query language is in docs/API.md ("Search") and
// src/server/search/parse.ts; every filter can also be given as its own parameter.
import { Type, type Static } from '@sinclair/typebox';
import { Id, SAFE_TEXT, Strict, StringEnum } from './fields.js';
import { ChannelType, Message } from './objects.js';

export const SEARCH_LIMITS = {
  /** Characters of `q` (the parser reads no more; longer is a 400). */
  queryChars: 512,
  /** Hits per page. */
  page: { max: 50, default: 20 },
  /** Characters of a suggest prefix. */
  suggestChars: 64,
  /** Entries of each kind (terms, users, channels) in a suggest reply. */
  suggest: { max: 20, default: 8 },
} as const;

const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'a UTC day, YYYY-MM-DD' });

export const SearchSort = StringEnum(['relevance', 'recent'] as const, {
  description: 'relevance (default): text relevance × recency over the newest matches; recent: newest first',
});

export const SearchQuery = Type.Object(
  {
    q: Type.Optional(
      Type.String({
        maxLength: SEARCH_LIMITS.queryChars,
        pattern: SAFE_TEXT,
        description:
          'words, "phrases", -excluded, prefix*, from:@user in:#channel has:file|image|link before:/after:/on:YYYY-MM-DD is:thread',
      }),
    ),
    channelId: Type.Optional(Id),
    from: Type.Optional(Type.String({ maxLength: 80, pattern: '^@?[\\p{L}\\p{N}._-]{1,80}$', description: 'a username' })),
    has: Type.Optional(StringEnum(['file', 'image', 'link'] as const)),
    before: Type.Optional(Day),
    after: Type.Optional(Day),
    on: Type.Optional(Day),
    isThread: Type.Optional(Type.Boolean()),
    sort: Type.Optional(SearchSort),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: SEARCH_LIMITS.page.max, default: SEARCH_LIMITS.page.default })),
    cursor: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$', description: 'nextCursor of the previous page' }),
    ),
  },
  Strict,
);
export type SearchQuery = Static<typeof SearchQuery>;

export const SearchChannel = Type.Object({ id: Id, name: Type.Union([Type.String(), Type.Null()]), type: ChannelType }, Strict);
export type SearchChannel = Static<typeof SearchChannel>;
export const SearchAuthor = Type.Object({ id: Id, username: Type.String(), displayName: Type.String() }, Strict);
export type SearchAuthor = Static<typeof SearchAuthor>;

export const SearchSnippet = Type.Object(
  {
    text: Type.String({ description: 'a window of the message text around the first match; "…" marks a cut' }),
    highlights: Type.Array(Type.Object({ start: Type.Integer(), end: Type.Integer() }, Strict), {
      description: 'matched words as [start, end) offsets into `text` (UTF-16 code units), in order, not overlapping',
    }),
  },
  Strict,
);
export type SearchSnippet = Static<typeof SearchSnippet>;

export const SearchResultItem = Type.Object(
  {
    message: Message,
    channel: SearchChannel,
    author: SearchAuthor,
    snippet: SearchSnippet,
    score: Type.Number({ description: 'higher is better; comparable within one reply' }),
  },
  Strict,
);
export type SearchResultItem = Static<typeof SearchResultItem>;

export const SearchReply = Type.Object(
  {
    results: Type.Array(SearchResultItem),
    total: Type.Integer({ description: 'matches in the ranked window (the newest NCHAT_SEARCH_WINDOW matches in your channels)' }),
    totalExact: Type.Boolean({ description: 'false: the window was full, there may be more (older) matches: `total` is a lower bound' }),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: "null on the last page (or at the window's depth)" }),
    ignored: Type.Array(Type.String(), { description: 'parts of q that were not used (unknown operator value, bad date, too many terms)' }),
  },
  Strict,
);
export type SearchReply = Static<typeof SearchReply>;

export const SuggestQuery = Type.Object(
  {
    q: Type.String({ minLength: 1, maxLength: SEARCH_LIMITS.suggestChars, pattern: SAFE_TEXT }),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: SEARCH_LIMITS.suggest.max, default: SEARCH_LIMITS.suggest.default })),
  },
  Strict,
);
export type SuggestQuery = Static<typeof SuggestQuery>;

export const SuggestReply = Type.Object(
  {
    terms: Type.Array(Type.Object({ term: Type.String(), count: Type.Integer() }, Strict), {
      description: 'words starting with the last word of q, from recent messages you can read, most frequent first',
    }),
    users: Type.Array(SearchAuthor, { description: 'username or display name starts with q (the workspace directory)' }),
    channels: Type.Array(SearchChannel, { description: 'your channels whose name starts with q' }),
  },
  Strict,
);
export type SuggestReply = Static<typeof SuggestReply>;
