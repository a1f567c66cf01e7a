// The send statement (see message-create.ts for how batches are formed and retried). One
// set-based statement per batch, in two variants built from the same parts: PLAIN_SQL when no
// call of the batch has mentions, notifications or a parent (most one-at-a-time sends; its plan
// is half the size, ~30% less backend CPU per call), FULL_SQL otherwise.
//
// b       the batch, one row per call (idx = position in the batch)
// fl      (FILES_SQL, FILES_PLAIN_SQL) the files the calls name, locked; att/mf attach them
// rf      calls refused by NewMessage.checkAuthor (no such channel, archived, author not a
//         member): they write nothing and take no seq; the result says `refused`
// ex      idempotency: calls whose (channel, author, clientMsgId) already exists write nothing
// cnt/lk  messages per channel; channel rows locked in id order (an InitPlan: runs fully first)
// ch      last_seq += n per channel, RETURNING the base: seq = base + rank within the channel,
//         unique and gapless because the row lock serialises all writers of the channel
// ins     messages; men: message_mentions; par: parents' reply_count/last_reply_at;
// rdx/rd  each author's read_seq moved to their newest seq
// cand/rcp/nt  notifications (NewMessage.notify): current members only, never the author, one
//         per (user, message), precedence mention (1) > reply (2) > dm (3) via DISTINCT ON;
//         "everyone who replied before" includes earlier replies of the same batch.
//         Ids: the message id's 10-char time prefix + 12 hex chars of md5(message, user) —
//         unique because (user, message) is, time-sortable like every id.
//
// Plans: every lookup into a big table is written so that it can only be an index probe
// (correlated scalar subqueries, = ANY(ARRAY(...)), LATERAL ... OFFSET 0). The statements are
// prepared once per connection and run with generic plans (see db.ts createPool); a hash join
// chosen while a table was small would otherwise seq-scan messages on every batch.

/**
 * fl — the files of the batch's calls (b.file_ids), locked: for each, the call naming it, if the
 * file is that call's author's own and not yet attached to a message. The writer never puts two
 * calls naming one file in a batch (message-create.ts flush); were it to, the file would go to
 * the first (DISTINCT ON) and the other call be short of it.
 * - Locked in file id order over the whole batch (two batches naming the same files cannot
 *   deadlock), every file before any channel row (lk): materialized, and nb depends on it. No
 *   other writer of files takes a channel lock.
 * - Each file is one primary-key probe, and written so that nothing else can serve:
 *   "unattached" is `coalesce(message_id, '') = ''` (ids are never empty), not `message_id IS
 *   NULL`, which is files_unattached_idx's predicate: a generic plan made on small tables then
 *   scanned that whole index for each id, filtering on the id. The ids compare in the column's
 *   collation (as COLLATE "C" the primary key could not serve at all). The uploader is tested
 *   outside the lock: inside, the planner took files_uploader_idx and filtered on the id (an
 *   uploader never changes, and sendWithFiles has read it already). write-path.test.ts checks.
 * - Under READ COMMITTED a row another send attached meanwhile is re-checked once its lock is
 *   released, and drops out.
 */
const FILE_LOCKS = `fl AS MATERIALIZED (
  SELECT x.idx, f.id, f.is_image
  FROM (SELECT DISTINCT ON (1) u.id, b.idx, b.author_id
        FROM b CROSS JOIN unnest(b.file_ids) AS u(id)
        ORDER BY 1, b.idx) x
  CROSS JOIN LATERAL (
    SELECT f.id, f.is_image, f.uploader_id FROM files f
    WHERE f.id = x.id AND coalesce(f.message_id, '') = ''
    FOR UPDATE) f
  WHERE f.uploader_id = x.author_id
),
`;

