// Online backup of a SQLite data dir's database (`nchat backup --out FILE`), safe while the server
// runs and writes: SQLite's backup API (better-sqlite3 db.backup) from a second connection.
//
// Consistency: the backup API restarts from the first page whenever another connection writes the
// source between two steps, so with the server writing continuously a page-by-page backup might
// never finish. Here every page is copied in ONE step, which runs inside one read transaction: the
// copy is exactly the database as of one commit (in WAL mode that read does not block the server's
// writes; it only holds back checkpoints for the copy's duration). Every message acknowledged
// before the backup started is in it; later ones may be.
//
// Nothing half-written: the copy goes to `<out>.partial` and is renamed to `<out>` only after
// `PRAGMA integrity_check` passed on it. An existing `<out>` is never overwritten.
//
// Not included: uploaded files (the `files/` folder of the data dir, copied with any file tool:
// blobs are written once under content-addressed names; see docs/OPERATIONS.md).
import Database from 'better-sqlite3';
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Name of the database file inside a data dir (server/main.ts openStore). */
export const SQLITE_FILE = 'nchat.db';

export interface BackupResult {
  out: string;
  bytes: number;
  pages: number;
  messages: number;
  ms: number;
}

export class BackupError extends Error {}

/** Backs up `<dataDir>/nchat.db` to `out`. Throws BackupError for an operator mistake. */
export async function backupSqlite(dataDir: string, out: string): Promise<BackupResult> {
  const source = join(resolve(dataDir), SQLITE_FILE);
  const target = resolve(out);
  if (!existsSync(source)) throw new BackupError(`no database at ${source} (is --data-dir right?)`);
  if (existsSync(target)) throw new BackupError(`${target} exists; choose a new file name`);
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  // Owner-only from the first byte: the copy holds password hashes and the JWT secret.
  writeFileSync(partial, '', { mode: 0o600 });
  const t0 = performance.now();
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 10000');
    // 0x7fffffff pages per step after the first (empty) step: the whole copy in one read transaction.
    const progress = await db.backup(partial, { progress: () => 0x7fffffff });
    const copy = new Database(partial, { fileMustExist: true });
    let messages: number;
    try {
      const check = copy.pragma('integrity_check', { simple: true });
      if (check !== 'ok') throw new Error(`the copy failed its integrity check: ${String(check)}`);
      messages = (copy.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n;
      // The copy is self-contained: fold its WAL (if any) into the file before it is moved.
      copy.pragma('wal_checkpoint(TRUNCATE)');
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    renameSync(partial, target);
    const bytes = statSync(target).size;
    return { out: target, bytes, pages: progress.totalPages, messages, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    rmSync(partial, { force: true });
    rmSync(`${partial}-wal`, { force: true });
    rmSync(`${partial}-shm`, { force: true });
    throw err;
  } finally {
    db.close();
  }
}
