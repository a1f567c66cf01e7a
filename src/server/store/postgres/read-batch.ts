// Coalesces point reads that arrive in the same event-loop turn into one statement.
//
// Why: on PostgreSQL every statement costs a round trip and an executor start-up (~0.18 ms of
// backend CPU measured with nothing read, PERFORMANCE.md "PostgreSQL send path"). The
// authorization read before every send and every channel read (channels.getWithMember) was one
// statement per call: at 64 sends in flight, 64 statements beside the one group-commit batch.
//
// Contract: each call's answer is exactly what the single read would have returned at some moment
// between the call and its answer (reads are not transactional with each other, so nothing is
// lost by sharing a statement). Outcomes stay independent: when the shared statement fails, each
// key is read again alone, so one bad key cannot fail the calls it happened to share a turn with.
// A turn with one call uses the single-key read (its prepared statement) directly.

/** A batch is one statement's parameter arrays; beyond this, one turn's calls split. */
const MAX_BATCH = 256;

/** One distinct key of a turn and every call waiting for it. */
interface Entry<K, V> {
  key: K;
  waiters: { resolve(v: V | undefined): void; reject(e: unknown): void }[];
}

export class ReadBatcher<K, V> {
  private pending = new Map<string, Entry<K, V>>();
  private scheduled = false;

  /**
   * @param keyOf  a string identity for a key (equal keys in one turn share one row)
   * @param one    the single-key read
   * @param many   reads every key in one statement; returns the found values by keyOf (absent = not found)
   */
  constructor(
    private readonly keyOf: (k: K) => string,
    private readonly one: (k: K) => Promise<V | undefined>,
    private readonly many: (ks: K[]) => Promise<Map<string, V>>,
  ) {}

  load(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const id = this.keyOf(key);
      const entry = this.pending.get(id);
      if (entry) entry.waiters.push({ resolve, reject });
      else this.pending.set(id, { key, waiters: [{ resolve, reject }] });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = [...this.pending.values()];
    this.pending = new Map();
    for (let i = 0; i < all.length; i += MAX_BATCH) void this.run(all.slice(i, i + MAX_BATCH));
  }

  private async run(batch: Entry<K, V>[]): Promise<void> {
    if (batch.length === 1) return this.runOne(batch[0]);
    let found: Map<string, V>;
    try {
      found = await this.many(batch.map((e) => e.key));
    } catch {
      // Each key alone: its own outcome, whatever failed the shared statement.
      await Promise.all(batch.map((e) => this.runOne(e)));
      return;
    }
    for (const e of batch) settle(e.waiters, found.get(this.keyOf(e.key)));
  }

  private async runOne(e: Entry<K, V>): Promise<void> {
    try {
      settle(e.waiters, await this.one(e.key));
    } catch (err) {
      for (const w of e.waiters) w.reject(err);
    }
  }
}

/** Each caller gets its own copy (callers may change what they are given), the first the original. */
function settle<V>(waiters: { resolve(v: V | undefined): void }[], v: V | undefined): void {
  waiters.forEach((w, i) => w.resolve(i === 0 || v === undefined ? v : structuredClone(v)));
}
