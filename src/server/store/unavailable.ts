// Which failures mean "the store cannot be used right now" — the database is down, restarting,
// unreachable, out of connections, locked for too long, or its disk is full — as opposed to a bug.
// These are answered as UNAVAILABLE (503 with Retry-After over HTTP, the same code over WebSocket):
// the client did nothing wrong and the same request may succeed in a moment, so it must neither see
// a 500 nor give up. Nothing is acknowledged for such a request; the write normally did not commit
// (a connection lost during COMMIT may have committed it), so a retry carries the same clientMsgId
// and a send that did commit is then answered with the stored original, never stored twice.
import { AppError } from '../errors.js';

/** Seconds a client should wait before retrying an UNAVAILABLE answer (HTTP Retry-After). */
export const RETRY_AFTER_SECONDS = 2;

/**
 * Socket-level failures talking to PostgreSQL, and ENOSPC/EDQUOT on a volume (the SQLite data
 * dir, the files volume). EIO/EROFS too: the disk went bad or was remounted read-only.
 */
const SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOSPC',
  'EDQUOT',
  'EIO',
  'EROFS',
]);

/**
 * PostgreSQL SQLSTATEs: class 08 (connection exception), 53 (insufficient resources: disk full,
 * out of memory, too many connections), 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot
 * connect now (starting up, recovering), 58030 I/O error.
 */
function isPgUnavailable(code: string): boolean {
  return code.startsWith('08') || code.startsWith('53') || code === '57P01' || code === '57P02' || code === '57P03' || code === '58030';
}

/**
 * SQLite (better-sqlite3 SqliteError codes, extended ones included): BUSY/LOCKED once busy_timeout
 * has passed, FULL (disk or quota), IOERR_* (including the write that hit ENOSPC), CANTOPEN.
 */
const SQLITE_PREFIXES = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_CANTOPEN'];

/**
 * node-postgres errors without a code: a connection that died mid-query, the pool's wait for a
 * connection running out (connectionTimeoutMillis), a client that already broke.
 */
const PG_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Query read timeout',
];

/** True when err (or an error it wraps: `cause`, AggregateError `errors`) means the store is unavailable. */
export function isStoreUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false;
  if (err instanceof AppError) return err.code === 'UNAVAILABLE';
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') {
    if (SYSTEM_CODES.has(e.code)) return true;
    if (SQLITE_PREFIXES.some((p) => (e.code as string).startsWith(p))) return true;
    if (/^[0-9A-Z]{5}$/.test(e.code) && isPgUnavailable(e.code)) return true;
  }
  if (typeof e.message === 'string' && PG_MESSAGES.some((m) => (e.message as string).includes(m))) return true;
  if (e.cause !== undefined && isStoreUnavailable(e.cause, depth + 1)) return true;
  return Array.isArray(e.errors) && e.errors.some((x) => isStoreUnavailable(x, depth + 1));
}

/**
 * Only the volume's own failures (full, over quota, read-only, I/O error), for code that also sees
 * the client's stream fail (ECONNRESET there is the client leaving, not the server's problem).
 */
export function isVolumeUnavailable(err: unknown): boolean {
  return hasCode(err, ['ENOSPC', 'EDQUOT', 'EROFS', 'EIO']);
}

/** What a client is told: no driver detail (host names, paths), only that it may retry. */
export function storeUnavailableError(err: unknown): AppError {
  const diskFull = hasCode(err, ['ENOSPC', 'EDQUOT', 'SQLITE_FULL', '53100']);
  return new AppError(
    'UNAVAILABLE',
    diskFull
      ? 'the server is out of disk space; retry later (with the same clientMsgId for a send)'
      : 'the database is unavailable; retry shortly (with the same clientMsgId for a send)',
  );
}

function hasCode(err: unknown, codes: string[], depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && codes.some((c) => (e.code as string).startsWith(c))) return true;
  if (e.cause !== undefined && hasCode(e.cause, codes, depth + 1)) return true;
  return Array.isArray(e.errors) && e.errors.some((x) => hasCode(x, codes, depth + 1));
}
