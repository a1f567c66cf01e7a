// SQLite search (SearchStore): FTS5 over message text, schema and triggers in search-schema.ts;
// new messages are indexed after their send commits (search-indexer.ts), and every search first
// indexes what is queued, so it sees every send acknowledged before it.
//
// A search is two statements:
// 1. Candidates: the FTS MATCH (fts5.ts) walked rowid DESC — newest first, since doc ids follow
//    creation time — joined to search_docs and filtered by membership (and, when asked, by the
//    messages row: dates, is:thread, has:file/image/link), stopped after `window` rows, with the
//    texts when ranking by relevance (rank.ts scores them; FTS5's bm25() would first scan the
//    whole doclist of every query phrase). When the caller is in at most CHANNEL_TOKENS_MAX
//    channels (or named some with in:), those go into the MATCH as `ch` tokens, so FTS intersects
//    posting lists instead of walking matches the caller cannot read; with more channels an OR of
//    that many doclists costs more than it saves, and the membership EXISTS filters alone (it is
//    the authority in both cases). It filters alone too when the caller's channels carry at least
//    TOKENS_SKIP_SHARE of the newest docs (a small team where everyone is in every channel): few
//    matches are then walked in vain, and the doclist merge would cost more.
// 2. The page: its rows and reactions by id.
// Bound: better-sqlite3 exposes no progress handler, so a runaway statement cannot be
// interrupted; the work is bounded instead: at most `window` candidates, found among at most
// SCAN_MAX matches (or docs), newest first.
import { badRequest } from '../../errors.js';
import type { SearchSpec } from '../../search/ast.js';
import { fts5Match } from '../../search/fts5.js';
import { rank, type Candidate } from '../../search/rank.js';
import { suggestSpec } from '../../search/ast.js';
import { countPrefixTerms, tokens } from '../../search/text.js';
import type { SearchAuthor, SearchChannel } from '../../../protocol/search.js';
import type { SearchBounds, SearchResult, SearchStore } from '../search-store.js';
import { type Db, lazy } from './db.js';
import { groupReactions, M, MESSAGE_COLS, type MessageRow, type ReactionRow, toMessage } from './rows.js';
import { SearchReaders } from './search-readers.js';
import { SearchTexts } from './search-texts.js';
import type { SearchIndexer } from './search-indexer.js';
import { dropSearchTriggers, searchBackfill, searchTriggers } from './search-schema.js';

/** Channels put into the MATCH as tokens; above this the membership join alone filters. */
export const CHANNEL_TOKENS_MAX = 32;
/**
 * Matches (or, without any FTS clause, docs) one search examines at most, newest first: the
 * bound on a search whose matches are mostly in channels the caller cannot read. Past it the
 * search answers with what it found (totalExact false).
 */
export const SCAN_MAX = 20_000;
/**
 * The caller's channels are left out of the MATCH (the membership check alone filters) when they
 * hold at least this share of the newest docs: a newest-first walk then passes at least one match
 * in 1/share to the window, which costs less than FTS merging the doclists of every one of those
 * channels. Measured on a copy of the API scenario's database (12,007 docs, 10 channels, a common
 * word, the page cache dropped by a commit before each search): with the tokens / without,
 * 3.1 / 2.3 ms at 10 of 10 channels, 2.1 / 1.9 ms at 5, 2.2 / 2.2 at 3, 2.6 / 2.8 at 2.
 */
export const TOKENS_SKIP_SHARE = 0.5;
/** Newest docs sampled for that share, and how long one sample serves (per connection). */
export const SHARE_SAMPLE = 256;
const SHARE_SAMPLE_MS = 1000;
/** Doc ids are createdAt ms × 1024 (search-schema.ts). */
const ID_SCALE = 1024;

interface CandRow {
  rid: number;
  id: string;
  text: string;
}

export class SqliteSearch implements SearchStore {
  private readonly readers?: SearchReaders;
  /** The candidates' texts this connection read (search-texts.ts). */
  private readonly texts = new SearchTexts();
  /** recentDocs()'s sample and when it was read. */
  private sample?: { at: number; channels: string[] };

