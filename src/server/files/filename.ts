// Filenames in and out (issue 11). In: whatever the client sent becomes a harmless display name
// (never a path: blobs are stored under server-generated keys). Out: a Content-Disposition that
// is safe for any stored name (RFC 6266 with an RFC 5987 `filename*`).
import { MAX_FILENAME_CHARS } from '../../protocol/files.js';

/**
 * Control characters (C0, DEL, C1), bidi embeddings/overrides/isolates and marks, zero-width
 * characters, line/paragraph separators and the BOM: removed, so a name cannot hide its real
 * extension ("invoice\u202Efdp.exe") or break a header or a log line.
 */
const UNSAFE = /[\p{Cc}\u061C\u200B-\u200F\u202A-\u202E\u2028\u2029\u2060-\u2069\uFEFF]/gu;

/** The longest extension kept when a long name is shortened. */
const MAX_EXT = 16;

/**
 * A display name from the client's filename: the last path segment (both / and \), NFC, unsafe
 * characters and lone surrogates removed, outer spaces and leading dots trimmed (no "..", no
 * hidden names), at most MAX_FILENAME_CHARS characters with the extension kept; "file" when
 * nothing is left.
 */
export function sanitizeFilename(raw: string | undefined): string {
  let s = (raw ?? '').toWellFormed().replace(/\uFFFD/g, '');
  s = s.split(/[/\\]/).pop() ?? '';
  s = s.normalize('NFC').replace(UNSAFE, '').trim().replace(/^\.+/, '').trim();
  if (!s) return 'file';
  const chars = [...s];
  if (chars.length <= MAX_FILENAME_CHARS) return s;
  const dot = s.lastIndexOf('.');
  const ext = dot > 0 ? [...s.slice(dot)] : [];
  const keep = ext.length > 1 && ext.length <= MAX_EXT ? ext : [];
  return chars.slice(0, MAX_FILENAME_CHARS - keep.length).join('') + keep.join('');
}

/**
 * `attachment` or `inline`, with an ASCII fallback `filename` (quotes, backslashes and
 * non-printable or non-ASCII characters replaced by "_") and the exact name as UTF-8 in
 * `filename*` (percent-encoded per RFC 5987, including ' ( ) * which encodeURIComponent keeps).
 */
export function contentDisposition(kind: 'attachment' | 'inline', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
