// The default blob store: files under <dataDir>/files on the local disk (or a volume shared by
// every node: docs/OPERATIONS.md). Layout: <root>/<prefix>/<2 hex>/<32 hex> (server-generated
// names only), and <root>/tmp/<random>.part while a put is in flight. Files and dirs are
// owner-only (0600 / 0700). A put streams into its temp file, hashing and counting on the way,
// (with `fsync`) flushes it, then renames into place: a blob is never visible half-written, and
// any failure (source error, client gone, over the limit) unlinks the temp file.
// Durability: without fsync a stored blob survives a crash of the process (the kernel has it) but
// not of the machine — the guarantee of SQLite's default NCHAT_SQLITE_SYNC=normal. fsync on every
// upload costs a lot here (20 concurrent 10 MB uploads: 52 vs 128 MB/s, docs/OPERATIONS.md).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isVolumeUnavailable, storeUnavailableError } from '../store/unavailable.js';
import {
  BLOB_KEY_RE,
  BlobNotFoundError,
  type BlobStore,
  BlobTooLargeError,
  type ByteRange,
  type PutOptions,
  type StoredBlob,
} from './blob-store.js';

const DEFAULT_HEAD = 4100;

/** Counts, hashes and keeps the head of what passes; errors past maxBytes. */
class Meter extends Transform {
  size = 0;
  readonly hash = createHash('sha256');
  private readonly headChunks: Buffer[] = [];
  private headLen = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly headBytes: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) return done(new BlobTooLargeError(this.maxBytes));
    this.hash.update(chunk);
    if (this.headLen < this.headBytes) {
      const part = chunk.subarray(0, this.headBytes - this.headLen);
      // A copy: the source may reuse its buffer.
      this.headChunks.push(Buffer.from(part));
      this.headLen += part.length;
    }
    done(null, chunk);
  }

  head(): Buffer {
    return Buffer.concat(this.headChunks, this.headLen);
  }
}

export class LocalBlobStore implements BlobStore {
  readonly kind = 'local';
  private readonly tmpDir: string;
  private readonly inflight = new Set<string>();

  private constructor(
    readonly root: string,
    private readonly fsync: boolean,
  ) {
    this.tmpDir = join(root, 'tmp');
  }

  /**
   * Creates the root and tmp dirs (0700) and removes temp files a crashed process left behind:
   * those not written to for `staleMs` (default 1 h, the longest NCHAT_REQUEST_TIMEOUT_MS), so a
   * node starting on a volume shared with running nodes never removes their uploads in flight.
   * `fsync` (NCHAT_UPLOAD_FSYNC): each blob is flushed to disk before it becomes visible.
   */
  static async open(root: string, opts: { staleMs?: number; fsync?: boolean } = {}): Promise<LocalBlobStore> {
    const s = new LocalBlobStore(root, opts.fsync ?? false);
    await mkdir(s.tmpDir, { recursive: true, mode: 0o700 });
    const cutoff = Date.now() - (opts.staleMs ?? 3_600_000);
    for (const name of await readdir(s.tmpDir)) {
      const path = join(s.tmpDir, name);
      const st = await stat(path).catch(() => undefined);
      if (st && st.mtimeMs <= cutoff) await rm(path, { force: true });
    }
    return s;
  }

  private pathOf(key: string): string {
    // Keys come from the database, but a key that is not ours must never become a path.
    if (!BLOB_KEY_RE.test(key)) throw new BlobNotFoundError(key);
    return join(this.root, key);
  }

  async put(source: Readable, opts: PutOptions): Promise<StoredBlob> {
    const prefix = opts.prefix ?? 'b';
    if (!/^[a-z]{1,8}$/.test(prefix)) throw new Error(`bad blob prefix ${JSON.stringify(prefix)}`);
    const id = randomBytes(16).toString('hex');
    const key = `${prefix}/${id.slice(0, 2)}/${id}`;
    const tmp = join(this.tmpDir, `${randomBytes(12).toString('hex')}.part`);
    const meter = new Meter(opts.maxBytes, opts.headBytes ?? DEFAULT_HEAD);
    this.inflight.add(tmp);
    try {
      const fh = await open(tmp, 'wx', 0o600);
      // With fsync: flushed before the stream closes, so the rename publishes durable bytes.
      await pipeline(source, meter, createWriteStream('', { fd: fh, flush: this.fsync, highWaterMark: 256 * 1024 }));
      const dest = join(this.root, key);
      await mkdir(join(this.root, prefix, id.slice(0, 2)), { recursive: true, mode: 0o700 });
      await rename(tmp, dest);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      // The source may still be flowing (a limit hit mid-stream): stop it.
      if (!source.destroyed) source.resume();
      // A full or failing volume is the server's condition, not a malformed upload: 503 UNAVAILABLE.
      if (isVolumeUnavailable(err)) throw storeUnavailableError(err);
      throw err;
    } finally {
      this.inflight.delete(tmp);
    }
    return { key, size: meter.size, sha256: meter.hash.digest('hex'), head: meter.head() };
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const path = this.pathOf(key);
    // Opened before returning, so a missing blob is a rejection here, not a stream error later.
    const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? new BlobNotFoundError(key) : err;
    });
    return createReadStream('', { fd: fh, start: range?.start, end: range?.end, highWaterMark: 256 * 1024 });
  }

  localPath(key: string): string | undefined {
    return BLOB_KEY_RE.test(key) ? join(this.root, key) : undefined;
  }

  async stat(key: string): Promise<{ size: number } | undefined> {
    try {
      return { size: (await stat(this.pathOf(key))).size };
    } catch (err) {
      if (err instanceof BlobNotFoundError || (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    if (!BLOB_KEY_RE.test(key)) return;
    await rm(join(this.root, key), { force: true });
  }

  /** Temp files of puts still in flight are removed (their pipelines fail and unlink too). */
  async close(): Promise<void> {
    await Promise.all([...this.inflight].map((t) => rm(t, { force: true })));
  }

  /** Names in the temp dir (tests: nothing may be left behind). */
  async tempFiles(): Promise<string[]> {
    return readdir(this.tmpDir);
  }
}
