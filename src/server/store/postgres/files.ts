// Files on PostgreSQL (issue 11). The contract is FileStore (store/file-store.ts). A message with
// files is sent by sendWithFiles: one transaction that locks and attaches the files, writes the
// message with the ordinary send statement (MessageWriter.createOn), its message_files rows and
// its files snapshot. Messages without files never come here (the group-commit path is unchanged).
import type pg from 'pg';
import { AppError } from '../../errors.js';
import type { FileObject } from '../../../protocol/files.js';
import { type FileRecord, type FileShare, type FileStore, type NewFile, NOT_ATTACHABLE, toFileObject } from '../file-store.js';
import type { CreateMessageResult, Message, NewMessage } from '../types.js';
import { tx } from './db.js';
import type { MessageWriter } from './message-create.js';

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
  constructor(private readonly pool: pg.Pool) {}

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

  /**
   * The send of a message with files, in one transaction on the main pool. The file rows are
   * locked in id order first (two sends naming the same files cannot deadlock), then the
   * compare-and-set attach, then the message_files rows, then the send statement with the files
   * snapshot (it locks the channel row), then COMMIT. The send statement comes last so that the
   * channel row's lock, which every other send to the channel waits for, is held for the COMMIT
   * alone, not for more round trips from a busy event loop: with the rows written after it,
   * 2026-12-01 22:35 (2 nodes on PostgreSQL, the quick messages scenario), an average of 4.5
   * send batches sat waiting on that lock while file sends were "idle in transaction".
   * message_files has no foreign key to messages (files-migration.ts), and the transaction
   * makes the rows and the message appear together. Any file that is not the author's own
   * unattached upload: VALIDATION_FAILED and nothing written. A repeated clientMsgId: the
   * original, created=false.
   */
  async sendWithFiles(input: NewMessage, writer: MessageWriter, loadOriginal: LoadOriginal): Promise<CreateMessageResult> {
    const original = async (): Promise<CreateMessageResult | undefined> => {
      if (input.clientMsgId == null) return undefined;
      const m = await loadOriginal(input.channelId, input.authorId, input.clientMsgId);
      return m && { message: m, created: false, notifications: [] };
    };
    const outcome = await tx(this.pool, async (c) => {
      const ids = [...new Set(input.fileIds)];
      await c.query('SELECT f.id FROM files f WHERE f.id = ANY($1::text[]) ORDER BY f.id FOR UPDATE', [ids]);
      const attached = await c.query<FileRow>(
        `UPDATE files f SET message_id = $1 WHERE f.id = ANY($2::text[]) AND f.uploader_id = $3 AND f.message_id IS NULL
         RETURNING ${FILE_COLS}`,
        [input.id, ids, input.authorId],
      );
      if (attached.rowCount !== input.fileIds.length) throw new NotAttachable();
      const byId = new Map(attached.rows.map((r) => [r.id, r]));
      const files: FileObject[] = input.fileIds.map((id) => toFileObject(toRecord(byId.get(id)!)));
      await c.query(
        `INSERT INTO message_files (message_id, file_id, channel_id, is_image, created_at)
         SELECT $1, x.id, $2, x.img, $3 FROM unnest($4::text[], $5::boolean[]) AS x(id, img)`,
        [input.id, input.channelId, input.createdAt, input.fileIds, input.fileIds.map((id) => byId.get(id)!.is_image)],
      );
      const sent = await writer.createOn(c, input, files);
      if ('existingId' in sent) throw new Repeated();
      sent.result.message.files = files;
      return sent.result;
    }).catch(async (err: unknown) => {
      // Rolled back. A repeated clientMsgId (or losing the attach race to our own retry) answers
      // with the original; anything else about the files is the caller's 400.
      if (err instanceof Repeated || err instanceof NotAttachable) {
        const o = await original();
        if (o) return o;
        if (err instanceof NotAttachable) throw new AppError('VALIDATION_FAILED', NOT_ATTACHABLE);
      }
      throw err;
    });
    return outcome;
  }
}

class NotAttachable extends Error {}
class Repeated extends Error {}
