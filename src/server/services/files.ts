// Files (issue 11): upload in three steps so that nothing is kept unless the whole request is
// good — prepare (before any byte of the body: rate limit, quota), receive (stream the part into
// the blob store, hashing and sniffing on the way), commit (the row, quota re-checked atomically,
// thumbnail queued) — and discard for every failure after receive. Downloads: authorize, then
// the caller streams the blob.
//
// Who may read a file: its uploader, and whoever may read a message it is attached to (a member
// of that channel, or anyone who may read a public channel's history: channels.visible). A
// deleted message no longer shares its files. A file that is some user's current avatar
// (users.avatar_file_id; only the uploader's own raster image can be set, services/users.ts) is
// readable, bytes and thumbnail, by every signed-in user: the auth layer refuses deactivated
// accounts before any route runs. Once replaced or cleared it is back to the rules above.
// Everything else is 404, the same as an unknown id.
//
// Attaching (messages.send): fileIds must be the sender's own uploads, each attached to at most
// one message ever (the store checks and attaches in the send transaction), ≤ 10 per message.
import type { Readable } from 'node:stream';
import type { FileObject } from '../../protocol/files.js';
import { AppError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import { type BlobStore, BlobTooLargeError, type StoredBlob } from '../files/blob-store.js';
import { sanitizeFilename } from '../files/filename.js';
import { type Sniffed, sniff, typeAllowed } from '../files/sniff.js';
import { imageInfo, type Thumbnailer } from '../files/thumbnails.js';
import type { TusStore } from '../files/tus-store.js';
import { FixedWindowLimiter, type RateLimiter, unlimited } from '../lib/rate-limit.js';
import { type FileRecord, type NewFile, toFileObject } from '../store/file-store.js';
import type { ChannelService } from './channels.js';
import type { Actor, ServiceDeps } from './context.js';

/** Where bytes go; absent in processes without file storage (bench/store.ts): file routes answer 503. */
export interface FileStorage {
  blobs: BlobStore;
  thumbnailer: Thumbnailer;
  /** Partial resumable (tus) uploads; absent: the tus routes answer 503. */
  tus?: TusStore;
}

export interface UploadBudget {
  /** Bytes this upload may carry: the size limit, or what is left of the quota if less. */
  maxBytes: number;
  /** maxBytes is the quota's remainder (an overrun is QUOTA_EXCEEDED, not PAYLOAD_TOO_LARGE). */
  byQuota: boolean;
}

export interface IncomingFile {
  stream: Readable;
  filename: string | undefined;
  /** What the client claimed; ignored (the type comes from the bytes). */
  declaredType?: string;
  /** The multipart parser cut the part at its own size limit (a cut file must never be kept). */
  truncated(): boolean;
}

export interface ReceivedFile {
  blob: StoredBlob;
  name: string;
  sniffed: Sniffed;
  /** performance.now() when the last byte was stored (processing time counts from here). */
  completedAt: number;
}

const UPLOAD_WINDOW_MS = 60_000;
/** Rows claimed per sweep statement (each batch's blobs are removed before the next). */
const SWEEP_BATCH = 200;

/** A membership check started before commit (FileService.checkChannel). */
export interface ChannelCheck {
  done: Promise<void>;
}

export class FileService {
  /** Per-user uploads per minute, in memory per node (off under the load-test allowance). */
  uploadLimiter: RateLimiter;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly channels: ChannelService,
    private readonly storage: FileStorage | undefined,
  ) {
    const c = deps.config;
    this.uploadLimiter = c.loadtestAllowance ? unlimited : new FixedWindowLimiter(c.uploadLimit, UPLOAD_WINDOW_MS, 'too many uploads');
  }

  private get blobs(): BlobStore {
    return this.requireStorage().blobs;
  }

  private requireStorage(): FileStorage {
    if (!this.storage) throw new AppError('UNAVAILABLE', 'file storage is not configured in this process');
    return this.storage;
  }

  /**
   * Step 1, before reading the body. Throws RATE_LIMITED, QUOTA_EXCEEDED (nothing left).
   * `reservedBytes`: what the user's unfinished resumable uploads will still add.
   */
  async prepare(actor: Actor, reservedBytes = 0): Promise<UploadBudget> {
    this.requireStorage();
    const limited = this.uploadLimiter.hit(actor.userId);
    if (limited) await limited;
    const { uploadMaxBytes, uploadQuotaBytes } = this.deps.config;
    if (uploadQuotaBytes <= 0) return { maxBytes: uploadMaxBytes, byQuota: false };
    const left = uploadQuotaBytes - reservedBytes - (await this.deps.store.files.usage(actor.userId));
    if (left <= 0) throw quotaExceeded(uploadQuotaBytes);
    return left < uploadMaxBytes ? { maxBytes: left, byQuota: true } : { maxBytes: uploadMaxBytes, byQuota: false };
  }

  /** Step 2: the part into the blob store. On any failure nothing is kept. */
  async receive(budget: UploadBudget, incoming: IncomingFile): Promise<ReceivedFile> {
    let blob: StoredBlob;
    try {
      blob = await this.blobs.put(incoming.stream, { maxBytes: budget.maxBytes, prefix: 'f' });
    } catch (err) {
      if (err instanceof BlobTooLargeError)
        throw budget.byQuota ? quotaExceeded(this.deps.config.uploadQuotaBytes) : tooLarge(budget.maxBytes);
      if (err instanceof AppError) throw err;
      // The client went away or the multipart body broke off: nothing was stored.
      throw new AppError('BAD_REQUEST', 'the upload did not complete (the request body ended early or was malformed)');
    }
    const completedAt = performance.now();
    const received: ReceivedFile = { blob, name: sanitizeFilename(incoming.filename), sniffed: await sniff(blob.head), completedAt };
    if (incoming.truncated()) {
      await this.discard(received);
      throw tooLarge(budget.maxBytes);
    }
    if (!typeAllowed(received.sniffed.mime, this.deps.config.uploadAllowedTypes)) {
      await this.discard(received);
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', `files of type ${received.sniffed.mime} are not accepted here`);
    }
    return received;
  }

  /**
   * Step 3, once the whole request is read: the row (the quota re-checked atomically with the
   * insert), the thumbnail queued. `channelId`, when given, must be a channel the uploader is a
   * member of; it is recorded as a hint, access comes from messages. Discards on failure.
   */
  async commit(actor: Actor, r: ReceivedFile, channelId?: string, channelCheck?: ChannelCheck): Promise<FileObject> {
    try {
      const { blobs, thumbnailer } = this.requireStorage();
      // Membership (a database round trip) and the image header (a disk read) at once: under
      // upload load each round trip waits behind the streaming bodies (docs/PERFORMANCE.md).
      const [, info] = await Promise.all([
        channelId === undefined ? undefined : (channelCheck?.done ?? this.checkChannel(actor, channelId).done),
        r.sniffed.isImage ? imageInfo(blobs, r.blob.key, r.blob.size, this.deps.config.imageMaxPixels) : undefined,
      ]);
      const file: NewFile = {
        id: newId(),
        uploaderId: actor.userId,
        channelId: channelId ?? null,
        name: r.name,
        size: r.blob.size,
        mime: r.sniffed.mime,
        sha256: r.blob.sha256,
        blobKey: r.blob.key,
        isImage: r.sniffed.isImage,
        width: info?.width ?? null,
        height: info?.height ?? null,
        thumbState: info?.thumbnail ? 'pending' : 'none',
        createdAt: this.deps.now().toISOString(),
      };
      if (!(await this.deps.store.files.create(file, this.deps.config.uploadQuotaBytes)))
        throw quotaExceeded(this.deps.config.uploadQuotaBytes);
      const record: FileRecord = { ...file, thumbKey: null, thumbMs: null, messageId: null };
      if (record.thumbState === 'pending') thumbnailer.enqueue(record, r.completedAt);
      return toFileObject(record);
    } catch (err) {
      await this.discard(r);
      throw err;
    }
  }

  /**
   * Starts the membership check of the upload's `channelId` while the body is still arriving;
   * commit() awaits its outcome (the same errors as checking then). Never an unhandled rejection.
   */
  checkChannel(actor: Actor, channelId: string): ChannelCheck {
    const done = this.channels.requireMembership(actor, channelId).then(() => undefined);
    done.catch(() => {});
    return { done };
  }

  /**
   * Deletes files never attached to a message once older than NCHAT_UPLOAD_UNATTACHED_TTL_MS
   * (avatars excepted: FileStore.sweepUnattached), rows first, then their blobs and thumbnails,
   * in batches until none is left. Safe on every node at once: each row is claimed by one
   * statement, so each blob is removed by one node. A crash between the row and the blob leaves
   * the blob without a row (space, never a dangling row). Returns how many files were deleted.
   */
  async sweepUnattached(now = this.deps.now()): Promise<number> {
    const ttl = this.deps.config.uploadUnattachedTtlMs;
    if (ttl <= 0 || !this.storage) return 0;
    const before = new Date(now.getTime() - ttl).toISOString();
    let n = 0;
    for (;;) {
      const gone = await this.deps.store.files.sweepUnattached(before, SWEEP_BATCH);
      for (const f of gone)
        for (const key of [f.blobKey, f.thumbKey])
          if (key)
            await this.blobs
              .delete(key)
              .catch((err: unknown) => this.deps.logger.warn({ err, key, fileId: f.id }, 'removing a swept file’s blob failed'));
      n += gone.length;
      if (gone.length < SWEEP_BATCH) break;
    }
    if (n) this.deps.logger.info({ files: n, before }, 'unattached uploads swept');
    return n;
  }

  /**
   * Runs sweepUnattached now and then every TTL/10 (1 s to 15 min) until the returned function
   * is called; that function resolves once a sweep in progress has finished. Off when the TTL is 0.
   */
  startSweeper(): () => Promise<void> {
    const ttl = this.deps.config.uploadUnattachedTtlMs;
    if (ttl <= 0 || !this.storage) return async () => {};
    const every = Math.min(15 * 60_000, Math.max(1000, Math.floor(ttl / 10)));
    let running: Promise<unknown> | undefined;
    let stopped = false;
    // One sweep at a time per process: a tick while one runs is skipped.
    const tick = () => {
      if (stopped || running) return;
      running = this.sweepUnattached()
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'unattached-upload sweep failed'))
        .finally(() => {
          running = undefined;
        });
    };
    const timer = setInterval(tick, every);
    timer.unref();
    tick();
    return async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    };
  }

  /** Removes a received blob that will not be kept. Never throws (a leftover blob is logged). */
  async discard(r: ReceivedFile): Promise<void> {
    await this.blobs
      .delete(r.blob.key)
      .catch((err: unknown) => this.deps.logger.warn({ err, key: r.blob.key }, 'discarding an upload failed'));
  }

  /** The file if the actor may read it (see the header), else NOT_FOUND. */
  async readable(actor: Actor, id: string): Promise<FileRecord> {
    this.requireStorage();
    const f = await this.deps.store.files.get(id);
    if (!f) throw notFound('file');
    if (f.uploaderId === actor.userId) return f;
    for (const share of await this.deps.store.files.sharesOf(id)) {
      try {
        await this.channels.visible(actor, share.channelId);
        return f;
      } catch (err) {
        if (!(err instanceof AppError && err.code === 'NOT_FOUND')) throw err;
      }
    }
    // Last, so message attachments (the common read) never pay for it: one index probe.
    if (await this.deps.store.users.isAvatar(id)) return f;
    throw notFound('file');
  }

  /** The public object of a file the actor may read. */
  async info(actor: Actor, id: string): Promise<FileObject> {
    return toFileObject(await this.readable(actor, id));
  }

  /** The partial-upload store of the resumable protocol. */
  tusStore(): TusStore {
    const tus = this.requireStorage().tus;
    if (!tus) throw new AppError('UNAVAILABLE', 'resumable uploads are not configured in this process');
    return tus;
  }

  /** The blob store (downloads stream from it). */
  blobStore(): BlobStore {
    return this.blobs;
  }
}

const tooLarge = (max: number) => new AppError('PAYLOAD_TOO_LARGE', `the file is larger than ${max} bytes`, { maxBytes: max });
const quotaExceeded = (quota: number) =>
  new AppError('QUOTA_EXCEEDED', `this upload would exceed your storage quota of ${quota} bytes`, { quotaBytes: quota });
