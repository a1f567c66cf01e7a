// Image dimensions (at upload) and thumbnails (after it, off the request path) with sharp.
//
// Defences: libvips never decodes more than NCHAT_IMAGE_MAX_PIXELS pixels (limitInputPixels;
// a 700 KB PNG can declare 256 MP) — an image over the limit keeps its dimensions but gets no
// thumbnail; the header is read from the first MiB only; failOn 'error' rejects broken files
// (thumbnail 'failed', the file itself stays downloadable). Output: WebP, at most 400×400,
// orientation applied (.rotate() reads EXIF), metadata stripped (sharp writes none unless asked).
//
// The queue runs at most `concurrency` jobs at once; each job's time from upload complete to
// thumbnail ready is stored (files.thumb_ms), observed in nchat_file_processing_seconds, and told
// to clients by `file.ready` through the broker (the uploader's topic, and the channel of each
// message the file is attached to by then).
import type { Logger } from 'pino';
import client from 'prom-client';
import sharp from 'sharp';
import { thumbnailUrl } from '../../protocol/files.js';
import { type Broker, channelTopic, userTopic } from '../broker/broker.js';
import type { FileRecord, FileStore } from '../store/file-store.js';
import type { BlobStore } from './blob-store.js';

export const THUMB_MAX_EDGE = 400;
const HEADER_BYTES = 1024 * 1024;
const THUMB_MAX_BYTES = 4 * 1024 * 1024;

// The operation cache keeps decoded images around; uploads are one-off, so it only costs memory.
sharp.cache(false);

export interface ImageInfo {
  width: number;
  height: number;
  /** Within the pixel limit: a thumbnail will be made. */
  thumbnail: boolean;
}

/** Dimensions from the image's header (first MiB), orientation applied; undefined when unreadable. */
export async function imageInfo(blobs: BlobStore, key: string, size: number, maxPixels: number): Promise<ImageInfo | undefined> {
  if (size === 0) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of await blobs.get(key, { start: 0, end: Math.min(size, HEADER_BYTES) - 1 })) chunks.push(c as Buffer);
  try {
    // Header only: no pixel is decoded here, so the pixel limit is checked below, not by libvips.
    const m = await sharp(Buffer.concat(chunks), { limitInputPixels: false, failOn: 'none' }).metadata();
    let width = m.width;
    let height = m.pageHeight ?? m.height;
    if (!width || !height) return undefined;
    if (m.orientation && m.orientation >= 5) [width, height] = [height, width];
    return { width, height, thumbnail: width * height <= maxPixels };
  } catch {
    return undefined;
  }
}

export interface FileMetrics {
  processing: client.Histogram;
  outcomes: client.Counter<'outcome'>;
  queued: () => number;
}

export interface ThumbnailerOptions {
  blobs: BlobStore;
  files: FileStore;
  broker: Broker;
  logger: Logger;
  concurrency: number;
  maxPixels: number;
  /** Where the histogram and counters register (main.ts: the /metrics registry); none in bare tests. */
  registry?: client.Registry;
}

interface Job {
  file: FileRecord;
  /** performance.now() when the upload completed. */
  since: number;
}

export class Thumbnailer {
  private readonly queue: Job[] = [];
  private running = 0;
  /** Jobs rendered whose outcome is being stored and announced (no slot held). */
  private recording = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  readonly processing: client.Histogram;
  private readonly outcomes: client.Counter<'outcome'>;

  constructor(private readonly o: ThumbnailerOptions) {
    const registers = o.registry ? [o.registry] : [];
    this.processing = new client.Histogram({
      name: 'nchat_file_processing_seconds',
      help: 'Upload complete to thumbnail ready (images within the pixel limit)',
      // Up to 10 min: a queue backed up under an upload storm (the full load test saw > 30 s).
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
      registers,
    });
    this.outcomes = new client.Counter({
      name: 'nchat_thumbnails_total',
      help: 'Thumbnail jobs by outcome (ready, failed)',
      labelNames: ['outcome'] as const,
      registers,
    });
    if (o.registry) {
      const self = this;
      new client.Gauge({
        name: 'nchat_thumbnail_queue',
        help: 'Thumbnail jobs waiting or running',
        registers,
        collect() {
          this.set(self.queue.length + self.running);
        },
      });
    }
  }

