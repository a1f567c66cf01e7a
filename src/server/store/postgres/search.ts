// PostgreSQL search (SearchStore): messages.search_tsv (a stored generated tsvector) + GIN,
// schema in search-schema.ts.
//
// A search is one candidate statement and one page read:
// 1. Candidates: every condition in one WHERE — the tsquery (tsquery.ts; with from:/in: as
//    author/channel lexemes, so the GIN index intersects them), membership as
//    `channel_id IN (the caller's channels)`, the filters — ORDER BY id DESC (ids are
//    time-ordered: newest first) LIMIT window. For a common word the planner walks messages_pkey
//    backwards and stops after `window` rows; for a rare one it takes a GIN bitmap and sorts the
//    few matches. The window's texts come back for ranking (rank.ts). Date filters also bound the id range
//    (an id's first 10 characters are its creation time), so `before:` starts the backward walk
//    at that time. The statement runs under SET LOCAL statement_timeout (bounds.timeoutMs); a
//    timeout is answered as a 400 telling the caller to narrow the search.
// 2. The page's rows and reactions by id.
import type pg from 'pg';
import { AppError, badRequest } from '../../errors.js';
import { newId } from '../../ids.js';
import type { SearchSpec } from '../../search/ast.js';
import { rank, type Candidate } from '../../search/rank.js';
import { countPrefixTerms, tokens } from '../../search/text.js';
import { allOf, anyOf, idLexemes, prefixLiteral } from '../../search/tsquery.js';
import type { ChannelType } from '../../../protocol/objects.js';
import type { SearchChannel } from '../../../protocol/search.js';
import type { SearchBounds, SearchResult, SearchStore } from '../search-store.js';
import { likeEscape, tx, txWith } from './db.js';
import { groupReactions, MESSAGE_COLS, type MessageRow, type ReactionRow, toMessage } from './rows.js';
import { createSearchIndex, SEARCH_GIN_INDEX } from './search-schema.js';

/** How far a message's id time may trail its created_at (both are taken at send). */
const DRIFT_MS = 60_000;
const idFloor = (ms: number) => newId(Math.max(0, ms)).slice(0, 10);
const WEEK_MS = 604_800_000;
/** statement_timeout of suggest's query (type-ahead: a slow answer is a useless one). */
const SUGGEST_TIMEOUT_MS = 1000;
const weekOf = (ms: number) => Math.floor(ms / WEEK_MS);
/** Suggest's sample: rows read from the caller's channels, newest first (see suggestTerms). */
const SUGGEST_SCAN = 400;
const SUGGEST_PER_CHANNEL_MIN = 4;

/** Estimated share of messages matching: below it, probing by weeks (see probeWeeks). */
const PROBE_BELOW = 0.05;
/** A prefix's share: the listed lexemes it starts, summed (a lower bound), or "rare". */
function prefixShare(st: LexemeStats, prefix: string): number {
  let sum = 0;
  for (const [lexeme, freq] of st.freq) if (lexeme.startsWith(prefix)) sum += freq;
  return sum > 0 ? Math.min(1, sum) : st.minFreq / 2;
}

/** A page row: the message and what a hit shows of its channel and author. */
interface PageRow extends MessageRow {
  channel_name: string | null;
  channel_type: ChannelType;
  author_username: string;
  author_display_name: string;
}

/** How long the lexeme frequencies read from pg_stats are reused (ms). */
const STATS_TTL_MS = 5 * 60_000;
/**
 * "No statistics yet" is remembered this long: before its first ANALYZE a database has none, and
 * reading pg_stats on every search cost a round trip and ~1.7 ms of planning each (the view's
 * planning, pg_stat_statements track_planning, the API scenario on a fresh database, 2026-12-02).
 * Short, so that the first autovacuum ANALYZE is picked up within seconds.
 */
const NO_STATS_TTL_MS = 10_000;

export interface LexemeStats {
  at: number;
  freq: Map<string, number>;
  /** The lowest frequency pg_stats lists: anything absent is rarer than this. */
  minFreq: number;
  /** Messages (pg_class.reltuples) and the oldest message's time, for the plan's row estimates. */
  rows?: number;
  firstMs?: number;
}