  /**
   * With `readers` (the database file and a thread count), search and suggestTerms run on reader
   * threads (search-readers.ts); without, on this connection. The rest always runs here.
   */
  /**
   * `indexer` (main connection only): flushed before every search, suggestTerms and stats, so
   * they see every message committed before the call (read-your-writes; search-indexer.ts).
   * Reader threads get none: their connection is read-only, and the main thread has flushed
   * before it hands them a call.
   */
  constructor(
    private readonly db: Db,
    readers?: { file: string; count: number },
    private readonly indexer?: SearchIndexer,
    /** The store's count of edits and deletes (main connection only; search-texts.ts). */
    private readonly textEpoch: () => number = () => 0,
  ) {
    if (readers && readers.count > 0) {
      this.readers = new SearchReaders(readers.file, readers.count, (op, args) =>
        op === 'search'
          ? this.searchSync(...(args as Parameters<SqliteSearch['searchSync']>))
          : this.suggestTermsSync(...(args as Parameters<SqliteSearch['suggestTermsSync']>)),
      );
    }
  }

  /** Stops the reader threads (SqliteStore.close, before the main connection closes). */
  async closeReaders(): Promise<void> {
    await this.readers?.close();
  }

  private readonly q = lazy(() => ({
    channelsOf: this.db.prepare('SELECT channel_id FROM members WHERE user_id = ?').pluck(),
    maxDoc: this.db.prepare('SELECT coalesce(max(id), 0) FROM search_docs').pluck(),
    texts: this.db.prepare('SELECT id, text FROM messages WHERE id IN (SELECT value FROM json_each(?))').raw(),
    recentChannels: this.db.prepare('SELECT channel_id FROM search_docs ORDER BY id DESC LIMIT ?').pluck(),
    docs: this.db.prepare('SELECT count(*) FROM search_docs').pluck(),
    rows: this.db.prepare(`SELECT ${MESSAGE_COLS} FROM messages WHERE id IN (SELECT value FROM json_each(?))`).raw(),
    channels: this.db.prepare('SELECT id, name, type FROM channels WHERE id IN (SELECT value FROM json_each(?))'),
    authors: this.db.prepare('SELECT id, username, display_name AS displayName FROM users WHERE id IN (SELECT value FROM json_each(?))'),
    reactions: this.db.prepare(
      `SELECT message_id, user_id, emoji FROM reactions WHERE message_id IN (SELECT value FROM json_each(?))
       ORDER BY created_at, user_id, emoji`,
    ),
  }));

