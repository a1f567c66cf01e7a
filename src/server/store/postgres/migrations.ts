// PostgreSQL schema, as an ordered migration history. The ids are shared with the SQLite
// backend (one history, two dialects): a migration added there gets the same id here.
//
// Conventions that the queries rely on:
// - Ids, usernames and channel names are `COLLATE "C"`: ordering and cursors (`after`) are
//   byte-wise, the same as SQLite's BINARY collation and JavaScript's default sort, whatever
//   the database's locale is.
// - Times are timestamptz; the pool's type parser hands them back as ISO-8601 strings.
// - Constraint / index names are part of the contract: errors.ts maps unique violations to
//   AppError codes by these names (users_username_key, users_email_key, channels_name_key,
//   messages_client_msg_key).
// - Foreign keys from messages/notifications/mentions to users are deliberately absent: each
//   one would take a KEY SHARE lock on the author's row on every send (the hot path). Users are
//   never deleted, so nothing can dangle.
import { filesMigrationPostgres, filesSweepMigrationPostgres } from './files-migration.js';
import { searchFiltersMigrationPostgres, searchMigrationPostgres } from './search-schema.js';
import { qualifiedSearchFunctionsPostgres } from './qualified-functions.js';
import { searchFunctionsPlpgsqlMigrationPostgres } from './search-functions-migration.js';
import { tokenRotateMigrationPostgres } from './token-migration.js';
import { unreadMigrationPostgres } from './unread-migration.js';
import { writePathMigrationPostgres } from './write-path-migration.js';

