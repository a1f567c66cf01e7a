// Small helpers shared by the SQLite store modules.
import type Database from 'better-sqlite3';
import { AppError, type ErrorCode } from '../../errors.js';

export type Db = Database.Database;

/**
 * Statements are prepared once, on first use: the tables may not exist before migrate() has run,
 * so preparing at open time would fail on a fresh file.
 */
export function lazy<T>(init: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= init());
}

/** Which unique index maps to which caller-visible error (the index name appears in SQLite's message). */
const uniqueErrors: { match: string; code: ErrorCode; message: string }[] = [
  { match: 'users.username', code: 'USERNAME_TAKEN', message: 'username is taken' },
  { match: 'users.email', code: 'EMAIL_TAKEN', message: 'email is taken' },
  { match: 'channels_name_key', code: 'CHANNEL_NAME_TAKEN', message: 'channel name is taken' },
];

/** Re-throws caller-caused unique violations as AppError; anything else unchanged. */
export function mapUniqueViolation(err: unknown): never {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string' && e.code.startsWith('SQLITE_CONSTRAINT') && e.message) {
    for (const u of uniqueErrors) {
      if (e.message.includes(u.match)) throw new AppError(u.code, u.message);
    }
  }
  throw err;
}

/**
 * Base of the per-concept modules. Holding `db` in a base class lets subclasses build their
 * transaction functions in field initializers (they run after super() has set `db`).
 */
export abstract class SqliteModule {
  constructor(protected readonly db: Db) {}
}
