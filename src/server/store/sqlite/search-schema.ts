// Migration 0004_search (issue 10), SQLite dialect: an FTS5 index over message text, kept by
// triggers so that sends, edits and deletes are searchable (or gone) when their transaction commits.
//
// search_docs: FTS5 needs an integer rowid, and messages is WITHOUT ROWID (keyed by channel_id,
//   seq). Each live message gets one doc id, derived from its creation time: the n-th message of
//   a millisecond gets createdAt ms × 1024 + n (a message past the 1024th of one millisecond gets
//   an id above all others: unique, its recency slightly off). So `ORDER BY rowid DESC` on the FTS
//   table walks matches newest first whatever order they were inserted in (the candidate window),
//   a date filter is a rowid range, and the rank reads a hit's time from its id.
//   channel_id is here so the permission join (members) needs no read of the messages row.
// search_content: the external content of the FTS table (a view, so the text is stored once, in
//   messages). FTS5 reads it for snippet() and for 'rebuild'.
// search_fts: text plus the channel and author ids as tokens (columns ch, au): `in:` and `from:`
//   become FTS clauses that intersect posting lists, instead of filters applied after a window of
//   candidates (which would miss matches in a quiet channel). unicode61 with remove_diacritics 2
//   folds case and accents (café = cafe); prefix indexes of 2 and 3 characters make prefix* and
//   suggest cheap.
// Triggers (searchTriggers0004): insert → doc + index entry; an edit → the old entry out
//   ('delete' with the old values, as external content requires), the new in; a soft delete
//   (deleted_at set) → entry and doc out. Since 0008_search_async_index the insert trigger only
//   queues the message (searchTriggers, below); the edit and delete triggers are unchanged.
// This text is migration 0004's and stays as applied; the current triggers are searchTriggers.
const searchTriggers0004 = `
CREATE TRIGGER IF NOT EXISTS search_messages_ai AFTER INSERT ON messages WHEN new.deleted_at IS NULL BEGIN
  INSERT INTO search_docs (id, message_id, channel_id)
    SELECT CASE WHEN top IS NULL THEN base WHEN top < base + 1023 THEN top + 1
                ELSE (SELECT max(id) FROM search_docs) + 1 END,
           new.id, new.channel_id
    FROM (SELECT base, (SELECT max(id) FROM search_docs WHERE id BETWEEN base AND base + 1023) AS top
          FROM (SELECT CAST(unixepoch(new.created_at, 'subsec') * 1000 AS INTEGER) * 1024 AS base));
  INSERT INTO search_fts (rowid, text, ch, au)
    SELECT d.id, new.text, new.channel_id, new.author_id FROM search_docs d WHERE d.message_id = new.id;
END;
CREATE TRIGGER IF NOT EXISTS search_messages_au AFTER UPDATE OF text, deleted_at ON messages BEGIN
  INSERT INTO search_fts (search_fts, rowid, text, ch, au)
    SELECT 'delete', d.id, old.text, old.channel_id, old.author_id FROM search_docs d WHERE d.message_id = old.id;
  INSERT INTO search_fts (rowid, text, ch, au)
    SELECT d.id, new.text, new.channel_id, new.author_id FROM search_docs d
    WHERE d.message_id = new.id AND new.deleted_at IS NULL;
  DELETE FROM search_docs WHERE message_id = old.id AND new.deleted_at IS NOT NULL;
END;
CREATE TRIGGER IF NOT EXISTS search_messages_ad AFTER DELETE ON messages BEGIN
  INSERT INTO search_fts (search_fts, rowid, text, ch, au)
    SELECT 'delete', d.id, old.text, old.channel_id, old.author_id FROM search_docs d WHERE d.message_id = old.id;
  DELETE FROM search_docs WHERE message_id = old.id;
END;
`;

