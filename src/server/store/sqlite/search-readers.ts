// Search on reader threads for the SQLite store. better-sqlite3 runs every statement on the
// calling thread, so in-process searches all ran on the event loop: one core for every search
// and every request (S2's profile: ~8.5 ms of FTS statement per query, ~75 queries/s at most
// on this machine). Readers take searches off the event loop and let a second core serve them.
// Started on the first search (stores that never search start no thread); until a reader has
// loaded (~0.5–3 s: it compiles the TypeScript modules), searches run on the main connection, so
// nobody waits for the pool. A reader that fails is not restarted: its calls fail over to the
// main connection, so a search never fails because of the pool.
import { Worker } from 'node:worker_threads';
import type { ErrorCode } from '../../errors.js';
import { AppError } from '../../errors.js';

/**
 * Each reader's V8 young generation, in MB (Worker resourceLimits). Without a limit a reader
 * grows its own young generation as far as the main thread's (V8's default, two 16 MB
 * semi-spaces), and it stays resident. Measured 2026-12-01 20:26–20:41 on the 2-core box
 * (docs/PERFORMANCE.md): with 16, `nchat loadtest --spawn sqlite --profile quick --scenarios
 * api,files` peaked 34–54 MB lower in the files phase, with API req/s +2% and +11% and
 * bench:search capacity 181/198 against 197/190 queries/s (alternated pairs). A 4 MB page cache
 * with an 8 MB young generation cost 23–26% of API req/s: search needs the cache more.
 */
export const READER_YOUNG_GENERATION_MB = 16;

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

interface Reader {
  worker: Worker;
  busy: number;
  alive: boolean;
  ready: boolean;
}

export class SearchReaders {
  private readers: Reader[] | undefined;
  private readonly pending = new Map<number, Pending & { reader: Reader; op: string; args: unknown[] }>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly count: number,
    /** The main thread's own implementation, for failover. */
    private readonly local: (op: 'search' | 'suggestTerms', args: unknown[]) => unknown,
  ) {}

  private start(): Reader[] {
    const url = new URL('./search-reader-boot.mjs', import.meta.url);
    this.readers = Array.from({ length: this.count }, () => {
      const worker = new Worker(url, {
        workerData: { file: this.file },
        resourceLimits: { maxYoungGenerationSizeMb: READER_YOUNG_GENERATION_MB },
      });
      const reader: Reader = { worker, busy: 0, alive: true, ready: false };
      worker.unref();
      worker.on('message', (m: { id: number; ready?: true; value?: unknown; error?: { code?: ErrorCode; message: string } }) => {
        if (m.ready) {
          reader.ready = true;
          return;
        }
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        reader.busy--;
        if (m.error) p.reject(m.error.code ? new AppError(m.error.code, m.error.message) : new Error(m.error.message));
        else p.resolve(m.value);
      });
      const fail = () => {
        if (!reader.alive) return;
        reader.alive = false;
        // Calls in flight on this reader run again on the main connection.
        for (const [id, p] of this.pending) {
          if (p.reader !== reader) continue;
          this.pending.delete(id);
          try {
            p.resolve(this.local(p.op as 'search' | 'suggestTerms', p.args));
          } catch (e) {
            p.reject(e);
          }
        }
      };
      worker.on('error', fail);
      worker.on('exit', fail);
      return reader;
    });
    return this.readers;
  }

  /** Runs the call on the least busy live reader (the main connection when none is left). */
  call<T>(op: 'search' | 'suggestTerms', args: unknown[]): Promise<T> {
    if (this.closed) return Promise.resolve(this.local(op, args) as T);
    const live = (this.readers ?? this.start()).filter((r) => r.alive && r.ready);
    if (live.length === 0) return Promise.resolve(this.local(op, args) as T);
    const reader = live.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    reader.busy++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, reader, op, args });
      reader.worker.postMessage({ id, op, args });
    });
  }

  /** Stops the readers (their connections close); later calls run on the main connection. */
  async close(): Promise<void> {
    this.closed = true;
    const readers = this.readers ?? [];
    await Promise.all(
      readers.map(
        (r) =>
          new Promise<void>((resolve) => {
            if (!r.alive) return resolve();
            const timer = setTimeout(() => void r.worker.terminate().finally(resolve), 2000);
            r.worker.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            r.worker.postMessage('stop');
          }),
      ),
    );
  }
}
