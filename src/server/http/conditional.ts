// Conditional GET (RFC 9110 §13.1.2), shared by the routes that send an ETag.

/** If-None-Match: `*`, or a list of (weak or strong) tags compared weakly, as RFC 9110 asks for it. */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}