  /** Queues the file's thumbnail; `since` is performance.now() at upload complete. */
  enqueue(file: FileRecord, since = performance.now()): void {
    if (this.closed) return;
    this.queue.push({ file, since });
    this.pump();
  }

  /** Re-queues thumbnails a previous process left pending (their time counts from now). */
  async resumePending(limit = 10_000): Promise<number> {
    const pending = await this.o.files.pendingThumbnails(limit);
    for (const f of pending) this.enqueue(f);
    return pending.length;
  }

  /** Resolves when nothing is queued or running (tests, shutdown). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.running === 0 && this.recording === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops taking jobs and waits for the running ones; queued jobs stay 'pending' for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    await this.idle();
  }

  /**
   * A slot is held for the render only (the CPU work `concurrency` bounds). Recording the outcome
   * (two store round trips, the events) runs outside it: on PostgreSQL under upload load a round
   * trip waits ~100+ ms behind the streaming bodies, and holding the slot through two of them cut
   * the queue's rate below the images arriving (processing p95 4.5 s vs 213 ms on SQLite, bench:upload).
   */
  private pump(): void {
    while (this.running < this.o.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running++;
      void this.render(job.file)
        .catch((err: unknown) => {
          this.o.logger.info({ fileId: job.file.id, err: (err as Error).message }, 'thumbnail failed');
          return null;
        })
        .then((thumbKey) => {
          const ms = performance.now() - job.since;
          this.running--;
          this.recording++;
          this.pump();
          return this.record(job.file, thumbKey, ms);
        })
        .finally(() => {
          this.recording--;
          if (this.running === 0 && this.recording === 0 && this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
        });
    }
  }

  private async record(file: FileRecord, thumbKey: string | null, ms: number): Promise<void> {
    const { blobs, files, broker, logger } = this.o;
    try {
      const updated = await files.setThumbnail(file.id, { state: thumbKey ? 'ready' : 'failed', thumbKey, thumbMs: ms });
      if (!updated && thumbKey) await blobs.delete(thumbKey);
      if (!updated) return;
      this.outcomes.labels(thumbKey ? 'ready' : 'failed').inc();
      if (thumbKey) this.processing.observe(ms / 1000);
      const url = thumbKey ? thumbnailUrl(file.id) : undefined;
      const processingMs = Math.round(ms);
      broker.publish(userTopic(file.uploaderId), { type: 'file.ready', fileId: file.id, thumbnailUrl: url, processingMs });
      for (const s of await files.sharesOf(file.id))
        broker.publish(channelTopic(s.channelId), {
          type: 'file.ready',
          channelId: s.channelId,
          messageId: s.messageId,
          fileId: file.id,
          thumbnailUrl: url,
          processingMs,
        });
    } catch (err) {
      logger.warn({ fileId: file.id, err }, 'recording a thumbnail failed');
    }
  }

  /** Decodes (bounded), orients, shrinks and re-encodes; returns the thumbnail's blob key. */
  private async render(file: FileRecord): Promise<string> {
    const { blobs, maxPixels } = this.o;
    const opts = { limitInputPixels: maxPixels, failOn: 'error' as const, sequentialRead: true };
    const path = blobs.localPath?.(file.blobKey);
    const img = path ? sharp(path, opts) : sharp(opts);
    const out = img
      .rotate()
      .resize({ width: THUMB_MAX_EDGE, height: THUMB_MAX_EDGE, fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 75, effort: 2 });
    if (!path) {
      const input = await blobs.get(file.blobKey);
      input.on('error', (e) => out.destroy(e));
      input.pipe(out);
    }
    const stored = await blobs.put(out, { prefix: 't', maxBytes: THUMB_MAX_BYTES, headBytes: 0 });
    return stored.key;
  }
}
