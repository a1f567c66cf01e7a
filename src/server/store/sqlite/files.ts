// Files on SQLite (issue 11). The contract is FileStore (store/file-store.ts); attach() and
// detach() run inside the message send / delete transactions of messages.ts.
import { AppError } from '../../errors.js';
import type { FileObject } from '../../../protocol/files.js';
import { type FileRecord, type FileShare, type FileStore, type NewFile, NOT_ATTACHABLE, toFileObject } from '../file-store.js';
import { lazy, SqliteModule } from './db.js';

const FILE_COLS =
  'id, uploader_id, channel_id, name, size, mime, sha256, blob_key, is_image, width, height, thumb_state, thumb_key, thumb_ms, message_id, created_at';

interface FileRow {
  id: string;
  uploader_id: string;
  channel_id: string | null;
  name: string;
  size: number;
  mime: string;
  sha256: string;
  blob_key: string;
  is_image: number;
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
  size: r.size,
  mime: r.mime,
  sha256: r.sha256,
  blobKey: r.blob_key,
  isImage: r.is_image === 1,
  width: r.width,
  height: r.height,
  thumbState: r.thumb_state,
  thumbKey: r.thumb_key,
  thumbMs: r.thumb_ms,
  messageId: r.message_id,
  createdAt: r.created_at,
});

export class SqliteFiles extends SqliteModule implements FileStore {
  private readonly q = lazy(() => {
    const db = this.db;
    return {
      usage: db.prepare('SELECT COALESCE(sum(size), 0) FROM files WHERE uploader_id = ?').pluck(),
      insert: db.prepare(
        `INSERT INTO files (id, uploader_id, channel_id, name, size, mime, sha256, blob_key, is_image, width, height, thumb_state, created_at)
         VALUES (@id, @uploaderId, @channelId, @name, @size, @mime, @sha256, @blobKey, @isImage, @width, @height, @thumbState, @createdAt)`,
      ),
      get: db.prepare(`SELECT ${FILE_COLS} FROM files WHERE id = ?`),
      // Compare-and-set: only the author's own file, only if not attached yet.
      attach: db.prepare(`UPDATE files SET message_id = ? WHERE id = ? AND uploader_id = ? AND message_id IS NULL RETURNING ${FILE_COLS}`),
      insertShare: db.prepare('INSERT INTO message_files (message_id, file_id, channel_id, is_image, created_at) VALUES (?, ?, ?, ?, ?)'),
      deleteShares: db.prepare('DELETE FROM message_files WHERE message_id = ?'),
      shares: db.prepare('SELECT message_id AS messageId, channel_id AS channelId FROM message_files WHERE file_id = ?'),
      setThumb: db.prepare(`UPDATE files SET thumb_state = ?, thumb_key = ?, thumb_ms = ? WHERE id = ? RETURNING ${FILE_COLS}`),
      pending: db.prepare(`SELECT ${FILE_COLS} FROM files WHERE thumb_state = 'pending' ORDER BY created_at LIMIT ?`),
      // One statement (the single writer): no other write can come between the choice and the delete.
      sweep: db.prepare(
        `DELETE FROM files WHERE id IN (SELECT c.id FROM files c
           WHERE c.message_id IS NULL AND c.created_at < ?
             AND NOT EXISTS (SELECT 1 FROM users u WHERE u.avatar_file_id = c.id)
           ORDER BY c.created_at LIMIT ?)
         RETURNING ${FILE_COLS}`,
      ),
    };
  });

  /** Sum and insert in one write transaction: no other upload of the user slips in between. */
  private readonly createTx = this.db.transaction((f: NewFile, quotaBytes: number): boolean => {
    const q = this.q();
    if (quotaBytes > 0 && (q.usage.get(f.uploaderId) as number) + f.size > quotaBytes) return false;
    q.insert.run({ ...f, isImage: f.isImage ? 1 : 0 });
    return true;
  });

  async create(file: NewFile, quotaBytes: number): Promise<boolean> {
    return this.createTx.immediate(file, quotaBytes);
  }

  async get(id: string): Promise<FileRecord | undefined> {
    const r = this.q().get.get(id) as FileRow | undefined;
    return r && toRecord(r);
  }

  async usage(userId: string): Promise<number> {
    return this.q().usage.get(userId) as number;
  }

  async sharesOf(fileId: string): Promise<FileShare[]> {
    return this.q().shares.all(fileId) as FileShare[];
  }

  async setThumbnail(
    id: string,
    o: { state: 'ready' | 'failed'; thumbKey: string | null; thumbMs: number },
  ): Promise<FileRecord | undefined> {
    const r = this.q().setThumb.get(o.state, o.thumbKey, Math.round(o.thumbMs), id) as FileRow | undefined;
    return r && toRecord(r);
  }

  async pendingThumbnails(limit: number): Promise<FileRecord[]> {
    return (this.q().pending.all(limit) as FileRow[]).map(toRecord);
  }

  async sweepUnattached(before: string, limit: number): Promise<FileRecord[]> {
    return (this.q().sweep.all(before, limit) as FileRow[]).map(toRecord);
  }

  /**
   * Inside the send transaction: attaches each file to the message (the author's own, not yet
   * attached, in the given order) and writes its message_files row. Throws VALIDATION_FAILED —
   * rolling the whole send back — if any id does not qualify. Returns the snapshot objects.
   */
  attach(messageId: string, channelId: string, authorId: string, fileIds: readonly string[], at: string): FileObject[] {
    const q = this.q();
    const out: FileObject[] = [];
    for (const id of fileIds) {
      const r = q.attach.get(messageId, id, authorId) as FileRow | undefined;
      if (!r) throw new AppError('VALIDATION_FAILED', NOT_ATTACHABLE, { fileId: id });
      q.insertShare.run(messageId, id, channelId, r.is_image, at);
      out.push(toFileObject(toRecord(r)));
    }
    return out;
  }

  /** Inside the delete transaction: the message no longer shares its files. */
  detach(messageId: string): void {
    this.q().deleteShares.run(messageId);
  }
}
