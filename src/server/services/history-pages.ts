// Newest history pages, kept serialized (issue 14: "a history page of 50 messages at ≥ 3×").
//
// Opening a channel asks for its newest page, and every member who opens it asks for the same
// one, far more often than anybody writes to it. A page is the same for every reader (nothing in
// it depends on who asks), so the serialized reply is kept per (channel, limit) under the store's
// history version (MessageStore.historyVersion) and reused while that version holds, as UTF-8
// bytes (a 22 KB page is not re-encoded per reply). The caller authorizes every request before it
// gets here; this only skips the read, the serialization and the encoding.
//
// Bounded by total body size, least recently used first out. Stores that cannot version a page
// (PostgreSQL: other nodes write) get no entries.
//
// The version also makes the page's ETag (etag()): a client that already has the page gets a 304
// without it being read or sent. The tag carries this process's instance id, because the store's
// version restarts with the process and must never match a tag handed out before.
import { randomBytes } from 'node:crypto';

/** Total bytes of the bodies kept: a page of 50 short messages is ~22 KB, so a few hundred channels. */
export const HISTORY_PAGES_MAX_BYTES = 8 * 1024 * 1024;

interface Entry {
  version: string;
  body: Buffer;
}

export class HistoryPages {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  /** Random per process: see the header. */
  private readonly instance = randomBytes(6).toString('base64url');

  constructor(private readonly maxBytes = HISTORY_PAGES_MAX_BYTES) {}

  /** The strong ETag of (channel, limit) at `version`: equal tags mean equal bodies. */
  etag(channelId: string, limit: number, version: string): string {
    return `"h.${this.instance}.${channelId}.${limit}.${version}"`;
  }

  /**
   * The body for (channelId, limit) at `version`, from the cache or from `load` (which reads the
   * page now — after the version was read, see MessageStore.historyVersion — and serializes it).
   * The returned bytes are shared: send them, never change them.
   */
  async get(channelId: string, limit: number, version: string, load: () => Promise<string>): Promise<Buffer> {
    const key = `${channelId} ${limit}`;
    const e = this.entries.get(key);
    if (e && e.version === version) {
      // Re-inserted: a Map iterates in insertion order, so the first key is the least recently used.
      this.entries.delete(key);
      this.entries.set(key, e);
      this.hits++;
      return e.body;
    }
    this.misses++;
    const body = Buffer.from(await load(), 'utf8');
    this.put(key, { version, body });
    return body;
  }

  private put(key: string, e: Entry): void {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.body.length;
    }
    if (e.body.length > this.maxBytes) return;
    this.entries.set(key, e);
    this.bytes += e.body.length;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= v.body.length;
    }
  }

  /** Entries and their size (tests, metrics). */
  size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}