/**
 * Whether to look at the newest weeks first. The plain query is right at both ends: for a
 * common match (≥ PROBE_BELOW of messages) the backward primary-key walk finds the window in a
 * few thousand rows; for a rare one (rarer than anything pg_stats lists) the GIN bitmap holds
 * few rows. In between, the walk tests tens of thousands of rows per window and the bitmap
 * fetches every match, so weeks (a GIN intersection each) are cheaper. The share is estimated
 * as the product of the terms' frequencies (tokens, authors; channels summed; a prefix: the
 * listed lexemes it starts, summed). A phrase is rarer than that product, which only favours the
 * probes ("the build" at 1M: the walk tested 477,000 rows in 1.0 s, the probes took 0.2 s).
 * Without statistics: the plain query.
 */
export function probeWeeks(spec: Pick<SearchSpec, 'include' | 'authorIds' | 'channelIds'>, st: LexemeStats | undefined): boolean {
  if (!st) return false;
  const f = (lexeme: string) => st.freq.get(lexeme) ?? st.minFreq / 2;
  let share = 1;
  for (const t of spec.include) {
    t.tokens.forEach((tok, i) => {
      share *= t.kind === 'prefix' && i === t.tokens.length - 1 ? prefixShare(st, tok) : f(tok);
    });
  }
  if (spec.authorIds.length)
    share *= Math.min(
      1,
      spec.authorIds.reduce((sum, a) => sum + f(`@${a}`), 0),
    );
  if (spec.channelIds.length)
    share *= Math.min(
      1,
      spec.channelIds.reduce((sum, ch) => sum + f(`#${ch}`), 0),
    );
  return share < PROBE_BELOW && share >= st.minFreq;
}

/** How a search reads its candidates (planSearch). */
export type SearchPlan =
  | { kind: 'plain' }
  | { kind: 'walk' }
  | {
      kind: 'gin';
      /** Prefix terms too common for the GIN index (their match is tested per row). */
      filterTerms: SearchSpec['include'];
      /** The caller's channels as '#<id>' lexemes in the GIN condition. */
      scopeLexemes: boolean;
      /** Week probe spans (cumulative, newest first) before the rest; empty: one query. */
      spans: number[];
    };

/** The first probe of a search with a prefix term: at most this many weeks. */
const PREFIX_FIRST_WEEKS = 4;
/** A prefix this common is tested per row, not collected from the GIN index (see planSearch). */
const PREFIX_IN_INDEX_BELOW = 0.1;
/**
 * Shares of messages passing the filters tested per row (they have no lexeme), measured on the
 * seeded 1M workspace (links 7%, thread messages 19%): they only size the probes.
 */
const ROW_FILTER_SHARE = { link: 0.07, file: 0.01, image: 0.005, thread: 0.2 } as const;
/** The caller's channels go into the GIN condition when they hold less than this share. */
const SCOPE_IN_INDEX_BELOW = 0.5;

/**
 * The plan of a search, from ANALYZE's lexeme frequencies (no statistics: the planner's own
 * choice). `p` = the share of all messages that match: the words' shares multiplied (a
 * prefix: the listed lexemes it starts, summed), × the caller's channels' share (their
 * '#<id>' lexemes summed: a member of 12 channels reads ~3% of a 1M workspace), × the authors'.
 * - walk: the primary key backwards, every condition tested per row, until the window is full:
 *   ~window / p rows. Cheapest when a match is common (p ≥ √(window × weeks / messages),
 *   ~0.23 at 1M, 52 weeks, window 1,000): one week of matches would be more rows than that.
 * - gin: one GIN condition of the words (AND), the caller's channels (OR of '#<id>', when they
 *   are under half the messages) and the newest weeks ('~<week>'), so the heap is read for
 *   matches only. The first span is the weeks expected to hold the window (× 1.5), the second
 *   4× that, then the rest: usually one statement. A prefix matching ≥ 10% of messages is
 *   tested per row instead (GIN collects every item of every lexeme a prefix starts into a
 *   bitmap: ~700,000 for `th*`).
 */
