// The SQLite search indexer (issue 14): FTS5 entries for new messages are written after the send
// commits, many messages per transaction, instead of inside every send's transaction.
//
// Why: FTS5 writes a new segment per transaction (and merges them later), so its cost is mostly
// per commit; in the send transaction it took the store's send path from ~50 to ~76 µs of CPU per
// message (docs/PERFORMANCE.md). A send now appends its id to search_pending (trigger, same
// transaction: search-schema.ts) and this indexer moves what is queued into search_docs and
// search_fts in one transaction every DELAY_MS, or at once when BATCH_MAX are waiting.
//
// Contract (what callers may rely on):
// - Read-your-writes: SqliteSearch runs flush() on the main connection before every search,
//   suggestTerms and stats, so a search sees every message whose send committed before the search
//   started (the reader threads start their read after that commit). A second process reading the
//   file on its own sees new messages up to DELAY_MS late.
// - Nothing acknowledged is lost from the index: the queue row commits with the message, so after
//   a crash between a commit and its indexing the next start indexes it (flush on migrate and
//   shortly after open; any flush takes every queued row, whoever queued it).
// - Edits and deletes stay exact: their triggers act on the index at once when the message is
//   indexed; a queued one is indexed as it is when the indexer reads it (deleted: skipped).
// - Idempotent: a queued message that already has a doc (resumeIndexing rebuilt it) is skipped.
import type Database from 'better-sqlite3';
import type { Db } from './db.js';

/** Longest a committed message waits for the timer (ms): the index lag seen by other processes. */
export const DELAY_MS = 20;
/**
 * Messages indexed per transaction at most: bounds how long one flush holds the write lock and
 * the event loop (~15–20 µs a message, so ~20–40 ms at the cap); also the queue length that
 * triggers a flush before the timer.
 */
export const BATCH_MAX = 2000;
/** Doc ids are createdAt ms × 1024 + n (search-schema.ts). */
const ID_SCALE = 1024;

type PendingRow = [pid: number, id: string | null, channelId: string, authorId: string, text: string, createdAt: string];

export class SearchIndexer {
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** Sends committed by this process since the last flush (a hint for scheduling only). */
  private queued = 0;
  private ready = false;
  private stopped = false;
  /** Running totals for /metrics: time spent in flushes that had work, messages dequeued. */
  private busyMs = 0;
  private indexed = 0;

  /** One transaction: up to batchMax queued messages indexed and dequeued. Returns rows dequeued. */
  private readonly batchTx: { immediate(): number };

  constructor(
    private readonly db: Db,
    private readonly delayMs = DELAY_MS,
    private readonly batchMax = BATCH_MAX,
  ) {
    this.batchTx = db.transaction((): number => {
      const q = this.q!;
      const rows = q.pending.all(this.batchMax) as PendingRow[];
      // Doc ids as the backfill makes them: createdAt ms × 1024 + n, unique (search-schema.ts).
      // Above the largest existing id (every message sent now) only this batch's own ids can
      // collide, tracked in lastOfBase; an older time (a backdated message) probes the table.
      // (One INSERT … SELECT computing the id in SQL, as 0004's trigger did, cost ~6× more.)
      let maxId = (q.maxId.get() as number | null) ?? 0;
      const lastOfBase = new Map<number, number>();
      for (const [, id, channelId, authorId, text, createdAt] of rows) {
        if (id === null) continue; // deleted (or gone) before it was indexed
        const base = Date.parse(createdAt) * ID_SCALE;
        let last = lastOfBase.get(base);
        if (last === undefined && base <= maxId) last = (q.top.get(base, base + ID_SCALE - 1) as number | null) ?? undefined;
        const docId =
          !Number.isFinite(base) || base <= 0 ? maxId + 1 : last === undefined ? base : last < base + ID_SCALE - 1 ? last + 1 : maxId + 1;
        // Already indexed (resumeIndexing rebuilt it): its message_id is taken, nothing to do.
        if (q.ins.run(docId, id, channelId).changes === 0) continue;
        // An id past a millisecond's 1024 lands in a later millisecond's range: that range's
        // entry is stale now, so its next message probes.
        if (docId >= base + ID_SCALE) lastOfBase.delete(Math.floor(docId / ID_SCALE) * ID_SCALE);
        else lastOfBase.set(base, docId);
        if (docId > maxId) maxId = docId;
        q.fts.run(docId, text, channelId, authorId);
      }
      if (rows.length) q.done.run(rows[rows.length - 1]![0]);
      return rows.length;
    });
  }