  /** Statements vary with the filters present; a handful of shapes, each prepared once. */
  private readonly stmts = new Map<string, ReturnType<Db['prepare']>>();
  private stmt(sql: string) {
    let s = this.stmts.get(sql);
    if (!s) this.stmts.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  async search(spec: SearchSpec, bounds: SearchBounds): Promise<SearchResult> {
    this.indexer?.flush();
    const epoch = this.textEpoch();
    return this.readers ? this.readers.call<SearchResult>('search', [spec, bounds, epoch]) : this.searchSync(spec, bounds, epoch);
  }

  async suggestTerms(userId: string, prefix: string, limit: number, sample: number): Promise<{ term: string; count: number }[]> {
    this.indexer?.flush();
    const epoch = this.textEpoch();
    return this.readers
      ? this.readers.call('suggestTerms', [userId, prefix, limit, sample, epoch])
      : this.suggestTermsSync(userId, prefix, limit, sample, epoch);
  }

  /**
   * search() on this thread's connection (the reader threads call this). `epoch`: the store's
   * edit count when the search was asked (search-texts.ts).
   */
  searchSync(spec: SearchSpec, bounds: SearchBounds, epoch: number): SearchResult {
    this.texts.sync(epoch);
    const withText = spec.sort === 'relevance' && spec.include.length > 0;
    const { rows, top, capped } = this.candidates(spec, bounds.window, withText);
    const totalExact = rows.length < bounds.window && !capped;
    const q = this.q();
    const nowMs = Math.floor(top / ID_SCALE) || Date.now();
    const empty: SearchResult = { hits: [], total: 0, totalExact: true, snapshot: String(top) };
    const cands: Candidate[] = rows.map((r, i) => ({
      id: r.id,
      text: r.text,
      // Ranked by these (withText is exactly when rank() scores texts): kept with the text.
      tokens: withText ? this.texts.scoredTokens(r.id, r.text) : undefined,
      createdAtMs: Math.floor(r.rid / ID_SCALE),
      order: i,
    }));
    const ranked = rank(cands, spec.include, spec.sort, nowMs).slice(spec.offset, spec.offset + spec.limit);
    const byId = new Map<string, MessageRow>();
    if (ranked.length) {
      const ids = JSON.stringify(ranked.map((r) => r.id));
      for (const r of q.rows.all(ids) as MessageRow[]) byId.set(r[0], r);
      const reactions = groupReactions(q.reactions.all(ids) as ReactionRow[]);
      const rowsOf = [...byId.values()];
      const channels = new Map(
        (q.channels.all(JSON.stringify([...new Set(rowsOf.map((r) => r[M.channelId]))])) as SearchChannel[]).map((c) => [c.id, c]),
      );
      const authors = new Map(
        (q.authors.all(JSON.stringify([...new Set(rowsOf.map((r) => r[3]))])) as SearchAuthor[]).map((a) => [a.id, a]),
      );
      const hits = ranked.flatMap((r) => {
        const row = byId.get(r.id);
        const channel = row && channels.get(row[M.channelId]);
        const author = row && authors.get(row[3]);
        return row && channel && author ? [{ message: toMessage(row, reactions.get(r.id) ?? []), channel, author, score: r.score }] : [];
      });
      return { hits, total: rows.length, totalExact, snapshot: String(top) };
    }
    return { ...empty, total: rows.length, totalExact };
  }

  /**
   * The candidates' texts (for ranking only): from this connection's cache (search-texts.ts),
   * the others read in one statement and kept.
   */
  private fillTexts(rows: CandRow[]): void {
    const missing: CandRow[] = [];
    for (const r of rows) {
      const t = this.texts.get(r.id);
      if (t === undefined) missing.push(r);
      else r.text = t;
    }
    if (missing.length === 0) return;
    const read = new Map(this.q().texts.all(JSON.stringify(missing.map((r) => r.id))) as [string, string][]);
    for (const r of missing) {
      const t = read.get(r.id);
      if (t === undefined) continue;
      r.text = t;
      this.texts.set(r.id, t);
    }
  }

  /** Step 1: the window's candidates, newest first, with their texts when `withText`. */
  private candidates(spec: SearchSpec, window: number, withText: boolean): { rows: CandRow[]; top: number; capped: boolean } {
    const q = this.q();
    const mine = q.channelsOf.all(spec.userId) as string[];
    const allowed = spec.channelIds.length ? spec.channelIds.filter((c) => mine.includes(c)) : mine;
    const top = spec.snapshot === undefined ? (q.maxDoc.get() as number) : snapshotOf(spec.snapshot);
    if (allowed.length === 0) return { rows: [], top, capped: false };
    // in: always needs its channels in the MATCH (the membership check would not restrict to them).
    const tokensAllowed = spec.channelIds.length > 0 || allowed.length <= CHANNEL_TOKENS_MAX;
    const tokens = spec.channelIds.length > 0 || (tokensAllowed && recentShare(this.recentDocs(), allowed) < TOKENS_SKIP_SHARE);
    let walk = this.walk(spec, window, top, tokens ? allowed : undefined);
    // Without the tokens the walk may stop at SCAN_MAX among matches the caller cannot read
    // (their channels were busy lately, but the words are elsewhere): then the token plan is
    // asked, so both plans answer alike whenever the tokens are allowed.
    if (!tokens && tokensAllowed && walk.capped) walk = this.walk(spec, window, top, allowed);
    if (withText) this.fillTexts(walk.rows);
    return { ...walk, top };
  }

  /** The channel ids of the newest SHARE_SAMPLE docs, read at most every SHARE_SAMPLE_MS on this connection. */
  private recentDocs(): string[] {
    const now = Date.now();
    if (!this.sample || now - this.sample.at > SHARE_SAMPLE_MS) {
      this.sample = { at: now, channels: this.q().recentChannels.all(SHARE_SAMPLE) as string[] };
    }
    return this.sample.channels;
  }

  /**
   * One candidate statement: the newest `window` matches within [lo, top] that pass the
   * membership check, with `channels` (when given) as `ch` tokens in the MATCH.
   */
  private walk(
    spec: SearchSpec,
    window: number,
    top: number,
    channels: readonly string[] | undefined,
  ): { rows: CandRow[]; capped: boolean } {
    let lo = 0;
    let hi = top;
    const msgConds: string[] = [];
    const params: Record<string, unknown> = { uid: spec.userId, window };
    if (spec.after) {
      lo = Date.parse(spec.after) * ID_SCALE;
      msgConds.push('m.created_at >= @after');
      params.after = spec.after;
    }
    if (spec.before) {
      hi = Math.min(hi, Date.parse(spec.before) * ID_SCALE - 1);
      msgConds.push('m.created_at < @before');
      params.before = spec.before;
    }
    if (spec.isThread) msgConds.push('(m.parent_id IS NOT NULL OR m.reply_count > 0)');
    if (spec.has.includes('link')) msgConds.push("instr(m.text, '://') > 0");
    if (spec.has.includes('file')) msgConds.push('EXISTS (SELECT 1 FROM message_files mf WHERE mf.message_id = m.id)');
    if (spec.has.includes('image')) msgConds.push('EXISTS (SELECT 1 FROM message_files mf WHERE mf.message_id = m.id AND mf.is_image = 1)');
    params.lo = lo;
    params.hi = hi;
    const match = fts5Match(spec, channels);
    const member = 'EXISTS (SELECT 1 FROM members mb WHERE mb.channel_id = d.channel_id AND mb.user_id = @uid)';

    params.scan = SCAN_MAX;
    let sql: string;
    if (match !== undefined) {
      params.match = match;
      // The FTS walk is a co-routine capped at SCAN_MAX matches; its order carries through (no
      // sort), so the join stops as soon as the window is full.
      sql = `SELECT f.rid AS rid, d.message_id AS id, '' AS text
             FROM (SELECT rowid AS rid FROM search_fts WHERE search_fts MATCH @match AND rowid BETWEEN @lo AND @hi
                   ORDER BY rowid DESC LIMIT @scan) f
             JOIN search_docs d ON d.id = f.rid
             WHERE ${member}
             ${msgConds.length ? `AND EXISTS (SELECT 1 FROM messages m WHERE m.id = d.message_id AND ${msgConds.join(' AND ')})` : ''}
             ORDER BY f.rid DESC LIMIT @window`;
    } else {
      // No FTS clause (filters only: dates, is:thread, has:file/image, many channels): newest docs
      // first, at most SCAN_MAX of them examined.
      sql = `SELECT d.id AS rid, d.message_id AS id, '' AS text
             FROM (SELECT id, message_id, channel_id FROM search_docs WHERE id BETWEEN @lo AND @hi ORDER BY id DESC LIMIT @scan) d
             WHERE ${member}
             ${msgConds.length ? `AND EXISTS (SELECT 1 FROM messages m WHERE m.id = d.message_id AND ${msgConds.join(' AND ')})` : ''}
             ORDER BY d.id DESC LIMIT @window`;
    }
    // text: '' until fillTexts (relevance only).
    const rows = this.stmt(sql).all(params) as CandRow[];
    // A short window may be short because the scan stopped: then the count is not exact.
    let capped = false;
    if (rows.length < window) {
      const walk =
        match !== undefined
          ? 'SELECT count(*) FROM (SELECT rowid FROM search_fts WHERE search_fts MATCH @match AND rowid BETWEEN @lo AND @hi LIMIT @scan)'
          : 'SELECT count(*) FROM (SELECT id FROM search_docs WHERE id BETWEEN @lo AND @hi LIMIT @scan)';
      capped = (this.stmt(walk).pluck().get({ match: params.match, lo, hi, scan: SCAN_MAX }) as number) >= SCAN_MAX;
    }
    return { rows, capped };
  }

  /** suggestTerms() on this thread's connection. */
  suggestTermsSync(userId: string, prefix: string, limit: number, sample: number, epoch: number): { term: string; count: number }[] {
    this.texts.sync(epoch);
    const toks = tokens(prefix);
    const p = toks[toks.length - 1];
    if (toks.length !== 1 || !p || p.length < 2) return [];
    const { rows } = this.candidates(suggestSpec(userId, p), sample, true);
    return countPrefixTerms(
      rows.map((r) => r.text),
      p,
      limit,
    );
  }

  async memberChannels(userId: string, by: { names: string[] } | { prefix: string }, limit: number): Promise<SearchChannel[]> {
    const base = `SELECT c.id, c.name, c.type FROM members mb JOIN channels c ON c.id = mb.channel_id
                  WHERE mb.user_id = @uid AND c.name IS NOT NULL`;
    if ('names' in by) {
      if (by.names.length === 0) return [];
      return this.stmt(`${base} AND lower(c.name) IN (SELECT lower(value) FROM json_each(@names)) ORDER BY c.name LIMIT @limit`).all({
        uid: userId,
        names: JSON.stringify(by.names),
        limit,
      }) as SearchChannel[];
    }
    // Channel names are ASCII-folded by lower() only; names are [\p{L}\p{N}._-], so escape LIKE's own.
    return this.stmt(`${base} AND c.name LIKE @pattern ESCAPE '\\' ORDER BY c.name LIMIT @limit`).all({
      uid: userId,
      pattern: `${by.prefix.replace(/[\\%_]/g, (m) => `\\${m}`)}%`,
      limit,
    }) as SearchChannel[];
  }

  async pauseIndexing(): Promise<void> {
    this.db.exec(dropSearchTriggers);
  }

  async resumeIndexing(): Promise<void> {
    this.db
      .transaction(() => {
        this.db.exec(dropSearchTriggers);
        this.db.exec(searchBackfill);
        // The backfill indexed every live message, queued ones included.
        this.db.exec('DELETE FROM search_pending');
        this.db.exec(searchTriggers);
      })
      .immediate();
  }

  /** Indexes every committed, still queued message now (search-indexer.ts). */
  async flushIndex(): Promise<void> {
    this.indexer?.flush();
  }

  async stats(): Promise<{ documents: number; indexBytes: number }> {
    this.indexer?.flush();
    const documents = this.q().docs.get() as number;
    const bytes = this.db
      .prepare("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'search\\_%' ESCAPE '\\'")
      .pluck()
      .get() as number;
    return { documents, indexBytes: bytes };
  }
}

/**
 * The share of `recent` (the channel ids of the newest docs) that is in `channels`: the share of a
 * newest-first walk the membership check lets through, if the words are spread like the traffic.
 * 0 (keep the tokens) when there are too few docs to tell.
 */
export function recentShare(recent: readonly string[], channels: readonly string[]): number {
  if (recent.length < SHARE_SAMPLE / 4) return 0;
  const set = new Set(channels);
  let n = 0;
  for (const c of recent) if (set.has(c)) n++;
  return n / recent.length;
}

function snapshotOf(s: string): number {
  const n = Number(s);
  if (!/^\d{1,18}$/.test(s) || !Number.isSafeInteger(n)) throw badRequest('invalid search cursor');
  return n;
}