export function planSearch(
  spec: Pick<SearchSpec, 'include' | 'authorIds' | 'channelIds'> & Partial<Pick<SearchSpec, 'has' | 'isThread'>>,
  st: LexemeStats | undefined,
  scope: readonly string[],
  window: number,
  top: string,
): SearchPlan {
  if (!st?.rows || st.firstMs === undefined) return { kind: 'plain' };
  const f = (lexeme: string) => st.freq.get(lexeme) ?? st.minFreq / 2;
  const filterTerms: SearchSpec['include'] = [];
  let words = 1;
  for (const t of spec.include) {
    t.tokens.forEach((tok, i) => {
      const prefix = t.kind === 'prefix' && i === t.tokens.length - 1;
      const share = prefix ? prefixShare(st, tok) : f(tok);
      if (prefix && share >= PREFIX_IN_INDEX_BELOW) filterTerms.push(t);
      words *= share;
    });
  }
  const sum = (sigil: string, ids: readonly string[]) =>
    Math.min(
      1,
      ids.reduce((a, id) => a + f(`${sigil}${id}`), 0),
    );
  const channels = sum('#', scope);
  const authors = spec.authorIds.length ? sum('@', spec.authorIds) : 1;
  let rowFilters = spec.isThread ? ROW_FILTER_SHARE.thread : 1;
  for (const h of spec.has ?? []) rowFilters *= ROW_FILTER_SHARE[h];
  const p = Math.max(words * channels * authors * rowFilters, 1e-9);
  const weeks = Math.max(1, weekOf(timeOfId(top)) - weekOf(st.firstMs) + 1);
  if (p * p >= (window * weeks) / st.rows) return { kind: 'walk' };
  // A prefix's share is a lower bound (the listed lexemes it starts; `kr*` starts none of them
  // but 850 rare ones, 5,400 matches in one caller's channels): start with at most 4 weeks.
  const prefix = spec.include.some((t) => t.kind === 'prefix');
  const need = Math.min(Math.ceil((1.5 * window * weeks) / (p * st.rows)), prefix ? PREFIX_FIRST_WEEKS : Number.POSITIVE_INFINITY);
  const spans = need >= weeks ? [] : need * 4 >= weeks ? [need] : [need, need * 4];
  const scopeLexemes = channels < SCOPE_IN_INDEX_BELOW;
  // Nothing for the GIN index to narrow (a filter-only search over most messages): walk.
  if (!scopeLexemes && !spec.authorIds.length && !spec.channelIds.length && filterTerms.length === spec.include.length)
    return { kind: 'walk' };
  return { kind: 'gin', filterTerms, scopeLexemes, spans };
}

export class PostgresSearch implements SearchStore {
  private lexemes?: LexemeStats;
  /** When the last stats read found none (a database not yet ANALYZEd), for NO_STATS_TTL_MS. */
  private noStatsAt?: number;

  constructor(private readonly pool: pg.Pool) {}

  /**
   * ANALYZE's most common lexemes of search_tsv and their frequencies (1,000 at the default
   * statistics target), cached for STATS_TTL_MS. Undefined before the first ANALYZE.
   */
  private async lexemeStats(c: pg.PoolClient): Promise<LexemeStats | undefined> {
    if (this.lexemes && Date.now() - this.lexemes.at < STATS_TTL_MS) return this.lexemes;
    if (this.noStatsAt !== undefined && Date.now() - this.noStatsAt < NO_STATS_TTL_MS) return undefined;
    const r = await c.query<{ elems: string[] | null; freqs: number[] | null; rows: number | null; first: string | null }>({
      name: 'nchat_search_stats',
      text: `SELECT most_common_elems::text::text[] AS elems, most_common_elem_freqs::float8[] AS freqs,
              (SELECT reltuples::float8 FROM pg_class WHERE oid = 'messages'::regclass) AS rows,
              (SELECT min(id) FROM messages) AS first
       FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'messages' AND attname = 'search_tsv'`,
    });
    const row = r.rows[0];
    if (!row?.elems || !row.freqs) {
      this.noStatsAt = Date.now();
      return undefined;
    }
    this.noStatsAt = undefined;
    const freq = new Map<string, number>();
    row.elems.forEach((e, i) => freq.set(e, row.freqs![i]!));
    // The array ends with the minimum, the maximum and the null frequency (pg_stats docs).
    this.lexemes = {
      at: Date.now(),
      freq,
      minFreq: row.freqs[row.elems.length] ?? 0,
      rows: Math.max(1, Number(row.rows ?? 1)),
      firstMs: row.first ? timeOfId(row.first) : Date.now(),
    };
    return this.lexemes;
  }