/** b, ex, nb, cnt, lk, ch, s, ins — every variant; `files`: FILES_SQL's fl and its condition on nb. */
const head = (files: boolean) => `
WITH b AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS j(
    idx int, id text, channel_id text, author_id text, body text, client_msg_id text, parent_id text,
    mention_user_ids text[], mention_channel boolean, mention_here boolean, file_ids text[],
    created_at timestamptz, notify_mention_ids text[], all_members text, thread_participants boolean,
    check_author boolean, files jsonb)
),
${files ? FILE_LOCKS : ''}rf AS (
  SELECT b.idx FROM b
  WHERE b.check_author
    AND (SELECT 1 FROM channels c
         JOIN channel_members m ON m.channel_id = c.id AND m.user_id = b.author_id COLLATE "C"
         WHERE c.id = b.channel_id COLLATE "C" AND c.archived_at IS NULL) IS NULL
),
ex AS (
  SELECT b.idx, (SELECT m.id FROM messages m
                 WHERE m.channel_id = b.channel_id AND m.author_id = b.author_id AND m.client_msg_id = b.client_msg_id) AS existing_id
  FROM b WHERE b.client_msg_id IS NOT NULL AND b.idx <> ALL (ARRAY(SELECT rf.idx FROM rf))
),
nb AS (
  SELECT b.* FROM b
  WHERE b.idx <> ALL (ARRAY(SELECT ex.idx FROM ex WHERE ex.existing_id IS NOT NULL))
    AND b.idx <> ALL (ARRAY(SELECT rf.idx FROM rf))${files ? '\n    AND (SELECT count(*) FROM fl WHERE fl.idx = b.idx) = cardinality(b.file_ids)' : ''}
),
cnt AS (SELECT nb.channel_id, count(*) AS n FROM nb GROUP BY nb.channel_id),
lk AS (
  SELECT c.id FROM channels c WHERE c.id = ANY (ARRAY(SELECT cnt.channel_id FROM cnt)) ORDER BY c.id FOR NO KEY UPDATE
),
ch AS (
  UPDATE channels c SET last_seq = c.last_seq + (SELECT cnt.n FROM cnt WHERE cnt.channel_id = c.id)
  WHERE c.id = ANY (ARRAY(SELECT cnt.channel_id FROM cnt)) AND (SELECT count(*) FROM lk) >= 0
  RETURNING c.id, c.last_seq
),
s AS (
  SELECT nb.*, ch.last_seq - cnt.n + row_number() OVER (PARTITION BY nb.channel_id ORDER BY nb.idx) AS seq
  FROM nb JOIN ch ON ch.id = nb.channel_id JOIN cnt ON cnt.channel_id = nb.channel_id
),
ins AS (
  INSERT INTO messages (id, channel_id, seq, author_id, text, created_at, parent_id,
                        mention_user_ids, mention_channel, mention_here, file_ids, client_msg_id, files)
  SELECT s.id, s.channel_id, s.seq, s.author_id, s.body, s.created_at, s.parent_id,
         COALESCE(s.mention_user_ids, '{}'), COALESCE(s.mention_channel, false),
         COALESCE(s.mention_here, false), COALESCE(s.file_ids, '{}'), s.client_msg_id, s.files
  FROM s
),
`;

/** men, par — mention rows and parents' reply counters. */
const MENTIONS_AND_PARENTS = `
men AS (
  INSERT INTO message_mentions (message_id, channel_id, seq, user_id)
  SELECT DISTINCT s.id, s.channel_id, s.seq, u.uid FROM s, unnest(s.mention_user_ids) AS u(uid)
),
par AS (
  UPDATE messages p
  SET reply_count = p.reply_count + (SELECT count(*) FROM s WHERE s.parent_id = p.id),
      last_reply_at = (SELECT max(s.created_at) FROM s WHERE s.parent_id = p.id)
  WHERE p.id = ANY (ARRAY(SELECT s.parent_id FROM s WHERE s.parent_id IS NOT NULL))
),
`;

/** rdx, rd — authors' read positions. */
const READ_POSITIONS = `
rdx AS (SELECT s.channel_id, s.author_id, max(s.seq) AS seq FROM s GROUP BY s.channel_id, s.author_id),
rd AS (
  UPDATE channel_members cm SET read_seq = rdx.seq FROM rdx
  WHERE cm.channel_id = ANY (ARRAY(SELECT rdx.channel_id FROM rdx))
    AND cm.user_id = ANY (ARRAY(SELECT rdx.author_id FROM rdx))
    AND cm.channel_id = rdx.channel_id AND cm.user_id = rdx.author_id AND cm.read_seq < rdx.seq
),
`;

