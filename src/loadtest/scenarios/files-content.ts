// The upload scenario's content: real files of each size class, made once and cached on disk,
// then held in each worker's memory when they total ≤ 512 MiB (one copy, shared by every upload)
// or else streamed from disk by every upload (page cache), so 100 concurrent uploads of 50 MB
// never hold 100 × 50 MB in the generator. Per class: random bytes (like an archive or video:
// incompressible), text (log lines: compressible) and, for classes up to `imageMaxBytes`, real
// images made with sharp: a JPEG with photo-like bytes per pixel (about 0.26 B/px at quality 85,
// so its pixel count, which drives the server's thumbnail cost, is a photo's, not a noise
// image's) and a PNG (about 2 B/px). Images are near the class size (within a few %), the other
// files exactly the class size. The SHA-256 of every fixture is known here, so each upload's
// reply is checked against it without hashing in the generator.
import { createHash, randomBytes } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface SizeClass {
  /** Key in config (small, medium, large, xlarge). */
  key: string;
  /** Label in the report ("100 KB"). */
  label: string;
  bytes: number;
}

export interface Fixture {
  cls: string;
  kind: 'jpeg' | 'png' | 'random' | 'text';
  path: string;
  /** Name sent in the multipart part. */
  name: string;
  /** Content type the client states (the server sniffs its own). */
  mime: string;
  bytes: number;
  sha256: string;
  width?: number;
  height?: number;
}

/** Bumped when the way fixtures are made changes, so an old cache is not reused. */
const VERSION = 1;
const MAX_IMAGE_PIXELS = 24_000_000;
const JPEG_BPP = 0.26;
const PNG_BPP = 1.95;

