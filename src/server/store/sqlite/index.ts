// The embedded store: one SQLite file through better-sqlite3 (synchronous, in-process).
// Every method does its work synchronously inside the call and hands back a settled promise, so
// calls never interleave inside a transaction. The one exception is messages.create, which
// queues the send and commits everything queued in one turn of the event loop as one
// transaction (group commit, messages.ts). Write transactions take the lock up front
// (BEGIN IMMEDIATE) so a second process on the same file waits (busy_timeout) instead of failing
// mid-transaction. WAL checkpoints run on a worker thread (checkpointer.ts). Search entries for
// new messages are written after the send commits, in batches (search-indexer.ts).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Store } from '../store.js';
import { SqliteChannels } from './channels.js';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import { SqliteFiles } from './files.js';
import { SqliteMessages } from './messages.js';
import { SqliteMeta } from './meta.js';
import { runMigrations } from './migrations.js';
import { SqliteNotifications } from './notifications.js';
import { SqliteSearch } from './search.js';
import { DELAY_MS, SearchIndexer } from './search-indexer.js';
import { SqliteTokens } from './tokens.js';
import { SqliteUsers } from './users.js';

export interface SqliteStoreOptions {
  /** Path of the database file; its directory is created when missing. */
  file: string;
  /**
   * `normal`: in WAL mode a commit is durable against a process crash (kill -9) but the last
   * commits may be lost on power failure. `full`: fsync on every commit, survives power loss.
   */
  sync: 'normal' | 'full';
  /** How long a writer waits for another process's lock before failing (ms). */
  busyTimeoutMs?: number;
  /** Interval of the background WAL checkpoints (checkpointer.ts); 0 leaves them to SQLite. Default 200. */
  checkpointIntervalMs?: number;
  /** Threads that run searches on their own read-only connections (search-readers.ts). Default 2; 0: on the main connection. */
  searchReaders?: number;
  /**
   * Longest a committed message waits to be indexed for search (ms; search-indexer.ts, default
   * 20). Searches on this store never wait for it: they index what is queued first.
   */
  searchIndexDelayMs?: number;
}

/** Auto-checkpoint threshold of the main connection while the worker checkpoints (pages, ~40 MB). */
const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;

export async function openSqliteStore(opts: SqliteStoreOptions): Promise<Store> {
  if (opts.file !== ':memory:') mkdirSync(dirname(opts.file), { recursive: true });
  const db = new Database(opts.file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.sync === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
    // Larger page cache than the 2 MB default; history pages of hot channels stay in memory.
    db.pragma('cache_size = -32000');
    db.pragma('temp_store = MEMORY');
    // A WAL that grew under load is cut back to this size when it restarts.
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  } catch (err) {
    db.close();
    throw err;
  }
  const interval = Math.floor(opts.checkpointIntervalMs ?? 200);
  let checkpointer: Checkpointer | undefined;
  if (opts.file !== ':memory:' && interval > 0) {
    db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
    checkpointer = startCheckpointer(opts.file, interval);
  }
  const readers = opts.file === ':memory:' ? 0 : Math.max(0, Math.floor(opts.searchReaders ?? 2));
  const indexer = new SearchIndexer(db, opts.searchIndexDelayMs ?? DELAY_MS);
  return new SqliteStore(db, checkpointer, indexer, readers ? { file: opts.file, count: readers } : undefined);
}

class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly users: SqliteUsers;
  readonly tokens: SqliteTokens;
  readonly channels: SqliteChannels;
  readonly messages: SqliteMessages;
  readonly notifications: SqliteNotifications;
  readonly meta: SqliteMeta;
  readonly files: SqliteFiles;
  readonly search: SqliteSearch;
  private readonly pingStmt: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly checkpointer: Checkpointer | undefined,
    private readonly indexer: SearchIndexer,
    searchReaders?: { file: string; count: number },
  ) {
    this.users = new SqliteUsers(db);
    this.tokens = new SqliteTokens(db);
    this.channels = new SqliteChannels(db);
    this.notifications = new SqliteNotifications(db);
    this.files = new SqliteFiles(db);
    this.messages = new SqliteMessages(db, this.notifications, this.files, (n) => indexer.committed(n));
    this.search = new SqliteSearch(db, searchReaders, indexer, () => this.messages.textEpoch());
    this.meta = new SqliteMeta(db);
    this.pingStmt = db.prepare('SELECT 1');
    // Messages an earlier run committed but did not index (a crash between the two) are indexed
    // shortly after open, and by migrate() at once; searches index them first in any case.
    indexer.scheduleRecovery();
  }

  async migrate(): Promise<string[]> {
    const applied = runMigrations(this.db);
    this.indexer.flush();
    return applied;
  }

  async ping(): Promise<void> {
    this.pingStmt.get();
  }

  indexStats(): { busySec: number; indexed: number } {
    return this.indexer.stats();
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    this.messages.flushPending();
    // The file at rest has everything indexed. Best effort: what stays queued (a crash, or the
    // lock held by another process past busy_timeout) is indexed by the next open.
    this.indexer.stop();
    try {
      this.indexer.flush();
    } catch {
      // left queued, durable
    }
    await this.search.closeReaders();
    await this.checkpointer?.stop();
    if (!this.db.open) return;
    // Fold the WAL back into the main file so the data dir is one self-contained file at rest.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }

  poolStats(): undefined {
    return undefined;
  }
}
