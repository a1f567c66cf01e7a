// Migration 0003_files (issue 11), PostgreSQL dialect; the tables and their meaning are stated in
// sqlite/files-migration.ts (same id, same columns).
export const filesMigrationPostgres = `
CREATE TABLE files (
  id          text COLLATE "C" PRIMARY KEY,
  uploader_id text COLLATE "C" NOT NULL,
  channel_id  text COLLATE "C",
  name        text NOT NULL,
  size        bigint NOT NULL CHECK (size >= 0),
  mime        text NOT NULL,
  sha256      text NOT NULL,
  blob_key    text NOT NULL,
  is_image    boolean NOT NULL DEFAULT false,
  width       integer,
  height      integer,
  thumb_state text NOT NULL CHECK (thumb_state IN ('none','pending','ready','failed')),
  thumb_key   text,
  thumb_ms    integer,
  message_id  text COLLATE "C",
  created_at  timestamptz NOT NULL
);
-- The quota sum is an index-only scan.
CREATE INDEX files_uploader_idx ON files (uploader_id) INCLUDE (size);

CREATE TABLE message_files (
  message_id text COLLATE "C" NOT NULL,
  file_id    text COLLATE "C" NOT NULL,
  channel_id text COLLATE "C" NOT NULL,
  is_image   boolean NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (message_id, file_id)
);
CREATE INDEX message_files_file_idx ON message_files (file_id, channel_id);

-- The attached files' public objects (snapshot at send); supersedes file_ids (left '{}').
ALTER TABLE messages ADD COLUMN files jsonb;
`;

// Migration 0012_files_sweep (issue 11), PostgreSQL dialect.
//
// files_unattached_idx: the unattached-file sweep (FileStore.sweepUnattached) reads the oldest
//   never-attached files; a partial index keeps that a short range scan however many files are attached.
// nchat_file_create: the upload's row in ONE round trip. The quota check and the insert must be
//   atomic per uploader (two uploads of one user cannot together pass the quota), which took a
//   transaction of five statements (BEGIN, advisory lock, sum, insert, COMMIT). Under upload load
//   the event loop is busy streaming bodies and every round trip waits its turn (measured ~150 ms
//   each at 100 uploads in flight, docs/PERFORMANCE.md), so those five were most of an upload's
//   PostgreSQL time. In PL/pgSQL each statement takes its own snapshot (READ COMMITTED), so the sum
//   read after the lock sees every upload of the user committed before it: the same guarantee.
//   Lock key: (0x6e636803, hashtext(uploader)), the namespace PostgresFiles.QUOTA_LOCK names.
//   Names are schema-qualified (a pg_restore runs with an empty search_path).
export const filesSweepMigrationPostgres = `
CREATE INDEX files_unattached_idx ON files (created_at) WHERE message_id IS NULL;

CREATE FUNCTION public.nchat_file_create(
  p_id text, p_uploader text, p_channel text, p_name text, p_size bigint, p_mime text, p_sha256 text,
  p_blob_key text, p_is_image boolean, p_width integer, p_height integer, p_thumb_state text,
  p_created_at timestamptz, p_quota bigint
) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF p_quota > 0 THEN
    PERFORM pg_catalog.pg_advisory_xact_lock(1852008451, pg_catalog.hashtext(p_uploader));
    IF (SELECT COALESCE(sum(f.size), 0) FROM public.files f WHERE f.uploader_id = p_uploader) + p_size > p_quota THEN
      RETURN false;
    END IF;
  END IF;
  INSERT INTO public.files (id, uploader_id, channel_id, name, size, mime, sha256, blob_key, is_image, width, height, thumb_state, created_at)
  VALUES (p_id, p_uploader, p_channel, p_name, p_size, p_mime, p_sha256, p_blob_key, p_is_image, p_width, p_height, p_thumb_state, p_created_at);
  RETURN true;
END
$$;
`;