  private q?: Record<'any' | 'pending' | 'fts' | 'done' | 'top' | 'maxId' | 'ins', Database.Statement>;

  /** false until migration 0008 has run on this file (a fresh file before migrate()). */
  private isReady(): boolean {
    if (this.ready) return true;
    if (!this.db.open) return false;
    const has = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'search_pending'").get();
    if (!has) return false;
    const db = this.db;
    this.q = {
      any: db.prepare('SELECT EXISTS (SELECT 1 FROM search_pending)').pluck(),
      pending: db
        .prepare(
          `SELECT p.id, m.id, m.channel_id, m.author_id, m.text, m.created_at
           FROM search_pending p LEFT JOIN messages m ON m.id = p.message_id AND m.deleted_at IS NULL
           ORDER BY p.id LIMIT ?`,
        )
        .raw(),
      top: db.prepare('SELECT max(id) FROM search_docs WHERE id BETWEEN ? AND ?').pluck(),
      maxId: db.prepare('SELECT max(id) FROM search_docs').pluck(),
      // A message already indexed is ignored by its unique message_id (ids never collide: above).
      ins: db.prepare('INSERT INTO search_docs (id, message_id, channel_id) VALUES (?, ?, ?) ON CONFLICT (message_id) DO NOTHING'),
      fts: db.prepare('INSERT INTO search_fts (rowid, text, ch, au) VALUES (?, ?, ?, ?)'),
      done: db.prepare('DELETE FROM search_pending WHERE id <= ?'),
    };
    this.ready = true;
    return true;
  }

  /**
   * Indexes every queued message now (the search path's read-your-writes, close, recovery).
   * Synchronous; throws what SQLite throws (e.g. SQLITE_BUSY past busy_timeout).
   */
  flush(): void {
    this.clearTimers();
    this.queued = 0;
    if (!this.isReady()) return;
    // The common case on the search path with no new sends: one read, no write lock.
    if (!this.q!.any.get()) return;
    const t0 = performance.now();
    try {
      let n: number;
      do {
        n = this.batchTx.immediate();
        this.indexed += n;
        // More than one batch: keep going (a caller of flush() needs all of them).
      } while (n === this.batchMax);
    } finally {
      this.busyMs += performance.now() - t0;
    }
  }

  /** Seconds spent indexing (on the caller's thread: the event loop) and messages dequeued, since open. */
  stats(): { busySec: number; indexed: number } {
    return { busySec: this.busyMs / 1000, indexed: this.indexed };
  }

  /** The send path: `n` messages were committed. Indexes them within delayMs (sooner when many). */
  committed(n: number): void {
    if (this.stopped || n <= 0) return;
    this.queued += n;
    if (this.queued >= this.batchMax) {
      this.immediate ??= setImmediate(this.onTimer);
      return;
    }
    if (!this.timer && !this.immediate) {
      this.timer = setTimeout(this.onTimer, this.delayMs);
      this.timer.unref();
    }
  }

  /** Recovery after open: index whatever an earlier run left queued, soon, without a send. */
  scheduleRecovery(): void {
    if (this.stopped || this.timer || this.immediate) return;
    this.timer = setTimeout(this.onTimer, this.delayMs);
    this.timer.unref();
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.immediate = undefined;
    if (this.stopped || !this.db.open) return;
    try {
      this.flush();
    } catch {
      // Left queued (durable): the next send, search or the retry below indexes it. A busy lock
      // held by another process is the expected cause.
      if (!this.stopped) {
        this.timer = setTimeout(this.onTimer, this.delayMs * 10);
        this.timer.unref();
      }
    }
  };

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  /** No more timers (close: the caller flushes first if it wants the queue empty). */
  stop(): void {
    this.stopped = true;
    this.clearTimers();
  }
}
