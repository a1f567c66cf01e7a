// Uploaded files (issue 11): the row the server keeps per completed upload, and its store.
// Tables: store/sqlite/files-migration.ts (0003_files). Attaching files to a message is part of
// MessageStore.create (same transaction as the message); hiding them is part of softDelete.
import { type FileObject, fileUrl, thumbnailUrl } from '../../protocol/files.js';

export type ThumbState = 'none' | 'pending' | 'ready' | 'failed';

export interface FileRecord {
  id: string;
  uploaderId: string;
  /** The channel named at upload (a hint for clients; access comes from message_files). */
  channelId: string | null;
  name: string;
  size: number;
  mime: string;
  sha256: string;
  /** Blob-store key of the bytes (server-generated, never a client-supplied name). */
  blobKey: string;
  isImage: boolean;
  width: number | null;
  height: number | null;
  thumbState: ThumbState;
  thumbKey: string | null;
  /** Upload complete → thumbnail ready (or failed), ms. */
  thumbMs: number | null;
  /** The message it is attached to (at most one, ever); null while unattached. */
  messageId: string | null;
  createdAt: string;
}

export type NewFile = Omit<FileRecord, 'thumbKey' | 'thumbMs' | 'messageId'>;

/** Where a file is visible: each non-deleted message it is attached to. */
export interface FileShare {
  messageId: string;
  channelId: string;
}

export interface FileStore {
  /**
   * Inserts the row unless it would take the uploader's total size past `quotaBytes` (0 = no
   * quota); the check and the insert are atomic per uploader (concurrent uploads of one user
   * cannot together exceed it). Returns false, writing nothing, when over quota.
   */
  create(file: NewFile, quotaBytes: number): Promise<boolean>;
  get(id: string): Promise<FileRecord | undefined>;
  /** Sum of the sizes of the user's files (what the quota counts). */
  usage(userId: string): Promise<number>;
  /** The non-deleted messages (and their channels) the file is attached to. */
  sharesOf(fileId: string): Promise<FileShare[]>;
  /** Records the thumbnail's outcome; returns the updated row (undefined when the file is gone). */
  setThumbnail(
    id: string,
    outcome: { state: 'ready' | 'failed'; thumbKey: string | null; thumbMs: number },
  ): Promise<FileRecord | undefined>;
  /** Files whose thumbnail is still 'pending' (a restart re-queues them), oldest first. */
  pendingThumbnails(limit: number): Promise<FileRecord[]>;
  /**
   * Deletes up to `limit` rows of files never attached to a message and created before `before`
   * (ISO time), oldest first, except any user's current avatar, and returns them (the caller then
   * removes their blobs). Each row is claimed and deleted by the one statement that returns it:
   * two nodes sweeping at once never both return a row, so a blob is removed once. A file being
   * attached at the same moment is either attached (and kept) or deleted (and the send answers
   * NOT_ATTACHABLE), never both.
   */
  sweepUnattached(before: string, limit: number): Promise<FileRecord[]>;
}

/**
 * The public object of a file (upload reply, message snapshot). `thumbnailUrl` for images whose
 * thumbnail is pending or ready (see protocol/files.ts for the readiness contract).
 */
export function toFileObject(f: FileRecord): FileObject {
  const o: FileObject = {
    id: f.id,
    name: f.name,
    size: f.size,
    mime: f.mime,
    sha256: f.sha256,
    uploaderId: f.uploaderId,
    createdAt: f.createdAt,
    url: fileUrl(f.id),
  };
  if (f.width !== null && f.height !== null) {
    o.width = f.width;
    o.height = f.height;
  }
  if (f.thumbState === 'pending' || f.thumbState === 'ready') o.thumbnailUrl = thumbnailUrl(f.id);
  return o;
}

/** The error for fileIds that are not the sender's own unattached uploads (one answer for every reason: no existence leak). */
export const NOT_ATTACHABLE = 'fileIds: each must be one of your own uploads, not yet attached to a message';