  async search(spec: SearchSpec, bounds: SearchBounds): Promise<SearchResult> {
    const { rows, top } = await this.candidates(spec, bounds, spec.sort === 'relevance' && spec.include.length > 0);
    const nowMs = top.length >= 10 ? timeOfId(top) : Date.now();
    const cands: Candidate[] = rows.map((r, i) => ({ id: r.id, text: r.text, createdAtMs: r.ms, order: i }));
    const page = rank(cands, spec.include, spec.sort, nowMs).slice(spec.offset, spec.offset + spec.limit);
    const base = { total: rows.length, totalExact: rows.length < bounds.window, snapshot: top };
    if (page.length === 0) return { hits: [], ...base };
    const ids = page.map((p) => p.id);
    const msgs = await this.pool.query<PageRow>({
      name: 'nchat_search_page',
      text: `SELECT ${MESSAGE_COLS}, c.name AS channel_name, c.type AS channel_type, u.username AS author_username,
              u.display_name AS author_display_name
       FROM messages m JOIN channels c ON c.id = m.channel_id JOIN users u ON u.id = m.author_id
       WHERE m.id = ANY($1::text[])`,
      values: [ids],
    });
    const byId = new Map(msgs.rows.map((r) => [r.id, r]));
    const withReactions = msgs.rows.some((r) => Number(r.reaction_count) > 0);
    const reactions = withReactions
      ? groupReactions(
          (
            await this.pool.query<ReactionRow>(
              `SELECT message_id, user_id, emoji FROM reactions WHERE message_id = ANY($1::text[])
               ORDER BY created_at, user_id, emoji`,
              [ids],
            )
          ).rows,
        )
      : new Map();
    const hits = page.flatMap((p) => {
      const row = byId.get(p.id);
      if (!row) return [];
      const channel = { id: row.channel_id, name: row.channel_name, type: row.channel_type };
      const author = { id: row.author_id, username: row.author_username, displayName: row.author_display_name };
      return [{ message: toMessage(row, reactions.get(p.id) ?? []), channel, author, score: p.score }];
    });
    return { hits, ...base };
  }

