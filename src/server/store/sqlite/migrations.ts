// The SQLite schema history. One history for both backends: postgres/migrations.ts lists the
// same ids in the same order (checked by store/migrations.test.ts); only the SQL differs.
// Applied ids are recorded in schema_migrations; a migration is never edited once released,
// a change is a new entry at the end.
import type Database from 'better-sqlite3';
import { filesMigrationSqlite, filesSweepMigrationSqlite } from './files-migration.js';
import { searchAsyncIndexMigrationSqlite, searchFiltersMigrationSqlite, searchMigrationSqlite } from './search-schema.js';
import { unreadMigrationSqlite } from './unread-migration.js';

export interface Migration {
  id: string;
  sql: string;
}

const initial = `
CREATE TABLE users (
  id             TEXT PRIMARY KEY,
  username       TEXT NOT NULL COLLATE NOCASE,
  email          TEXT NOT NULL COLLATE NOCASE,
  display_name   TEXT NOT NULL,
  -- displayName.toLowerCase() from JS: SQLite's own case folding (NOCASE, lower(), LIKE) only
  -- knows ASCII, and "ann é" must find "Ann Émile".
  display_name_fold TEXT NOT NULL,
  password_hash  TEXT NOT NULL,
  role           TEXT NOT NULL CHECK (role IN ('owner','admin','moderator','member','guest')),
  status         TEXT,
  avatar_file_id TEXT,
  created_at     TEXT NOT NULL
);
-- NOCASE indexes: case-insensitive uniqueness (services store these lower-cased already), and
-- they serve LIKE 'prefix%' lookups.
CREATE UNIQUE INDEX users_username_key ON users (username);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_display_name_fold ON users (display_name_fold);

CREATE TABLE refresh_tokens (
  id          TEXT PRIMARY KEY,
  user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id   TEXT NOT NULL,
  token_hash  TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  used_at     TEXT,
  revoked_at  TEXT,
  created_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE channels (
  id           TEXT PRIMARY KEY,
  type         TEXT NOT NULL CHECK (type IN ('public','private','direct','group')),
  name         TEXT,
  description  TEXT NOT NULL DEFAULT '',
  topic        TEXT NOT NULL DEFAULT '',
  created_by   TEXT NOT NULL REFERENCES users (id),
  created_at   TEXT NOT NULL,
  archived_at  TEXT,
  -- Highest seq handed out; bumped with UPDATE ... RETURNING in the insert's transaction.
  last_seq     INTEGER NOT NULL DEFAULT 0,
  -- Kept in step with members in the same transactions (cheap sidebar reads).
  member_count INTEGER NOT NULL DEFAULT 0,
  -- Sorted member ids joined by ',' for direct/group channels: one channel per set of users.
  dm_key       TEXT
);
CREATE UNIQUE INDEX channels_name_key ON channels (lower(name)) WHERE name IS NOT NULL;
CREATE UNIQUE INDEX channels_dm_key ON channels (dm_key) WHERE dm_key IS NOT NULL;

CREATE TABLE members (
  channel_id TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role       TEXT NOT NULL CHECK (role IN ('owner','admin','member')),
  joined_at  TEXT NOT NULL,
  read_seq   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_user ON members (user_id);

-- Clustered by (channel_id, seq): a history page is one contiguous range of the table itself,
-- and an insert touches one B-tree fewer than a rowid table with a (channel_id, seq) index.
-- No foreign key to channels: the send transaction bumps channels.last_seq first, which already
-- proves the channel exists, and channels are archived, never deleted.
CREATE TABLE messages (
  channel_id       TEXT NOT NULL,
  seq              INTEGER NOT NULL,
  id               TEXT NOT NULL,
  author_id        TEXT NOT NULL,
  text             TEXT NOT NULL,
  created_at       TEXT NOT NULL,
  edited_at        TEXT,
  deleted_at       TEXT,
  parent_id        TEXT,
  reply_count      INTEGER NOT NULL DEFAULT 0,
  last_reply_at    TEXT,
  -- JSON arrays, NULL when empty (most messages): no parse on the read path.
  mention_user_ids TEXT,
  mention_channel  INTEGER NOT NULL DEFAULT 0,
  mention_here     INTEGER NOT NULL DEFAULT 0,
  file_ids         TEXT,
  client_msg_id    TEXT,
  PRIMARY KEY (channel_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX messages_id_key ON messages (id);
CREATE UNIQUE INDEX messages_client_msg ON messages (channel_id, author_id, client_msg_id) WHERE client_msg_id IS NOT NULL;
CREATE INDEX messages_parent ON messages (parent_id, seq) WHERE parent_id IS NOT NULL;

-- One row per (mentioned user, message), for mentionCount without scanning message text.
-- Rows are found again through the message's own mention_user_ids (edit, delete), so the
-- table needs no second index.
CREATE TABLE message_mentions (
  user_id    TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  seq        INTEGER NOT NULL,
  message_id TEXT NOT NULL,
  PRIMARY KEY (user_id, channel_id, seq)
) WITHOUT ROWID;

CREATE TABLE reactions (
  message_id TEXT NOT NULL,
  user_id    TEXT NOT NULL,
  emoji      TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (message_id, user_id, emoji)
) WITHOUT ROWID;

CREATE TABLE notifications (
  id         TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('mention','reply','dm')),
  channel_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  seq        INTEGER NOT NULL,
  actor_id   TEXT NOT NULL,
  created_at TEXT NOT NULL,
  read_at    TEXT
);
CREATE INDEX notifications_user ON notifications (user_id, id);

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

// Sessions and sign-up (issue 7): account deactivation, the start-up read of recently revoked
// sessions (partial index: only revoked rows), and admin-created invite tokens (hashed).
const sessions = `
ALTER TABLE users ADD COLUMN deactivated_at TEXT;
CREATE INDEX refresh_tokens_revoked ON refresh_tokens (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE TABLE invites (
  id         TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  max_uses   INTEGER NOT NULL CHECK (max_uses >= 1),
  uses       INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0 AND uses <= max_uses)
);
CREATE UNIQUE INDEX invites_hash_key ON invites (token_hash);
`;

export const migrations: Migration[] = [
  { id: '0001_initial', sql: initial },
  { id: '0002_sessions_invites', sql: sessions },
  { id: '0003_files', sql: filesMigrationSqlite },
  { id: '0004_search', sql: searchMigrationSqlite },
  { id: '0005_search_filters', sql: searchFiltersMigrationSqlite },
  // Avatar reads (services/files.ts): "is this file someone's current avatar" is one index probe.
  { id: '0006_avatar_index', sql: 'CREATE INDEX users_avatar_file ON users (avatar_file_id) WHERE avatar_file_id IS NOT NULL;' },
  // PostgreSQL only (search functions qualified for pg_restore: postgres/qualified-functions.ts).
  { id: '0007_qualified_search_functions', sql: 'SELECT 1;' },
  // Search indexing after the send's commit, in batches (search-indexer.ts; issue 14).
  { id: '0008_search_async_index', sql: searchAsyncIndexMigrationSqlite },
  // PostgreSQL send path (issue 14): drops two foreign keys there; SQLite keeps its own: nothing to do.
  { id: '0009_pg_write_path', sql: 'SELECT 1;' },
  // Bounded unread counts: @channel/@here among unread messages without a range scan (unread-migration.ts; issue 14).
  { id: '0011_unread', sql: unreadMigrationSqlite },
  // Unattached-file sweep index (files-migration.ts; issue 11).
  { id: '0012_files_sweep', sql: filesSweepMigrationSqlite },
  // PostgreSQL only (refresh-token rotation as one function call: postgres/token-migration.ts);
  // SQLite's rotate is already one local transaction with no round trips.
  { id: '0013_token_rotate', sql: 'SELECT 1;' },
  // PostgreSQL only (its search functions in PL/pgSQL: postgres/search-functions-migration.ts).
  { id: '0014_search_functions_plpgsql', sql: 'SELECT 1;' },
];

/**
 * Applies pending migrations, each in its own IMMEDIATE transaction (the write lock is taken
 * before the applied-check, so two processes starting at once cannot both apply one).
 * Returns the ids applied by this call.
 */
export function runMigrations(db: Database.Database, list: Migration[] = migrations): string[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const isApplied = db.prepare('SELECT 1 FROM schema_migrations WHERE id = ?').pluck();
  const record = db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)');
  const applied: string[] = [];
  for (const m of list) {
    const apply = db.transaction(() => {
      if (isApplied.get(m.id)) return false;
      db.exec(m.sql);
      record.run(m.id, new Date().toISOString());
      return true;
    });
    if (apply.immediate()) applied.push(m.id);
  }
  return applied;
}
