// File type from the bytes, never from the client's filename or Content-Type (issue 11), and the
// policy that decides what the server accepts and how it serves it.
//
// - The type is file-type's answer for the first bytes; anything it does not recognise (text,
//   SVG, HTML, a "JPEG" that is not one) is application/octet-stream.
// - NCHAT_UPLOAD_ALLOWED_TYPES (patterns: `*`, `image/*`, `application/pdf`) decides what is
//   accepted at all (415 otherwise); application/octet-stream is matched like any type.
// - Only the raster images in INLINE_IMAGE_TYPES are ever served inline and thumbnailed; every
//   other type, allowed or not, is served as an attachment (downloads.ts).
import { fileTypeFromBuffer } from 'file-type';
import { INLINE_IMAGE_TYPES } from '../../protocol/files.js';

export const GENERIC_TYPE = 'application/octet-stream';

export interface Sniffed {
  mime: string;
  /** One of INLINE_IMAGE_TYPES: served inline, thumbnailed, counts for has:image. */
  isImage: boolean;
}

const inline = new Set<string>(INLINE_IMAGE_TYPES);

export async function sniff(head: Buffer): Promise<Sniffed> {
  let mime = GENERIC_TYPE;
  if (head.length > 0) {
    try {
      mime = (await fileTypeFromBuffer(head))?.mime ?? GENERIC_TYPE;
    } catch {
      // A parser that chokes on crafted bytes: the file is simply of no known type.
      mime = GENERIC_TYPE;
    }
  }
  return { mime, isImage: inline.has(mime) };
}

/** Whether `mime` matches one of the allowlist patterns (`*`, `type/*`, `type/subtype`; case-insensitive). */
export function typeAllowed(mime: string, patterns: readonly string[]): boolean {
  const m = mime.toLowerCase();
  for (const raw of patterns) {
    const p = raw.trim().toLowerCase();
    if (p === '*' || p === '*/*' || p === m) return true;
    if (p.endsWith('/*') && m.startsWith(p.slice(0, -1))) return true;
  }
  return false;
}

export const isInlineImage = (mime: string) => inline.has(mime);