  /** Step 1: the window's candidates, newest first, with their texts when `withText`. */
  private async candidates(
    spec: SearchSpec,
    bounds: SearchBounds,
    withText: boolean,
  ): Promise<{ rows: { id: string; ms: number; text: string }[]; top: string }> {
    if (spec.snapshot !== undefined && !/^[0-9a-z]{1,22}$/.test(spec.snapshot)) throw badRequest('invalid search cursor');
    const params: unknown[] = [];
    const bind = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const text = withText ? 'm.text' : "''";
    // jit off: a probe's estimated cost can pass jit_above_cost, and compiling costs more than
    // the few thousand rows a search reads. Sent with the BEGIN (one round trip less).
    const settings = `SET LOCAL statement_timeout = ${Math.max(1, Math.floor(bounds.timeoutMs))}; SET LOCAL jit = off`;
    const result = await txWith(this.pool, settings, async (c) => {
      // The newest id (the snapshot of a first page) and the caller's channels, read once here
      // in the search's transaction: membership as of this query.
      const head = await c.query<{ top: string | null; chans: string[] }>({
        name: spec.snapshot === undefined ? 'nchat_search_head' : 'nchat_search_head_at',
        text: `SELECT ${spec.snapshot === undefined ? '(SELECT max(id) FROM messages)' : '$2::text'} AS top,
                ARRAY(SELECT cm.channel_id FROM channel_members cm WHERE cm.user_id = $1) AS chans`,
        values: spec.snapshot === undefined ? [spec.userId] : [spec.userId, spec.snapshot],
      });
      const top = head.rows[0]?.top ?? '0';
      let scope = head.rows[0]?.chans ?? [];
      if (spec.channelIds.length) scope = scope.filter((ch) => spec.channelIds.includes(ch));
      if (scope.length === 0) return { rows: [], top };
      const st = await this.lexemeStats(c);
      const plan = planSearch(spec, st, scope, bounds.window, top);
      if (plan.kind === 'gin') await c.query('SET LOCAL enable_indexscan = off');
      // The walk is the primary key backwards, stopping when the window is full. On a table of a
      // few thousand rows the planner (which cannot see a per-row function's selectivity)
      // preferred a seq scan of every row and a sort: 3.8 ms against 1.0 ms for the walk
      // (EXPLAIN ANALYZE, 'alpha' in a third of 6,084 messages, 2026-12-02); the walk's cost stays
      // the window's, however large the table grows.
      else if (plan.kind === 'walk') await c.query('SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off');

      // Permission and filters, tested per row. `(m.channel_id || '')`: not an index condition,
      // so the planner neither ANDs a btree bitmap of the channels nor loops over them.
      const conds = [`(m.channel_id || '') = ANY(${bind(scope)}::text[])`, 'm.deleted_at IS NULL'];
      if (spec.authorIds.length) conds.push(`m.author_id = ANY(${bind(spec.authorIds)}::text[])`);
      const exc = anyOf(spec.exclude, bind);
      if (exc) conds.push(`NOT ts_match_vq(m.search_tsv, ${exc})`);
      if (spec.after) {
        conds.push(`m.created_at >= ${bind(spec.after)}`, `m.id >= ${bind(idFloor(Date.parse(spec.after) - DRIFT_MS))}`);
      }
      if (spec.before) {
        conds.push(`m.created_at < ${bind(spec.before)}`, `m.id < ${bind(idFloor(Date.parse(spec.before) + DRIFT_MS))}`);
      }
      if (spec.isThread) conds.push('(m.parent_id IS NOT NULL OR m.reply_count > 0)');
      if (spec.has.includes('link')) conds.push("strpos(m.text, '://') > 0");
      if (spec.has.includes('file')) conds.push('EXISTS (SELECT 1 FROM message_files mf WHERE mf.message_id = m.id)');
      if (spec.has.includes('image')) conds.push('EXISTS (SELECT 1 FROM message_files mf WHERE mf.message_id = m.id AND mf.is_image)');
      // The snapshot as a filter, not an index condition: `m.id <= top` let the planner AND the
      // GIN bitmap with a bitmap of nearly the whole primary key (227 ms at 1M, S2's EXPLAIN);
      // written on an expression it is tested per row instead, which the newest-first walk needs
      // only for the few messages sent after the first page. A first page needs no bound at all.
      if (spec.snapshot !== undefined) conds.push(`(m.id || '') <= ${bind(top)}`);

      // The GIN condition (index) and the rest of the match (per row: ts_match_vq is the @@
      // operator as a function, which the planner never takes as an index condition).
      const idTerms: string[] = [];
      if (spec.authorIds.length) idTerms.push(`${bind(idLexemes('@', spec.authorIds))}::tsquery`);
      if (spec.channelIds.length) idTerms.push(`${bind(idLexemes('#', spec.channelIds))}::tsquery`);
      const gin: string[] = [];
      const filter: string[] = [];
      if (plan.kind === 'plain') {
        // No statistics yet: one statement, the planner's choice (a small or fresh database).
        const all = allOf(spec.include, bind);
        if (all) gin.push(all);
        gin.push(...idTerms);
      } else if (plan.kind === 'walk') {
        const all = allOf(spec.include, bind);
        if (all) filter.push(all);
      } else {
        // One GIN scan key per term and per id group: GIN intersects keys by skipping through
        // each one's posting lists, where one key of many lexemes tests the whole tsquery per
        // item of its rarest group (half the CPU for 'have' in 12 channels, EXPLAIN ANALYZE).
        for (const t of spec.include) {
          if (plan.filterTerms.includes(t)) continue;
          const one = allOf([t], bind);
          if (one) gin.push(one);
        }
        const inFilter = allOf(plan.filterTerms, bind);
        if (inFilter) filter.push(inFilter);
        gin.push(...idTerms);
        if (plan.scopeLexemes && !spec.channelIds.length) gin.push(`${bind(idLexemes('#', scope))}::tsquery`);
      }
      if (filter.length) conds.push(`ts_match_vq(m.search_tsv, (${filter.join(' && ')}))`);

      const rows: { id: string; ms: number; text: string }[] = [];
      const query = async (extra: string[], extraParams: unknown[]) => {
        const all = [...params, ...extraParams];
        const sql = `SELECT m.id, (extract(epoch FROM m.created_at) * 1000)::float8 AS ms, ${text} AS text
                     FROM messages m WHERE ${[...conds, ...extra].join(' AND ')}
                     ORDER BY m.id DESC LIMIT $${all.length + 1}`;
        all.push(bounds.window - rows.length);
        rows.push(...(await c.query<{ id: string; ms: number; text: string }>(sql, all)).rows);
      };
      const ginSql = gin.length ? gin.map((g) => `m.search_tsv @@ ${g}`).join(' AND ') : undefined;
      try {
        if (plan.kind !== 'gin' || !ginSql || plan.spans.length === 0 || top.length < 10) {
          await query(ginSql ? [ginSql] : [], []);
        } else {
          // Newest weeks first (0005's '~<week>' lexemes): each probe is one GIN intersection
          // and fetches only that span's matches; stop once the window is full.
          const n = params.length;
          const topWeek = weekOf(Math.min(timeOfId(top), spec.before ? Date.parse(spec.before) : Number.POSITIVE_INFINITY));
          const afterWeek = spec.after ? weekOf(Date.parse(spec.after)) : Number.NEGATIVE_INFINITY;
          let newest = topWeek;
          for (const span of plan.spans) {
            const oldest = Math.max(topWeek - span + 1, afterWeek);
            if (oldest <= newest) {
              const weeks = Array.from({ length: newest - oldest + 1 }, (_, i) => `'~${newest - i}'`).join(' | ');
              await query([ginSql, `m.search_tsv @@ $${n + 1}::tsquery`], [weeks]);
            }
            newest = topWeek - span;
            if (rows.length >= bounds.window || newest < afterWeek) break;
          }
          if (rows.length < bounds.window && newest >= afterWeek) {
            const start = (newest + 1) * WEEK_MS;
            await query(
              [ginSql, `m.created_at < $${n + 1}`, `m.id < $${n + 2}`],
              [new Date(start).toISOString(), idFloor(start + DRIFT_MS)],
            );
          }
        }
        return { rows, top };
      } catch (err) {
        if ((err as { code?: string }).code === '57014') {
          throw new AppError('BAD_REQUEST', 'the search took too long; narrow it with more words or filters');
        }
        throw err;
      }
    });
    return result;
  }

