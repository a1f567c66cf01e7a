// Search (issue 10): parse → resolve names → the store's bounded, permission-filtered query →
// present (author, channel, snippet, cursor). The rules of what is found are SearchStore's
// (store/search-store.ts); this module owns the query language's edge cases, paging and limits.
//
// Paging: a search ranks one window of candidates (config.searchWindow); pages are offsets into
// it, and the cursor carries the offset and the store's snapshot so later pages neither shift
// nor show messages sent after the first one. So the deepest page ends at the window.
// Names: from:@alice / ?from= are usernames; in:#general names one of the caller's channels.
// A filter naming nobody the caller can see matches nothing (an empty page, never an error:
// whether a private channel exists is not revealed).
import type { SearchQuery, SearchReply, SuggestReply } from '../../protocol/search.js';
import { AppError, badRequest } from '../errors.js';
import { FixedWindowLimiter, type RateLimiter, unlimited } from '../lib/rate-limit.js';
import type { ParsedQuery, SearchSpec } from '../search/ast.js';
import { snippet } from '../search/highlight.js';
import { parseQuery } from '../search/parse.js';
import { tokens } from '../search/text.js';
import type { Actor, ServiceDeps } from './context.js';

/** 'text': words only; 'filtered': any operator or filter; 'suggest'. The /metrics label. */
export type SearchKind = 'text' | 'filtered' | 'suggest';

/** Messages suggest reads to count terms from (the newest matches of the prefix). */
export const SUGGEST_SAMPLE = 200;

interface Cursor {
  o: number;
  s: string;
}

export class SearchService {
  /** Per-user budget for search and suggest together; main.ts swaps in the Redis limiter when configured. */
  limiter: RateLimiter;
  /** Latency per kind of query, set by main.ts to feed /metrics. */
  observe?: (kind: SearchKind, seconds: number) => void;

  constructor(private readonly deps: ServiceDeps) {
    const c = deps.config;
    this.limiter = c.loadtestAllowance ? unlimited : new FixedWindowLimiter(c.searchLimit, c.searchLimitWindowMs, 'too many searches');
  }

  async search(actor: Actor, query: SearchQuery): Promise<SearchReply> {
    const started = performance.now();
    const limited = this.limiter.hit(actor.userId);
    if (limited) await limited;
    const p = parseQuery(query.q ?? '');
    mergeParams(p, query);
    const filtered = p.from.length > 0 || p.in.length > 0 || p.has.length > 0 || !!p.before || !!p.after || p.isThread || !!query.channelId;
    if (p.include.length === 0 && !filtered) {
      throw badRequest(p.exclude.length ? 'a search needs a word or a filter besides exclusions' : 'empty search: give words or a filter');
    }
    if (p.include.length === 0 && p.exclude.length > 0 && p.from.length === 0 && p.in.length === 0 && !query.channelId) {
      throw badRequest('exclusions need a word, from: or in: to exclude from');
    }
    const limit = query.limit ?? 20;
    const window = this.deps.config.searchWindow;
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const offset = cursor?.o ?? 0;
    if (offset + limit > window) throw badRequest(`search pages end at result ${window}; narrow the search`);
    const store = this.deps.store;
    const empty: SearchReply = { results: [], total: 0, totalExact: true, nextCursor: null, ignored: p.ignored };

    let authorIds: string[] = [];
    if (p.from.length) {
      authorIds = (await store.users.getByUsernames(p.from)).map((u) => u.id);
      if (authorIds.length === 0) return empty;
    }
    let channelIds: string[] = [];
    if (p.in.length) {
      channelIds = (await store.search.memberChannels(actor.userId, { names: p.in }, p.in.length)).map((c) => c.id);
      if (channelIds.length === 0) return empty;
    }
    if (query.channelId) {
      if (p.in.length && !channelIds.includes(query.channelId)) return empty;
      channelIds = [query.channelId];
    }
    const spec: SearchSpec = {
      userId: actor.userId,
      include: p.include,
      exclude: p.exclude,
      channelIds,
      authorIds,
      has: p.has,
      before: p.before,
      after: p.after,
      isThread: p.isThread,
      sort: query.sort ?? 'relevance',
      limit,
      offset,
      snapshot: cursor?.s,
    };
    if (spec.before && spec.after && spec.after >= spec.before) return empty;
    const r = await store.search.search(spec, { window, timeoutMs: this.deps.config.searchTimeoutMs });

    const results = r.hits.map((h) => ({
      message: h.message,
      channel: h.channel,
      author: h.author,
      snippet: snippet(h.message.text, p.include),
      score: h.score,
    }));
    const next = offset + limit;
    const more = next < Math.min(r.total, window) && r.hits.length === limit;
    this.observe?.(filtered ? 'filtered' : 'text', (performance.now() - started) / 1000);
    return {
      results,
      total: r.total,
      totalExact: r.totalExact,
      nextCursor: more ? encodeCursor({ o: next, s: r.snapshot }) : null,
      ignored: p.ignored,
    };
  }