/**
 * The triggers since 0008_search_async_index (also re-created by resumeIndexing). A send's
 * transaction only appends its message id to search_pending (one row at the end of a small rowid
 * table); the indexer (search-indexer.ts) gives it a doc id and its FTS entry after the commit,
 * many messages per transaction. Edits and deletes stay synchronous (rare, and they must never
 * leave a stale hit): for a message that is still pending they find no search_docs row and do
 * nothing, and the indexer later reads the message as it is then (new text; deleted → skipped).
 */
export const searchTriggers = `
CREATE TRIGGER IF NOT EXISTS search_messages_ai AFTER INSERT ON messages WHEN new.deleted_at IS NULL BEGIN
  INSERT INTO search_pending (message_id) VALUES (new.id);
END;
${searchTriggers0004.slice(searchTriggers0004.indexOf('CREATE TRIGGER IF NOT EXISTS search_messages_au'))}`;

export const dropSearchTriggers = `
DROP TRIGGER IF EXISTS search_messages_ai;
DROP TRIGGER IF EXISTS search_messages_au;
DROP TRIGGER IF EXISTS search_messages_ad;
`;

/**
 * (Re)builds search_docs and the FTS index from every live message (migration, resumeIndexing),
 * with the insert trigger's ids: the n-th message of a millisecond gets ms × 1024 + n; the rare
 * ones past 1024 in one millisecond get ids above every other (unique, recency slightly off).
 */
export const searchBackfill = `
DELETE FROM search_docs;
CREATE TEMP TABLE search_backfill AS
  SELECT id, channel_id, CAST(unixepoch(created_at, 'subsec') * 1000 AS INTEGER) AS ms,
         row_number() OVER (PARTITION BY created_at ORDER BY id) - 1 AS n
  FROM messages WHERE deleted_at IS NULL;
INSERT INTO search_docs (id, message_id, channel_id)
  SELECT ms * 1024 + n, id, channel_id FROM search_backfill WHERE n < 1024;
INSERT INTO search_docs (id, message_id, channel_id)
  SELECT (SELECT coalesce(max(id), 0) FROM search_docs) + row_number() OVER (ORDER BY ms, id), id, channel_id
  FROM search_backfill WHERE n >= 1024;
DROP TABLE search_backfill;
INSERT INTO search_fts (search_fts) VALUES ('rebuild');
`;

export const searchMigrationSqlite = `
CREATE TABLE search_docs (
  id         INTEGER PRIMARY KEY,
  message_id TEXT NOT NULL,
  channel_id TEXT NOT NULL
);
CREATE UNIQUE INDEX search_docs_message ON search_docs (message_id);
CREATE VIEW search_content (id, text, ch, au) AS
  SELECT d.id, m.text, m.channel_id, m.author_id FROM search_docs d JOIN messages m ON m.id = d.message_id;
CREATE VIRTUAL TABLE search_fts USING fts5(
  text, ch, au,
  content = 'search_content', content_rowid = 'id',
  tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
${searchBackfill}
${searchTriggers0004}
`;

/**
 * Migration 0005_search_filters is PostgreSQL's (channel and author as lexemes of search_tsv, see
 * postgres/search-schema.ts); SQLite has indexed them as the `ch` / `au` FTS columns since 0004.
 * The id exists on both backends because the history is one list.
 */
export const searchFiltersMigrationSqlite = `
-- PostgreSQL only (channel and author lexemes); nothing to change on SQLite.
SELECT 1;
`;

/**
 * Migration 0008_search_async_index (issue 14): search indexing leaves the send transaction.
 * search_pending is the durable queue of committed, not yet indexed messages: written in the
 * send's own transaction, so a crash (kill -9) between the commit and the indexing loses nothing;
 * the next start indexes what it holds (SearchIndexer.flush on migrate/open). The insert trigger
 * is replaced by the queueing one; the edit and delete triggers are created if missing (a file
 * paused for a bulk load at this point gets per-row maintenance back, and resumeIndexing rebuilds
 * anyway).
 */
export const searchAsyncIndexMigrationSqlite = `
CREATE TABLE search_pending (
  id         INTEGER PRIMARY KEY,
  message_id TEXT NOT NULL
);
DROP TRIGGER IF EXISTS search_messages_ai;
${searchTriggers}
`;
