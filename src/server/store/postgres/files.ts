// Files on PostgreSQL (issue 11). The contract is FileStore (store/file-store.ts). A message with
// files is sent by sendWithFiles: its batch's statement (message-sql.ts FILES_SQL) locks and
// attaches the files and writes the message, its message_files rows and its files snapshot.
// Messages without files never come here.
import type pg from 'pg';
import { AppError, SendRefused } from '../../errors.js';
import type { FileObject } from '../../../protocol/files.js';
import { type FileRecord, type FileShare, type FileStore, type NewFile, NOT_ATTACHABLE, toFileObject } from '../file-store.js';
import type { CreateMessageResult, Message, NewMessage } from '../types.js';
import type { PostgresChannels } from './channels.js';
import { type MessageWriter, NotAttachable } from './message-create.js';

// Per-uploader quota checks are serialised by pg_advisory_xact_lock(QUOTA_LOCK, hashtext(userId)),
// QUOTA_LOCK = 0x6e636803 (1852008451), taken inside public.nchat_file_create (files-migration.ts).

const FILE_COLS =
  'f.id, f.uploader_id, f.channel_id, f.name, f.size, f.mime, f.sha256, f.blob_key, f.is_image, f.width, f.height, ' +
  'f.thumb_state, f.thumb_key, f.thumb_ms, f.message_id, f.created_at';

interface FileRow {
  id: string;
  uploader_id: string;
  channel_id: string | null;
  name: string;
  size: number;
  mime: string;
  sha256: string;
  blob_key: string;
  is_image: boolean;
  width: number | null;
  height: number | null;
  thumb_state: FileRecord['thumbState'];
  thumb_key: string | null;
  thumb_ms: number | null;
  message_id: string | null;
  created_at: string;
}

const toRecord = (r: FileRow): FileRecord => ({
  id: r.id,
  uploaderId: r.uploader_id,
  channelId: r.channel_id,
  name: r.name,
  size: Number(r.size),
  mime: r.mime,
  sha256: r.sha256,
  blobKey: r.blob_key,
  isImage: r.is_image,
  width: r.width,
  height: r.height,
  thumbState: r.thumb_state,
  thumbKey: r.thumb_key,
  thumbMs: r.thumb_ms,
  messageId: r.message_id,
  createdAt: r.created_at,
});

type LoadOriginal = (channelId: string, authorId: string, clientMsgId: string) => Promise<Message | undefined>;

export class PostgresFiles implements FileStore {
  /** @param channels the authorization read (batched: channels.ts) that a refused checked send needs. */
  constructor(
    private readonly pool: pg.Pool,
    private readonly channels: Pick<PostgresChannels, 'getWithMember'>,
  ) {}

  /**
   * One round trip: public.nchat_file_create (migration 0012_files_sweep, files-migration.ts)
   * takes the uploader's advisory lock (QUOTA_LOCK), reads the sum after it is held and inserts,
   * all in one statement's transaction. Under upload load every round trip waits behind the
   * streaming bodies on the event loop, which is why this is not BEGIN / lock / sum / insert / COMMIT.
   */
  async create(f: NewFile, quotaBytes: number): Promise<boolean> {
    const r = await this.pool.query<{ ok: boolean }>(
      'SELECT public.nchat_file_create($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) AS ok',
      [
        f.id,
        f.uploaderId,
        f.channelId,
        f.name,
        f.size,
        f.mime,
        f.sha256,
        f.blobKey,
        f.isImage,
        f.width,
        f.height,
        f.thumbState,
        f.createdAt,
        Math.max(0, quotaBytes),
      ],
    );
    return r.rows[0].ok;
  }

  async get(id: string): Promise<FileRecord | undefined> {
    const r = await this.pool.query<FileRow>(`SELECT ${FILE_COLS} FROM files f WHERE f.id = $1`, [id]);
    return r.rows[0] && toRecord(r.rows[0]);
  }

  async usage(userId: string): Promise<number> {
    const r = await this.pool.query<{ s: string }>('SELECT COALESCE(sum(size), 0)::text AS s FROM files WHERE uploader_id = $1', [userId]);
    return Number(r.rows[0].s);
  }

  async sharesOf(fileId: string): Promise<FileShare[]> {
    const r = await this.pool.query<FileShare>(
      'SELECT message_id AS "messageId", channel_id AS "channelId" FROM message_files WHERE file_id = $1',
      [fileId],
    );
    return r.rows;
  }

  async setThumbnail(
    id: string,
    o: { state: 'ready' | 'failed'; thumbKey: string | null; thumbMs: number },
  ): Promise<FileRecord | undefined> {
    const r = await this.pool.query<FileRow>(
      `UPDATE files f SET thumb_state = $2, thumb_key = $3, thumb_ms = $4 WHERE f.id = $1 RETURNING ${FILE_COLS}`,
      [id, o.state, o.thumbKey, Math.round(o.thumbMs)],
    );
    return r.rows[0] && toRecord(r.rows[0]);
  }