export function labelOf(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / 1048576) * 10) / 10} MB`;
  return `${Math.round((bytes / 1024) * 10) / 10} KB`;
}

/** A deterministic, photo-like RGB raster: smooth gradients plus grain of amplitude `amp`. */
function raster(w: number, h: number, amp: number, seed: number): Buffer {
  // Clamped: a value past 0–255 saturates (a plain Buffer would wrap and add hard edges).
  const b = new Uint8ClampedArray(w * h * 3);
  let s = (seed * 2654435761) >>> 0;
  const fx = 0.5 + (seed % 5) / 3;
  const fy = 0.7 + (seed % 7) / 4;
  for (let y = 0; y < h; y++) {
    const sy = Math.sin((y / h) * 6.28 * fy) * 60;
    for (let x = 0; x < w; x++) {
      s = (s * 1664525 + 1013904223) >>> 0;
      const n = (((s >>> 24) - 128) * amp) / 128;
      const base = 128 + sy + Math.cos((x / w) * 6.28 * fx) * 50;
      const i = (y * w + x) * 3;
      b[i] = base + n;
      b[i + 1] = base * 0.8 + 40 + n;
      b[i + 2] = 255 - base + n;
    }
  }
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

async function encodeImage(kind: 'jpeg' | 'png', side: number, seed: number): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  const img = sharp(raster(side, side, kind === 'jpeg' ? 16 : 4, seed), { raw: { width: side, height: side, channels: 3 } });
  return kind === 'jpeg' ? img.jpeg({ quality: 85 }).toBuffer() : img.png().toBuffer();
}

/** An image of about `bytes`: encoded at the estimated size, then once more rescaled by the error. */
async function makeImage(kind: 'jpeg' | 'png', bytes: number, seed: number): Promise<{ data: Buffer; side: number }> {
  let side = Math.max(16, Math.round(Math.sqrt(bytes / (kind === 'jpeg' ? JPEG_BPP : PNG_BPP))));
  let data = await encodeImage(kind, side, seed);
  for (let i = 0; i < 2 && Math.abs(data.length - bytes) / bytes > 0.03; i++) {
    side = Math.max(16, Math.round(side * Math.sqrt(bytes / data.length)));
    data = await encodeImage(kind, side, seed);
  }
  return { data, side };
}

const WORDS = ['request', 'served', 'user', 'channel', 'upload', 'message', 'latency', 'ok', 'retry', 'cache', 'miss', 'hit'];

/** Writes `bytes` of random data or of log-like text to `path` in 1 MB chunks; returns its SHA-256. */
function writeBulk(path: string, bytes: number, kind: 'random' | 'text', seed: number): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'w', 0o600);
  let left = bytes;
  let line = seed * 100_000;
  try {
    while (left > 0) {
      let chunk: Buffer;
      if (kind === 'random') chunk = randomBytes(Math.min(left, 1 << 20));
      else {
        const parts: string[] = [];
        let len = 0;
        while (len < Math.min(left, 1 << 20)) {
          const l = `2026-11-30T12:00:${String(line % 60).padStart(2, '0')}Z ${WORDS[line % 12]} ${WORDS[(line * 7) % 12]} id=${line} ms=${line % 997}\n`;
          parts.push(l);
          len += l.length;
          line++;
        }
        chunk = Buffer.from(parts.join('')).subarray(0, Math.min(left, 1 << 20));
      }
      hash.update(chunk);
      writeSync(fd, chunk);
      left -= chunk.length;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

export interface FixtureOptions {
  classes: SizeClass[];
  /** Images only in classes up to this size (bigger images are rare in chat, and a 50 MB PNG is 25 MP). */
  imageMaxBytes: number;
  /** Default: <tmpdir>/nchat-lt-fixtures. */
  dir?: string;
}

/**
 * The fixtures of every class, made on first use and cached (keyed by the class sizes): a second
 * run reuses them (manifest.json) and makes nothing. Returns the manifest.
 */
export async function ensureFixtures(o: FixtureOptions, log: (m: string) => void = () => undefined): Promise<Fixture[]> {
  const key = createHash('sha256')
    .update(JSON.stringify([VERSION, o.classes.map((c) => c.bytes), o.imageMaxBytes]))
    .digest('hex')
    .slice(0, 12);
  const dir = join(o.dir ?? join(tmpdir(), 'nchat-lt-fixtures'), key);
  const cached = readManifest(dir);
  if (cached) return cached;
  // Made in a directory of this process, then renamed into place: two runs starting at once
  // (a test and a bench) never write the same files; the second rename loses and its copy goes.
  const work = `${dir}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const t0 = performance.now();
  const list: Fixture[] = [];
  let seed = 1;
  for (const c of o.classes) {
    for (const kind of ['random', 'text'] as const) {
      const file = `${c.key}-${kind}.${kind === 'random' ? 'bin' : 'log'}`;
      const sha256 = writeBulk(join(work, file), c.bytes, kind, seed++);
      list.push({
        cls: c.key,
        kind,
        path: file,
        name: file,
        mime: kind === 'random' ? 'application/octet-stream' : 'text/plain',
        bytes: c.bytes,
        sha256,
      });
    }
    if (c.bytes > o.imageMaxBytes) continue;
    for (const kind of ['jpeg', 'png'] as const) {
      // A JPEG past MAX_IMAGE_PIXELS at photo density would be an unusual camera; that class gets a PNG only.
      const bpp = kind === 'jpeg' ? JPEG_BPP : PNG_BPP;
      if (c.bytes / bpp > MAX_IMAGE_PIXELS) continue;
      const { data, side } = await makeImage(kind, c.bytes, seed++);
      const file = `${c.key}-image.${kind === 'jpeg' ? 'jpg' : 'png'}`;
      writeFileSync(join(work, file), data, { mode: 0o600 });
      list.push({
        cls: c.key,
        kind,
        path: file,
        name: `photo ${c.key}.${kind === 'jpeg' ? 'jpg' : 'png'}`,
        mime: `image/${kind}`,
        bytes: data.length,
        sha256: createHash('sha256').update(data).digest('hex'),
        width: side,
        height: side,
      });
    }
  }
  writeFileSync(join(work, 'manifest.json'), JSON.stringify(list, null, 1));
  try {
    mkdirSync(dirname(dir), { recursive: true });
    renameSync(work, dir);
  } catch {
    rmSync(work, { recursive: true, force: true });
  }
  log(`files: made ${list.length} fixtures in ${dir} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const made = readManifest(dir);
  if (!made) throw new Error(`files: fixtures in ${dir} could not be read back`);
  return made;
}

/** The cached manifest with absolute paths, or null when absent or incomplete. */
function readManifest(dir: string): Fixture[] | null {
  const manifest = join(dir, 'manifest.json');
  if (!existsSync(manifest)) return null;
  const list = (JSON.parse(readFileSync(manifest, 'utf8')) as Fixture[]).map((f) => ({ ...f, path: join(dir, f.path) }));
  return list.every((f) => existsSync(f.path)) ? list : null;
}

/**
 * Fixtures are held in each worker's memory when they total at most this; larger sets stream
 * from disk. Held, every upload of a fixture sends slices of one buffer: no allocation per
 * chunk. Streamed, each 256 KiB read is a new buffer, and at 300 MB/s that churn cost each
 * worker 5 s of GC in a 60 s run, 40% of its busy time (docs/PERFORMANCE.md, issue 11).
 */
export const HELD_FIXTURES_MAX_BYTES = 512 * 1024 * 1024;
const CHUNK = 256 * 1024;
const held = new Map<string, Buffer>();

/** Reads the fixtures into this process when they total ≤ HELD_FIXTURES_MAX_BYTES; returns whether it did. */
export function holdFixtures(list: Fixture[]): boolean {
  if (list.reduce((sum, f) => sum + f.bytes, 0) > HELD_FIXTURES_MAX_BYTES) return false;
  for (const f of list) {
    if (held.has(f.path)) continue;
    const buf = readFileSync(f.path);
    if (buf.length !== f.bytes) throw new Error(`files: fixture ${f.path} is ${buf.length} bytes, the manifest says ${f.bytes}`);
    held.set(f.path, buf);
  }
  return true;
}

async function* slices(buf: Buffer): AsyncIterable<Uint8Array> {
  for (let at = 0; at < buf.length; at += CHUNK) yield buf.subarray(at, Math.min(at + CHUNK, buf.length));
}

/** A fixture's bytes: slices of the held copy (holdFixtures), else streamed from disk (256 KiB reads). */
export function fixtureStream(f: Fixture): AsyncIterable<Uint8Array> | NodeJS.ReadableStream {
  const buf = held.get(f.path);
  return buf ? slices(buf) : createReadStream(f.path, { highWaterMark: CHUNK });
}
