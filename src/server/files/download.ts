// The HTTP side of serving a blob (issue 11): Range (one range; 206 / 416), ETag and
// If-None-Match (304), If-Range, and the headers that keep a stored file from ever acting as
// a page of this origin: X-Content-Type-Options nosniff, a sandboxing CSP, attachment for
// anything that is not an inline raster image, a Content-Disposition safe for any name.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { BlobNotFoundError, type BlobStore, type ByteRange } from './blob-store.js';
import { contentDisposition } from './filename.js';
import { GENERIC_TYPE, isInlineImage } from './sniff.js';
import { noneMatch } from '../http/conditional.js';

export interface Servable {
  key: string;
  size: number;
  /** Strong validator, quoted ("<sha256>"). */
  etag: string;
  mime: string;
  name: string;
}

/** Types that a browser could run as a document or script: never sent as themselves. */
const ACTIVE = /html|xml|svg|javascript|ecmascript|json|text\//i;

/**
 * Parses one `bytes=` range against `size`. undefined: no usable Range (serve everything:
 * absent, another unit, several ranges, bad syntax — RFC 9110 lets a server ignore those);
 * 'unsatisfiable': well-formed but selects no byte (416).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    // Suffix: the last n bytes.
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

export async function sendBlob(req: FastifyRequest, reply: FastifyReply, blobs: BlobStore, f: Servable): Promise<FastifyReply> {
  const inline = isInlineImage(f.mime);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('content-security-policy', "sandbox; default-src 'none'");
  reply.header('cross-origin-resource-policy', 'same-origin');
  // Authorization can change (a message deleted): revalidate every time; the ETag makes that cheap.
  reply.header('cache-control', 'private, no-cache');
  reply.header('etag', f.etag);
  reply.header('accept-ranges', 'bytes');
  if (noneMatch(req.headers['if-none-match'], f.etag)) return reply.status(304).send();

  reply.header('content-type', inline ? f.mime : ACTIVE.test(f.mime) ? GENERIC_TYPE : f.mime);
  reply.header('content-disposition', contentDisposition(inline ? 'inline' : 'attachment', f.name));
  const ifRange = req.headers['if-range'];
  const range = ifRange === undefined || ifRange === f.etag ? parseRange(req.headers.range, f.size) : undefined;
  if (range === 'unsatisfiable') {
    reply.header('content-range', `bytes */${f.size}`);
    throw new AppError('RANGE_NOT_SATISFIABLE', `the range selects no byte of this ${f.size}-byte file`);
  }
  if (f.size === 0) {
    reply.header('content-length', '0');
    return reply.status(200).send(Buffer.alloc(0));
  }
  // A row whose blob is gone (restored database without its files/ dir): 404, not a 500.
  const stream = await blobs.get(f.key, range).catch((err: unknown) => {
    throw err instanceof BlobNotFoundError ? new AppError('NOT_FOUND', 'the file’s bytes are missing from storage') : err;
  });
  if (range) {
    reply.header('content-range', `bytes ${range.start}-${range.end}/${f.size}`);
    reply.header('content-length', String(range.end - range.start + 1));
    return reply.status(206).send(stream);
  }
  reply.header('content-length', String(f.size));
  return reply.status(200).send(stream);
}
