// Partial uploads of the resumable protocol (tus 1.0.0, http/files-tus.ts), on the local disk
// next to the blobs: <root>/tus/<id>.json (who, how long, the name; written once) and
// <id>.part (the bytes so far: its size IS the offset, so a PATCH cut off by a dropped
// connection keeps what arrived — the point of resuming). Lives on the files volume, so any node
// sharing it can continue an upload another node started. A finished upload is streamed into the
// blob store like any upload (type, hash, quota, thumbnail), then removed from here. Sessions not
// finished within `maxAgeMs` are swept.
//
// One PATCH at a time per upload: an exclusive lock file (<id>.lock, O_EXCL, so across nodes
// too); a lock older than the upload deadline is taken to be left by a dead process.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isVolumeUnavailable, storeUnavailableError } from '../store/unavailable.js';

export interface TusUpload {
  id: string;
  userId: string;
  /** Upload-Length: the whole file's size, fixed at creation. */
  length: number;
  /** From Upload-Metadata `filename` (sanitized only when the file is stored). */
  filename: string | undefined;
  channelId: string | undefined;
  createdAt: string;
}

const ID_RE = /^[0-9a-z]{22}$/;

/** Passes at most `max` bytes; past that the stream fails (a PATCH longer than the upload). */
class Cap extends Transform {
  n = 0;
  constructor(private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.n += chunk.length;
    if (this.n > this.max) return done(new TusTooLongError());
    done(null, chunk);
  }
}

export class TusTooLongError extends Error {
  constructor() {
    super('more bytes than Upload-Length');
  }
}
export class TusBusyError extends Error {}

export class TusStore {
  private constructor(
    private readonly dir: string,
    private readonly lockStaleMs: number,
  ) {}

  static async open(filesRoot: string, lockStaleMs: number): Promise<TusStore> {
    const dir = join(filesRoot, 'tus');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return new TusStore(dir, lockStaleMs);
  }

  private path(id: string, ext: 'json' | 'part' | 'lock'): string {
    if (!ID_RE.test(id)) throw new Error('bad upload id');
    return join(this.dir, `${id}.${ext}`);
  }

  /** On a full or failing volume: UNAVAILABLE, and nothing of the upload is left. */
  async create(u: TusUpload): Promise<void> {
    try {
      await writeFile(this.path(u.id, 'part'), '', { mode: 0o600, flag: 'wx' });
      await writeFile(this.path(u.id, 'json'), JSON.stringify(u), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      await this.remove(u.id);
      if (isVolumeUnavailable(err)) throw storeUnavailableError(err);
      throw err;
    }
  }

  /** The upload and its offset, or undefined (unknown, malformed id, or being removed). */
  async get(id: string): Promise<{ upload: TusUpload; offset: number } | undefined> {
    if (!ID_RE.test(id)) return undefined;
    try {
      const upload = JSON.parse(await readFile(this.path(id, 'json'), 'utf8')) as TusUpload;
      return { upload, offset: (await stat(this.path(id, 'part'))).size };
    } catch {
      return undefined;
    }
  }

  /** The user's unfinished uploads (what they reserve against the quota). */
  async ofUser(userId: string): Promise<TusUpload[]> {
    const out: TusUpload[] = [];
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const u = await this.get(name.slice(0, -5));
      if (u?.upload.userId === userId) out.push(u.upload);
    }
    return out;
  }

  /**
   * Appends the body to the part under the upload's lock. Whatever arrives is kept, also when
   * the source fails half-way (the client resumes from the new offset). Rejects with
   * TusBusyError while another PATCH holds the lock, TusTooLongError past Upload-Length.
   * Returns the offset afterwards.
   */
  async append(id: string, source: Readable, remaining: number): Promise<number> {
    const lock = this.path(id, 'lock');
    const part = this.path(id, 'part');
    await this.takeLock(lock);
    try {
      const cap = new Cap(remaining);
      const fh = await open(part, 'a', 0o600);
      const start = (await fh.stat()).size;
      try {
        await pipeline(source, cap, createWriteStream('', { fd: fh, highWaterMark: 256 * 1024 }));
      } catch (err) {
        if (err instanceof TusTooLongError) throw err;
        // A full or failing volume is the server's condition: 503 UNAVAILABLE (a 204 with a short
        // offset would have the client resume into the same wall). Nothing of this PATCH is kept
        // (the last write may have stored part of a chunk; the space goes back too): the offset is
        // what it was, and the client resumes from it once space returns.
        if (isVolumeUnavailable(err)) {
          await truncate(part, start).catch(() => {});
          throw storeUnavailableError(err);
        }
        // A dropped connection: the bytes written so far stay; the offset says where to resume.
      }
      return (await stat(part)).size;
    } finally {
      await rm(lock, { force: true });
    }
  }

  /**
   * Cuts the part back to `offset` (a PATCH whose last bytes completed the upload but could not
   * be stored: the client resends them once the server can store the file). Caller holds no lock:
   * used right after append() returned, by the request that appended.
   */
  async truncateTo(id: string, offset: number): Promise<void> {
    await truncate(this.path(id, 'part'), offset);
  }

  /**
   * The lock is the file's existence (created O_EXCL; its mtime dates it). Its content, the pid,
   * is for people only: on a full volume the create succeeds and the write of the pid does not
   * (that left an empty lock behind and answered 409 busy, also after space returned).
   */
  private async takeLock(lock: string): Promise<void> {
    const create = async () => {
      const fh = await open(lock, 'wx', 0o600);
      await fh.writeFile(String(process.pid)).catch(() => {});
      await fh.close();
    };
    try {
      await create();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        if (isVolumeUnavailable(err)) throw storeUnavailableError(err);
        throw err;
      }
    }
    const st = await stat(lock).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs < this.lockStaleMs) throw new TusBusyError('another PATCH of this upload is in progress');
    // Left by a dead process: replaced, O_EXCL again, so of two takers one gets it and one is busy.
    await rm(lock, { force: true });
    try {
      await create();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new TusBusyError('another PATCH of this upload is in progress');
      if (isVolumeUnavailable(err)) throw storeUnavailableError(err);
      throw err;
    }
  }

  /** The finished bytes, for storing as a file. */
  read(id: string): Readable {
    return createReadStream(this.path(id, 'part'));
  }

  async remove(id: string): Promise<void> {
    if (!ID_RE.test(id)) return;
    for (const ext of ['json', 'part', 'lock'] as const) await rm(this.path(id, ext), { force: true });
  }

  /** Removes uploads created more than maxAgeMs ago; returns how many. */
  async sweep(maxAgeMs: number, now = Date.now()): Promise<number> {
    let n = 0;
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const id = name.slice(0, -5);
      const u = await this.get(id);
      if (!u || now - Date.parse(u.upload.createdAt) > maxAgeMs) {
        await this.remove(id);
        n++;
      }
    }
    return n;
  }
}
