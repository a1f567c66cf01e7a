// Migration 0003_files (issue 11), SQLite dialect. Appended to migrations.ts; the PostgreSQL twin
// is postgres/files-migration.ts (same id, same tables).
//
// files: one row per completed upload (a row is written only once the blob is stored whole).
//   blob_key / thumb_key are blob-store keys (never paths). message_id is the one message the file
//   is attached to (set by the send transaction with a compare-and-set: a file attaches at most once).
//   thumb_state: 'none' (not an image, or over the pixel limit), 'pending', 'ready', 'failed'.
//   thumb_ms: upload complete → thumbnail ready, in milliseconds (the report's processing time).
// message_files: one row per (message, attached file), written in the send transaction and removed
//   when the message is deleted. Download authorization (member of channel_id) and search's
//   has:file / has:image read it.
// messages.files: the attached files' public objects as JSON (a snapshot taken at send), so history
//   returns them without a join; it supersedes messages.file_ids, which stays NULL from now on.
export const filesMigrationSqlite = `
CREATE TABLE files (
  id          TEXT PRIMARY KEY,
  uploader_id TEXT NOT NULL,
  channel_id  TEXT,
  name        TEXT NOT NULL,
  size        INTEGER NOT NULL CHECK (size >= 0),
  mime        TEXT NOT NULL,
  sha256      TEXT NOT NULL,
  blob_key    TEXT NOT NULL,
  is_image    INTEGER NOT NULL DEFAULT 0 CHECK (is_image IN (0, 1)),
  width       INTEGER,
  height      INTEGER,
  thumb_state TEXT NOT NULL CHECK (thumb_state IN ('none','pending','ready','failed')),
  thumb_key   TEXT,
  thumb_ms    INTEGER,
  message_id  TEXT,
  created_at  TEXT NOT NULL
);
-- The quota sum (size of the uploader's files) is an index-only scan of this index.
CREATE INDEX files_uploader ON files (uploader_id, size);

CREATE TABLE message_files (
  message_id TEXT NOT NULL,
  file_id    TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  is_image   INTEGER NOT NULL CHECK (is_image IN (0, 1)),
  created_at TEXT NOT NULL,
  PRIMARY KEY (message_id, file_id)
) WITHOUT ROWID;
CREATE INDEX message_files_file ON message_files (file_id, channel_id);

ALTER TABLE messages ADD COLUMN files TEXT;
`;

// Migration 0012_files_sweep (issue 11), SQLite dialect: the unattached-file sweep
// (FileStore.sweepUnattached) reads the oldest never-attached files through this partial index.
// (The PostgreSQL twin also adds the one-round-trip upload insert; SQLite needs none.)
export const filesSweepMigrationSqlite = `
CREATE INDEX files_unattached ON files (created_at) WHERE message_id IS NULL;
`;