/** cand, rcp, nt — notification rows. */
const NOTIFICATIONS = `
cand AS (
  SELECT s.idx, u.uid AS user_id, 1 AS pri, 'mention'::text AS kind
  FROM s, unnest(s.notify_mention_ids) AS u(uid)
  UNION ALL
  SELECT s.idx, cm.user_id, CASE WHEN s.all_members = 'mention' THEN 1 ELSE 3 END, s.all_members
  FROM s CROSS JOIN LATERAL (
    SELECT x.user_id FROM channel_members x WHERE x.channel_id = s.channel_id OFFSET 0) cm
  WHERE s.all_members IS NOT NULL
  UNION ALL
  SELECT s.idx, t.author_id, 2, 'reply'
  FROM s CROSS JOIN LATERAL (
    SELECT r.author_id FROM messages r WHERE r.id = s.parent_id
    UNION
    SELECT r.author_id FROM messages r WHERE r.parent_id = s.parent_id OFFSET 0) t
  WHERE s.thread_participants
  UNION ALL
  SELECT s.idx, e.author_id, 2, 'reply' FROM s JOIN s e ON e.parent_id = s.parent_id AND e.seq < s.seq
  WHERE s.thread_participants
),
rcp AS (
  SELECT DISTINCT ON (cand.idx, cand.user_id) cand.idx, cand.user_id, cand.kind
  FROM cand JOIN s ON s.idx = cand.idx
  WHERE cand.user_id <> s.author_id
    AND (SELECT 1 FROM channel_members cm WHERE cm.channel_id = s.channel_id AND cm.user_id = cand.user_id) IS NOT NULL
  ORDER BY cand.idx, cand.user_id, cand.pri
),
nt AS (
  INSERT INTO notifications (id, user_id, kind, channel_id, message_id, seq, actor_id, created_at)
  SELECT left(s.id, 10) || substr(md5(s.id || ':' || rcp.user_id), 1, 12),
         rcp.user_id, rcp.kind, s.channel_id, s.id, s.seq, s.author_id, s.created_at
  FROM rcp JOIN s ON s.idx = rcp.idx
  ON CONFLICT DO NOTHING
  RETURNING notifications.message_id, notifications.kind || ':' || notifications.user_id || ':' || notifications.id AS n
)
`;

/** The result rows of the variants that write notifications (FULL_SQL, FILES_SQL): one per call. */
const fullResult = (extraColumns = '') => `
SELECT b.idx, s.seq, ex.existing_id, na.notes, b.idx = ANY (ARRAY(SELECT rf.idx FROM rf)) AS refused${extraColumns}
FROM b
LEFT JOIN s ON s.idx = b.idx
LEFT JOIN ex ON ex.idx = b.idx
LEFT JOIN (SELECT nt.message_id, array_agg(nt.n) AS notes FROM nt GROUP BY nt.message_id) na ON na.message_id = b.id`;

/** Full variant: everything. */
export const FULL_SQL = head(false) + MENTIONS_AND_PARENTS + READ_POSITIONS + NOTIFICATIONS + fullResult();

/** The result rows of the variants that write no notifications (PLAIN_SQL, FILES_PLAIN_SQL): one per call. */
const plainResult = (extraColumns = '') => `
SELECT b.idx, s.seq, ex.existing_id, NULL::text[] AS notes, b.idx = ANY (ARRAY(SELECT rf.idx FROM rf)) AS refused${extraColumns}
FROM b
LEFT JOIN s ON s.idx = b.idx
LEFT JOIN ex ON ex.idx = b.idx`;

/** Plain variant: no mention rows, parents or notifications to write. */
export const PLAIN_SQL = head(false) + READ_POSITIONS.trimEnd().replace(/,$/, '') + plainResult();