  /**
   * Type-ahead terms, counted over the caller's recent messages: the newest of each of the
   * caller's channels (SUGGEST_SCAN rows in all, split evenly, at least SUGGEST_PER_CHANNEL_MIN
   * per channel: messages_channel_seq_key backwards), the prefix tested per row, the newest
   * `sample` matches kept. Bounded work whatever the prefix. Not the GIN index: a short prefix
   * is a partial match that unions the posting lists of every lexeme it starts before anything
   * else narrows it ('kr', 'tr' at 1M: 131,000 and 141,000 items, 15–36 ms of backend CPU per
   * statement), and ANALYZE cannot tell which prefixes are short lists: it lists 1,000 lexemes,
   * and 'grai', which starts none of them, is in 18,776 messages. 800 rows read this way took
   * 3–5 ms in EXPLAIN ANALYZE; 400 are read (2026-12-01: suggestTerms serial on the 1M seed,
   * mean 11.8 → 1.4 ms, p95 26.6 → 2.9 ms). The price: a word not used in the caller's recent
   * messages is not suggested; a prefix* search still finds it.
   */
  async suggestTerms(userId: string, prefix: string, limit: number, sample: number): Promise<{ term: string; count: number }[]> {
    const toks = tokens(prefix);
    const p = toks[toks.length - 1];
    if (toks.length !== 1 || !p || p.length < 2) return [];
    const suggestSettings = `SET LOCAL statement_timeout = ${SUGGEST_TIMEOUT_MS}; SET LOCAL jit = off`;
    const recent = await txWith(this.pool, suggestSettings, async (c) => {
      const r = await c.query<{ text: string }>(
        `WITH mine AS (SELECT array_agg(channel_id) AS ids, count(*) AS n FROM channel_members WHERE user_id = $1)
         SELECT x.text FROM mine, unnest(mine.ids) AS ch
         CROSS JOIN LATERAL (
           SELECT m.id, m.text, m.search_tsv FROM messages m
           WHERE m.channel_id = ch AND m.deleted_at IS NULL
           ORDER BY m.seq DESC LIMIT greatest(${SUGGEST_PER_CHANNEL_MIN}, ceil(${SUGGEST_SCAN}::float8 / mine.n)::int)
         ) x
         WHERE ts_match_vq(x.search_tsv, to_tsquery('pg_catalog.simple', $2))
         ORDER BY x.id DESC LIMIT $3`,
        [userId, prefixLiteral([p]), sample],
      );
      return r.rows.map((row) => row.text);
    });
    return countPrefixTerms(recent, p, limit);
  }