  /**
   * Type-ahead. Terms complete the last word of q (≥ 2 characters); users and channels match
   * q without a leading @ / #. Terms come from messages the caller can read (SearchStore), users
   * from the directory everyone can browse, channels from the caller's own.
   */
  async suggest(actor: Actor, q: string, limit: number): Promise<SuggestReply> {
    const started = performance.now();
    const limited = this.limiter.hit(actor.userId);
    if (limited) await limited;
    const store = this.deps.store;
    const trimmed = q.trim();
    const words = tokens(trimmed);
    const last = words[words.length - 1];
    const name = trimmed.replace(/^[@#]/, '').toLowerCase();
    const plainName = /^[\p{L}\p{N}._-]+$/u.test(name);
    const [terms, users, channels] = await Promise.all([
      last && last.length >= 2 && !/^[@#]/.test(trimmed) ? store.search.suggestTerms(actor.userId, last, limit, SUGGEST_SAMPLE) : [],
      plainName && !trimmed.startsWith('#') ? store.users.search(name, limit) : [],
      plainName && !trimmed.startsWith('@') ? store.search.memberChannels(actor.userId, { prefix: name }, limit) : [],
    ]);
    this.observe?.('suggest', (performance.now() - started) / 1000);
    return {
      terms,
      users: users.map((u) => ({ id: u.id, username: u.username, displayName: u.displayName })),
      channels,
    };
  }
}

/** Query parameters are the same filters as the operators; both apply (filters of one kind: any of them). */
function mergeParams(p: ParsedQuery, q: SearchQuery): void {
  if (q.from) {
    const name = q.from.replace(/^@/, '').toLowerCase();
    if (!p.from.includes(name)) p.from.push(name);
  }
  if (q.has && !p.has.includes(q.has)) p.has.push(q.has);
  if (q.isThread) p.isThread = true;
  const day = (d: string) => {
    const t = Date.parse(`${d}T00:00:00.000Z`);
    if (Number.isNaN(t)) throw badRequest(`not a date: ${d}`);
    return t;
  };
  const DAY = 86_400_000;
  const tighten = (before?: number, after?: number) => {
    if (before !== undefined) p.before = new Date(Math.min(before, p.before ? Date.parse(p.before) : before)).toISOString();
    if (after !== undefined) p.after = new Date(Math.max(after, p.after ? Date.parse(p.after) : after)).toISOString();
  };
  if (q.before) tighten(day(q.before), undefined);
  if (q.after) tighten(undefined, day(q.after) + DAY);
  if (q.on) tighten(day(q.on) + DAY, day(q.on));
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(s: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (Number.isSafeInteger(c.o) && (c.o as number) >= 0 && typeof c.s === 'string' && /^[0-9a-z]{1,22}$/.test(c.s)) {
      return { o: c.o as number, s: c.s };
    }
  } catch {
    // fall through: any undecodable cursor is the same 400
  }
  throw new AppError('VALIDATION_FAILED', 'invalid search cursor');
}