/**
 * One plain call alone (a batch of one: sends one at a time, and every retry of a rejected batch's
 * plain calls): the same writes as PLAIN_SQL for one row, without the batch machinery (recordset,
 * per-channel counts, window function, locks in id order). Its plan is a fraction of PLAIN_SQL's,
 * and a send that arrives alone pays for all of its plan's start-up (measured in
 * docs/PERFORMANCE.md). One channel row is locked, by the UPDATE: no lock order to keep.
 * $1 id, $2 channel, $3 author, $4 text, $5 clientMsgId, $6 createdAt, $7 @channel, $8 @here,
 * $9 checkAuthor (rf: refused when the channel is missing or archived or $3 is not a member).
 */
export const ONE_PLAIN_SQL = `
WITH rf AS (
  SELECT 1 WHERE $9::boolean
    AND (SELECT 1 FROM channels c JOIN channel_members m ON m.channel_id = c.id AND m.user_id = $3
         WHERE c.id = $2 AND c.archived_at IS NULL) IS NULL
),
ex AS (
  SELECT m.id FROM messages m
  WHERE $5::text IS NOT NULL AND m.channel_id = $2 AND m.author_id = $3 AND m.client_msg_id = $5
    AND NOT EXISTS (SELECT 1 FROM rf)
),
ch AS (
  UPDATE channels c SET last_seq = c.last_seq + 1
  WHERE c.id = $2 AND NOT EXISTS (SELECT 1 FROM ex) AND NOT EXISTS (SELECT 1 FROM rf)
  RETURNING c.last_seq
),
ins AS (
  INSERT INTO messages (id, channel_id, seq, author_id, text, created_at, mention_channel, mention_here, client_msg_id)
  SELECT $1::text, $2::text, ch.last_seq, $3::text, $4::text, $6::timestamptz, $7::boolean, $8::boolean, $5::text FROM ch
),
rd AS (
  UPDATE channel_members cm SET read_seq = ch.last_seq FROM ch
  WHERE cm.channel_id = $2 AND cm.user_id = $3 AND cm.read_seq < ch.last_seq
)
SELECT 0 AS idx, (SELECT ch.last_seq FROM ch) AS seq, (SELECT ex.id FROM ex LIMIT 1) AS existing_id, NULL::text[] AS notes,
       EXISTS (SELECT 1 FROM rf) AS refused`;

/** att, mf — the files of the calls written (s) get their message_id and message_files rows. */
const ATTACH = `att AS (
  UPDATE files f SET message_id = (SELECT s.id FROM fl JOIN s ON s.idx = fl.idx WHERE fl.id = f.id)
  WHERE f.id = ANY (ARRAY(SELECT fl.id FROM fl JOIN s ON s.idx = fl.idx))
),
mf AS (
  INSERT INTO message_files (message_id, file_id, channel_id, is_image, created_at)
  SELECT s.id, fl.id, s.channel_id, fl.is_image, s.created_at FROM fl JOIN s ON s.idx = fl.idx
)`;

/** Per call: some file named is not its author's own unattached upload; nothing of it was written. */
const NOT_ATTACHABLE_COLUMN = ',\n       (SELECT count(*) FROM fl WHERE fl.idx = b.idx) <> cardinality(b.file_ids) AS not_attachable';

/**
 * A batch with files (any of its calls has some): FULL_SQL's writes plus the attach
 * (files.message_id) and the message_files rows, in ONE autocommit statement. $1 the calls as
 * FULL_SQL's recordset (each call's `files`: the snapshot written with its message). A call is
 * written only when every file it names is in fl (its author's own, unattached, locked):
 * otherwise nothing of it is, and `not_attachable` says so; the other calls go on. It replaced
 * (2026-12-02) a transaction of six round trips per message, then a statement per message with
 * files (1.19 ms a call against 0.34 ms a message in FULL_SQL's batches, the messages scenario on
 * PostgreSQL). message_files has no foreign key to messages (files-migration.ts).
 */
export const FILES_SQL = `${head(true) + MENTIONS_AND_PARENTS + READ_POSITIONS + NOTIFICATIONS},\n${ATTACH}${fullResult(NOT_ATTACHABLE_COLUMN)}`;

/** FILES_SQL for a batch whose calls all have no mentions, parent or notifications (isPlain). */
export const FILES_PLAIN_SQL = head(true) + READ_POSITIONS + ATTACH + plainResult(NOT_ATTACHABLE_COLUMN);
