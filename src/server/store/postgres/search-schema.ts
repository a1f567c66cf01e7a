// Migration 0004_search (issue 10), PostgreSQL dialect. The SQLite twin is sqlite/search-schema.ts.
//
// Accents: to_tsvector('simple') lower-cases but keeps accents, and unaccent() is only STABLE
// (its dictionary could change), so it cannot feed a generated column or an index directly.
// nchat_search_doc() wraps it, with the dictionary named explicitly, in an IMMUTABLE function
// (the documented way; the dictionary file is part of the installed extension and does not
// change under a running database). The same function folds the query side (tsquery.ts passes
// every token through nchat_search_fold), so `cafe` and `café` meet.
// 'simple' (no stemming, no stop words) is Slack/Mattermost-like exact-word search; stemming
// would make `run` find `running` but also mis-rank names and code, and differs per language.
//
// messages.search_tsv: a STORED generated column, so an edit re-indexes in the same statement and
// a soft delete (text '') empties it: edits and deletes show at once with no trigger to forget.
// messages_search_idx: GIN over it (fastupdate off: a send's entries go straight into the index
// instead of a pending list that a later search would have to scan).
// Recency order is the primary key (ids are time-ordered, ids.ts): the planner can walk
// messages_pkey backwards for a common word and stop after the window, or take a GIN bitmap for
// a rare one.
export const SEARCH_GIN_INDEX = 'messages_search_idx';

export const createSearchIndex = `CREATE INDEX IF NOT EXISTS ${SEARCH_GIN_INDEX} ON messages USING gin (search_tsv) WITH (fastupdate = off)`;

export const searchMigrationPostgres = `
CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;
CREATE OR REPLACE FUNCTION nchat_search_fold(t text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, t)) $$;
CREATE OR REPLACE FUNCTION nchat_search_doc(t text) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT to_tsvector('pg_catalog.simple'::regconfig, nchat_search_fold(t)) $$;
ALTER TABLE messages ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS (nchat_search_doc(text)) STORED;
${createSearchIndex};
`;

// Migration 0005_search_filters: three lexemes besides the words in search_tsv — '#<channel id>',
// '@<author id>' and '~<week>' (weeks since 1970-01-01, UTC, of created_at). The parser never
// makes a lexeme starting with #, @ or ~, so they cannot collide with words.
// - `from:` and `in:` intersect posting lists in the GIN index instead of reading every message
//   of an author (measured 523 ms for `the from:<someone>` at 1M before: author_id has no index),
//   as SQLite's `au`/`ch` FTS columns do since 0004.
// - Weeks let a search of a mid-frequency word look at the newest weeks first
//   (postgres/search.ts): 'deploy' & ('~2917' | '~2916') is a GIN intersection, so only matches
//   of those weeks are fetched from the heap. Without it the plan is either a backward walk of
//   the primary key testing every row (107,000 rows for the newest 1,000 matches of a word in 2%
//   of messages: 210 ms) or a bitmap of all its matches (20,000 heap pages: 365 ms warm).
// The column is rebuilt (one table rewrite). nchat_search_week is IMMUTABLE because the epoch of
// a timestamptz does not depend on the session's time zone (extract() is only marked STABLE).
export const searchFiltersMigrationPostgres = `
CREATE OR REPLACE FUNCTION nchat_search_week(at timestamptz) RETURNS bigint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT floor(extract(epoch FROM at) / 604800)::bigint $$;
CREATE OR REPLACE FUNCTION nchat_search_doc(t text, ch text, au text, at timestamptz) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT to_tsvector('pg_catalog.simple', nchat_search_fold(coalesce(t, '')))
               || array_to_tsvector(ARRAY['#' || ch, '@' || au, '~' || nchat_search_week(at)]) $$;
ALTER TABLE messages DROP COLUMN search_tsv;
ALTER TABLE messages ADD COLUMN search_tsv tsvector
  GENERATED ALWAYS AS (nchat_search_doc(text, channel_id, author_id, created_at)) STORED;
${createSearchIndex};
`;