  async memberChannels(userId: string, by: { names: string[] } | { prefix: string }, limit: number): Promise<SearchChannel[]> {
    const base = `SELECT c.id, c.name, c.type FROM channel_members cm JOIN channels c ON c.id = cm.channel_id
                  WHERE cm.user_id = $1 AND c.name IS NOT NULL`;
    if ('names' in by) {
      if (by.names.length === 0) return [];
      const names = by.names.map((n) => n.toLowerCase());
      return (
        await this.pool.query<SearchChannel>(`${base} AND lower(c.name) = ANY($2::text[]) ORDER BY c.name LIMIT $3`, [userId, names, limit])
      ).rows;
    }
    return (
      await this.pool.query<SearchChannel>(`${base} AND lower(c.name) LIKE $2 ORDER BY c.name LIMIT $3`, [
        userId,
        `${likeEscape(by.prefix.toLowerCase())}%`,
        limit,
      ])
    ).rows;
  }

  async pauseIndexing(): Promise<void> {
    await this.pool.query(`DROP INDEX IF EXISTS ${SEARCH_GIN_INDEX}`);
  }

  async resumeIndexing(): Promise<void> {
    await tx(this.pool, async (c) => {
      await c.query("SET LOCAL maintenance_work_mem = '256MB'");
      await c.query(createSearchIndex);
    });
    // Fresh statistics after a bulk load: the planner's estimates and probeWeeks() read them.
    await this.pool.query('ANALYZE messages');
    this.lexemes = undefined;
  }

  async stats(): Promise<{ documents: number; indexBytes: number }> {
    const r = await this.pool.query<{ documents: string; gin: string; tsv: string | null }>(
      `SELECT (SELECT count(*) FROM messages WHERE deleted_at IS NULL) AS documents,
              coalesce(pg_relation_size(to_regclass('${SEARCH_GIN_INDEX}')), 0) AS gin,
              (SELECT sum(pg_column_size(search_tsv)) FROM messages) AS tsv`,
    );
    const row = r.rows[0]!;
    return { documents: Number(row.documents), indexBytes: Number(row.gin) + Number(row.tsv ?? 0) };
  }
}

/** The creation time encoded in an id's first 10 characters (ids.ts). */
function timeOfId(id: string): number {
  const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
  let t = 0;
  for (const ch of id.slice(0, 10)) t = t * 32 + Math.max(0, alphabet.indexOf(ch));
  return t;
}