export const migrations: { id: string; sql: string }[] = [
  {
    id: '0001_initial',
    sql: `
CREATE TABLE users (
  id             text COLLATE "C" PRIMARY KEY,
  username       text COLLATE "C" NOT NULL,
  email          text COLLATE "C" NOT NULL,
  display_name   text NOT NULL,
  password_hash  text NOT NULL,
  role           text NOT NULL CHECK (role IN ('owner','admin','moderator','member','guest')),
  status         text,
  avatar_file_id text,
  created_at     timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
-- Prefix search (search()): lower(x) LIKE 'p%' can use these in any locale.
CREATE INDEX users_username_prefix_idx ON users (lower(username) text_pattern_ops);
CREATE INDEX users_display_name_prefix_idx ON users (lower(display_name) text_pattern_ops);

CREATE TABLE refresh_tokens (
  id          text COLLATE "C" PRIMARY KEY,
  user_id     text COLLATE "C" NOT NULL REFERENCES users(id),
  family_id   text COLLATE "C" NOT NULL,
  token_hash  text COLLATE "C" NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  revoked_at  timestamptz,
  created_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE channels (
  id           text COLLATE "C" PRIMARY KEY,
  type         text NOT NULL CHECK (type IN ('public','private','direct','group')),
  name         text COLLATE "C",
  description  text NOT NULL DEFAULT '',
  topic        text NOT NULL DEFAULT '',
  created_by   text COLLATE "C" NOT NULL,
  created_at   timestamptz NOT NULL,
  archived_at  timestamptz,
  -- Highest seq assigned; bumped by UPDATE ... RETURNING in the send's transaction, whose row
  -- lock serialises the writers of one channel (max(seq)+1 would race).
  last_seq     bigint NOT NULL DEFAULT 0,
  -- Kept in the same transaction as every membership change (listForUser reads it per row).
  member_count integer NOT NULL DEFAULT 0,
  -- Sorted, de-duplicated member ids joined by ',' for direct/group channels: one channel per set.
  dm_key       text COLLATE "C",
  CHECK ((type IN ('public','private')) = (name IS NOT NULL))
);
CREATE UNIQUE INDEX channels_name_key ON channels (lower(name)) WHERE type IN ('public','private');
CREATE UNIQUE INDEX channels_dm_key ON channels (dm_key) WHERE dm_key IS NOT NULL;
CREATE INDEX channels_public_name_idx ON channels (lower(name)) WHERE type = 'public' AND archived_at IS NULL;

CREATE TABLE channel_members (
  channel_id text COLLATE "C" NOT NULL REFERENCES channels(id),
  user_id    text COLLATE "C" NOT NULL REFERENCES users(id),
  role       text NOT NULL CHECK (role IN ('owner','admin','member')),
  joined_at  timestamptz NOT NULL,
  read_seq   bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_user_idx ON channel_members (user_id);

CREATE TABLE messages (
  id               text COLLATE "C" PRIMARY KEY,
  channel_id       text COLLATE "C" NOT NULL REFERENCES channels(id),
  seq              bigint NOT NULL,
  author_id        text COLLATE "C" NOT NULL,
  text             text NOT NULL,
  created_at       timestamptz NOT NULL,
  edited_at        timestamptz,
  deleted_at       timestamptz,
  parent_id        text COLLATE "C",
  reply_count      integer NOT NULL DEFAULT 0,
  last_reply_at    timestamptz,
  mention_user_ids text[] NOT NULL DEFAULT '{}',
  mention_channel  boolean NOT NULL DEFAULT false,
  mention_here     boolean NOT NULL DEFAULT false,
  file_ids         text[] NOT NULL DEFAULT '{}',
  client_msg_id    text COLLATE "C",
  -- Rows in reactions for this message, kept in the same statement as every reaction change:
  -- history/get skip the reactions query for pages without any.
  reaction_count   integer NOT NULL DEFAULT 0,
  -- History is a range scan of this index. INCLUDE lets listForUser count unread messages
  -- (deleted_at, author_id) and @channel/@here mentions with an index-only scan.
  CONSTRAINT messages_channel_seq_key UNIQUE (channel_id, seq)
    INCLUDE (author_id, deleted_at, mention_channel, mention_here)
);
CREATE UNIQUE INDEX messages_client_msg_key ON messages (channel_id, author_id, client_msg_id)
  WHERE client_msg_id IS NOT NULL;
CREATE INDEX messages_parent_idx ON messages (parent_id, seq) WHERE parent_id IS NOT NULL;

-- One row per (message, mentioned user): mentionCount of listForUser without scanning arrays.
CREATE TABLE message_mentions (
  message_id text COLLATE "C" NOT NULL REFERENCES messages(id),
  channel_id text COLLATE "C" NOT NULL,
  seq        bigint NOT NULL,
  user_id    text COLLATE "C" NOT NULL,
  PRIMARY KEY (message_id, user_id)
);
CREATE INDEX message_mentions_user_idx ON message_mentions (user_id, channel_id, seq);

CREATE TABLE reactions (
  message_id text COLLATE "C" NOT NULL REFERENCES messages(id),
  user_id    text COLLATE "C" NOT NULL,
  emoji      text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (message_id, user_id, emoji)
);

CREATE TABLE notifications (
  id         text COLLATE "C" PRIMARY KEY,
  user_id    text COLLATE "C" NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('mention','reply','dm')),
  channel_id text COLLATE "C" NOT NULL,
  message_id text COLLATE "C" NOT NULL,
  seq        bigint NOT NULL,
  actor_id   text COLLATE "C" NOT NULL,
  created_at timestamptz NOT NULL,
  read_at    timestamptz
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);
-- At most one notification per (user, message).
CREATE UNIQUE INDEX notifications_user_message_key ON notifications (user_id, message_id);

CREATE TABLE meta (
  key   text COLLATE "C" PRIMARY KEY,
  value text NOT NULL
);

`,
  },
  {
    // Sessions and sign-up (issue 7): account deactivation, the start-up read of recently revoked
    // sessions (partial index: only revoked rows), and admin-created invite tokens (hashed).
    id: '0002_sessions_invites',
    sql: `
ALTER TABLE users ADD COLUMN deactivated_at timestamptz;
CREATE INDEX refresh_tokens_revoked_idx ON refresh_tokens (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE TABLE invites (
  id         text COLLATE "C" PRIMARY KEY,
  token_hash text COLLATE "C" NOT NULL,
  created_by text COLLATE "C" NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  max_uses   integer NOT NULL CHECK (max_uses >= 1),
  uses       integer NOT NULL DEFAULT 0 CHECK (uses >= 0 AND uses <= max_uses)
);
CREATE UNIQUE INDEX invites_hash_key ON invites (token_hash);
`,
  },
  { id: '0003_files', sql: filesMigrationPostgres },
  { id: '0004_search', sql: searchMigrationPostgres },
  { id: '0005_search_filters', sql: searchFiltersMigrationPostgres },
  // Avatar reads (services/files.ts): "is this file someone's current avatar" is one index probe.
  { id: '0006_avatar_index', sql: 'CREATE INDEX users_avatar_file_idx ON users (avatar_file_id) WHERE avatar_file_id IS NOT NULL;' },
  // pg_dump/pg_restore round trip (restore runs with an empty search_path): qualified-functions.ts.
  { id: '0007_qualified_search_functions', sql: qualifiedSearchFunctionsPostgres },
  // SQLite only (search indexing after the send commits: sqlite/search-indexer.ts); nothing to do here.
  { id: '0008_search_async_index', sql: 'SELECT 1;' },
  // Send path (issue 14): no row-by-row foreign-key checks on messages and mention rows (write-path-migration.ts).
  { id: '0009_pg_write_path', sql: writePathMigrationPostgres },
  // Bounded unread counts: @channel/@here among unread messages without a range scan (unread-migration.ts; issue 14).
  { id: '0011_unread', sql: unreadMigrationPostgres },
  // Unattached-file sweep index and the one-round-trip upload insert (files-migration.ts; issue 11).
  { id: '0012_files_sweep', sql: filesSweepMigrationPostgres },
  // Refresh-token rotation in one round trip (token-migration.ts; issue 14).
  { id: '0013_token_rotate', sql: tokenRotateMigrationPostgres },
  // The search functions in PL/pgSQL: planned once per session, not in every send (search-functions-migration.ts; issue 14).
  { id: '0014_search_functions_plpgsql', sql: searchFunctionsPlpgsqlMigrationPostgres },
];