  async pendingThumbnails(limit: number): Promise<FileRecord[]> {
    const r = await this.pool.query<FileRow>(
      `SELECT ${FILE_COLS} FROM files f WHERE f.thumb_state = 'pending' ORDER BY f.created_at LIMIT $1`,
      [limit],
    );
    return r.rows.map(toRecord);
  }

  /**
   * Claim and delete in one statement: the materialized CTE picks and locks at most `limit` rows
   * once (SKIP LOCKED: rows a send or another node's sweep holds are left for later; `id IN
   * (subquery LIMIT n)` may be re-run by the planner and delete more than n), and the DELETE
   * re-checks the conditions on the row it deletes, so a file attached meanwhile is kept. Another node's sweep skips or, having
   * waited, finds the row gone: each row is returned by exactly one sweep.
   */
  async sweepUnattached(before: string, limit: number): Promise<FileRecord[]> {
    const r = await this.pool.query<FileRow>(
      `WITH c AS MATERIALIZED (
         SELECT c.id FROM files c
          WHERE c.message_id IS NULL AND c.created_at < $1
            AND NOT EXISTS (SELECT 1 FROM users u WHERE u.avatar_file_id = c.id)
          ORDER BY c.created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       DELETE FROM files f USING c
        WHERE f.id = c.id AND f.message_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM users u WHERE u.avatar_file_id = f.id)
       RETURNING ${FILE_COLS}`,
      [before, limit],
    );
    return r.rows.map(toRecord);
  }

  /** The channel exists, is not archived, and the user is a member (NewMessage.checkAuthor's rule). */
  private async mayWrite(channelId: string, userId: string): Promise<boolean> {
    const cm = await this.channels.getWithMember(channelId, userId);
    return cm !== undefined && cm.member !== undefined && cm.channel.archivedAt === null;
  }

  /**
   * The send of a message with files: a read of the files' rows (no lock), then the group-commit
   * batch it joins on the send pool (MessageWriter.createWithFiles, FILES_SQL), one autocommit
   * statement that locks them in id order, re-checks under the lock that each is the author's own
   * and unattached, attaches them and writes the message with its message_files rows and files
   * snapshot. The snapshot is built here from the read: every field of it is fixed at upload
   * except whether a thumbnail is pending, and one that fails between the read and the send is a
   * thumbnail that fails after the send, as before (the snapshot is never rewritten). Until 2026-12-02 this was a
   * transaction of six round trips. Any file that is not the author's own unattached upload:
   * VALIDATION_FAILED and nothing written. A repeated clientMsgId: the original, created=false.
   * With `checkAuthor` the author is checked first, in FILES_SQL (rf) or, when the read already
   * refuses a file, by mayWrite: SendRefused, nothing written.
   */
  async sendWithFiles(input: NewMessage, writer: MessageWriter, loadOriginal: LoadOriginal): Promise<CreateMessageResult> {
    const refuse = async (): Promise<CreateMessageResult> => {
      // A repeated clientMsgId (its files attached to the original) answers with the original;
      // anything else about the files is the caller's 400.
      if (input.clientMsgId != null) {
        const m = await loadOriginal(input.channelId, input.authorId, input.clientMsgId);
        if (m) return { message: m, created: false, notifications: [] };
      }
      throw new AppError('VALIDATION_FAILED', NOT_ATTACHABLE);
    };
    const ids = input.fileIds;
    const r = await this.pool.query<FileRow>({
      name: 'nchat_files_for_send',
      text: `SELECT ${FILE_COLS} FROM files f WHERE f.id = ANY ($1::text[])`,
      values: [ids],
    });
    const byId = new Map(r.rows.map((row) => [row.id, row]));
    const attachable = (id: string) => {
      const row = byId.get(id);
      return row !== undefined && row.uploader_id === input.authorId && row.message_id === null;
    };
    if (new Set(ids).size !== ids.length || !ids.every(attachable)) {
      // With checkAuthor the author comes first (store.ts NewMessage.checkAuthor; SQLite's
      // createOne checks it before attaching): refused unless the channel is there, not
      // archived, and the author a member.
      if (input.checkAuthor && !(await this.mayWrite(input.channelId, input.authorId))) throw new SendRefused(input.channelId);
      return refuse();
    }
    const files: FileObject[] = ids.map((id) => toFileObject(toRecord(byId.get(id)!)));
    try {
      return await writer.createWithFiles(input, files);
    } catch (err) {
      if (err instanceof NotAttachable) return refuse();
      throw err;
    }
  }
}
