// Scenario 5 — search (issue 10): 100 VUs search a seeded workspace (1M messages in quick/full)
// with the template's mix: text 70% (words drawn from the seeder's Zipf vocabulary, so common
// and rare words alike, some two-word, phrase and prefix* queries), filtered 20% (a word with
// in:#channel, from:@user, has:link, is:thread, before:/after:), suggestions 10% (a 2–4 character
// prefix of a word, username or channel name). Closed model: each VU sends its next query
// search.thinkTimeMs (default 1 s) after the last one answered; 0 measures capacity instead. Also measured: the relevance score (the seeded relevance set through
// GET /api/search, before the load), index lag (a message with a unique word is sent, search is
// polled until it is found: ack → searchable), and the index's size and document count.
//
// The workspace: with --spawn the runner seeds it (or copies it from the seed cache) before the
// nodes start (src/seed/cache.ts); with --target it must already hold a workspace seeded with
// the config's search.seed options (nchat seed), which prepare() checks by signing in.
import { buildPlan } from '../../seed/plan.js';
import { plantRelevance } from '../../seed/relevance.js';
import { scoreRelevance } from '../../seed/score.js';
import { SEED_PASSWORD } from '../../seed/seed.js';
import { Vocabulary } from '../../seed/vocab.js';
import { HttpClient, type HttpResult } from '../clients/http.js';
import { summarizeEncoded } from '../hist.js';
import { SEARCH_QUERY_TYPES } from '../known-metrics.js';
import { counter, gauge, type MetricSummary, rate, round } from '../metrics.js';
import type { Aggregate, Plan, PrepareContext, Scenario, ScenarioSummary, WorkerContext } from '../scenario.js';
import type { LoadtestConfig } from '../config.js';
import { split } from '../setup.js';

type QueryType = (typeof SEARCH_QUERY_TYPES)[number];

interface VuAccount {
  username: string;
  accessToken: string;
  node: number;
  /** Named channels the account is a member of (in:#…). */
  channels: string[];
}

interface Payload {
  nodes: string[];
  vus: VuAccount[];
  firstVu: number;
  totalVus: number;
  usernames: string[];
  /** Present in one worker: the account and channel of the index-lag probes. */
  lagProbe?: { account: VuAccount; channelId: string };
}

const LABELS: Record<QueryType, string> = { text: 'Text Search', filtered: 'Filtered Search', suggest: 'Suggestions' };

async function prepare(ctx: PrepareContext): Promise<Plan> {
  const s = ctx.cfg.search;
  const http = ctx.setup.http;
  const plan = buildPlan(s.seed, '');
  const { set } = plantRelevance(plan);
  const notes: string[] = [];
  const seeded = ctx.seeded;
  if (seeded)
    notes.push(
      seeded.result.reused
        ? `search: workspace reused from the seed cache (${seeded.where}, seeded ${seeded.result.info.seededAt}); ${s.seed.messages.toLocaleString('en-US')} messages, ${s.seed.users} users, ${s.seed.channels} named channels, seed ${s.seed.seed}; copied into the run's store`
        : `search: workspace seeded for this run in ${seeded.seconds.toFixed(1)} s (${Math.round(seeded.result.info.writeRate).toLocaleString('en-US')} messages/s written, index rebuild ${seeded.result.info.indexSeconds?.toFixed(1) ?? 'n/a'} s) into the seed cache (${seeded.where}), then copied into the run's store`,
    );
  else
    notes.push(
      `search: target assumed seeded with search.seed = ${JSON.stringify(s.seed)} (nchat seed); checked by signing in as its accounts`,
    );

  const signin = async (username: string) => {
    const r = await http.request<{ accessToken: string }>('POST', '/api/auth/signin', {
      body: { login: username, password: SEED_PASSWORD },
    });
    if (!r.ok || !r.body?.accessToken)
      throw new Error(
        `search: cannot sign in as seeded user "${username}" (HTTP ${r.status} ${r.error ?? ''}): the target does not hold a workspace seeded with search.seed = ${JSON.stringify(s.seed)}; run nchat seed with those options against its database, or use --spawn`,
      );
    return r.body.accessToken;
  };
  await signin(set.username);

  ctx.log(`search: relevance set (${set.queries.length} queries) as ${set.username}`);
  const score = await scoreRelevance(ctx.nodes[0], set, SEED_PASSWORD);

  // VU accounts: the seeded people (not admin, not searcher); VUs share them when there are more VUs.
  const people = plan.users.slice(2);
  const accountsN = Math.min(s.vus, people.length);
  const accounts: VuAccount[] = [];
  const channelsOf = (userIdx: number) => plan.channels.filter((c) => c.name && c.members.includes(userIdx)).map((c) => c.name!);
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < accountsN) {
        const k = next++;
        const u = people[k];
        accounts[k] = {
          username: u.username,
          accessToken: await signin(u.username),
          node: k % ctx.nodes.length,
          channels: channelsOf(k + 2),
        };
      }
    }),
  );
  const vus = Array.from({ length: s.vus }, (_, k) => accounts[k % accountsN]);
  // Lag probes write into the smallest named channel of the first account (few members: a cheap send).
  const probeUser = 2;
  const probeChannel = plan.channels
    .filter((c) => c.name && c.members.includes(probeUser))
    .sort((a, b) => a.members.length - b.members.length)[0];
  const usernames = people.slice(0, 500).map((p) => p.username);
  const workers = Math.max(1, Math.min(ctx.cfg.workers, vus.length));
  const parts = split(vus, workers);
  let first = 0;
  notes.push(
    `search: ${s.vus} VUs over ${accountsN} seeded accounts, ${s.duration} s (ramp-up ${s.rampUp} s), mix text/filtered/suggest ${s.mix.text}/${s.mix.filtered}/${s.mix.suggest}, think time ${s.thinkTimeMs} ms`,
    `search: relevance set ${set.queries.length} queries as "${set.username}": precision@10 ${score.precisionAt10.toFixed(3)}, recall ${score.recall.toFixed(3)} (first 50 results) → score ${score.score.toFixed(3)}`,
    `search: index lag probes every ${s.lagProbeIntervalMs} ms into #${probeChannel.name} (${probeChannel.members.length} members), polled every 20 ms, timeout ${s.lagTimeoutMs} ms`,
  );
  const index = seeded?.result.info.index ?? null;
  if (!index)
    notes.push(
      'search: index size and documents: not measured (read from the store at seed time; a --target run has no access to its database)',
    );
  return {
    payloads: parts.map((p, w) => {
      const x: Payload = { nodes: ctx.nodes, vus: p, firstVu: first, totalVus: vus.length, usernames };
      if (w === 0) x.lagProbe = { account: accounts[0], channelId: probeChannel.id };
      first += p.length;
      return x;
    }),
    notes,
    info: {
      seed: s.seed,
      seedReused: seeded ? seeded.result.reused : null,
      seedRate: seeded && !seeded.result.reused ? seeded.result.info.writeRate : null,
      index,
      relevance: { score: score.score, precisionAt10: score.precisionAt10, recall: score.recall, queries: score.queries },
    },
  };
}

/** Letters only (a word both FTS5 and the tsvector parser keep whole). */
const letters = (n: number) => {
  let s = '';
  let x = n;
  do {
    s = String.fromCharCode(97 + (x % 26)) + s;
    x = Math.floor(x / 26);
  } while (x > 0);
  return s;
};

class SearchRun {
  private readonly p: Payload;
  private readonly s: LoadtestConfig['search'];
  private readonly https: HttpClient[];
  private readonly vocab = new Vocabulary();
  private readonly total: number;
  private running = 0;
  private rng = Math.random;

  constructor(private readonly ctx: WorkerContext) {
    this.p = ctx.payload as Payload;
    this.s = ctx.cfg.search;
    this.https = this.p.nodes.map((o) => new HttpClient(o, Math.max(4, this.p.vus.length)));
    this.total = this.s.mix.text + this.s.mix.filtered + this.s.mix.suggest;
  }

  private pick<T>(l: readonly T[]): T {
    return l[Math.floor(this.rng() * l.length)];
  }

  /** A word with the vocabulary's Zipf frequencies (the seeder's own distribution). */
  private word(): string {
    const words = this.vocab.words;
    // Inverse of a Zipf(s≈1) CDF over ranks: exp(u·ln N) − 1, cheap and close enough here.
    // One-letter words ("a", "i") are not index terms: a query of only those is an empty search (400).
    for (;;) {
      const w = words[Math.min(words.length - 1, Math.floor(Math.exp(this.rng() * Math.log(words.length)) - 1))];
      if (w.length >= 2) return w;
    }
  }

  private type(): QueryType {
    const r = this.rng() * this.total;
    if (r < this.s.mix.text) return 'text';
    return r < this.s.mix.text + this.s.mix.filtered ? 'filtered' : 'suggest';
  }

  private query(type: QueryType, acc: VuAccount): string {
    if (type === 'text') {
      const r = this.rng();
      if (r < 0.6) return this.word();
      if (r < 0.85) return `${this.word()} ${this.word()}`;
      if (r < 0.95) return `"${this.word()} ${this.word()}"`;
      // prefix*: at least 3 letters before the star (shorter prefixes are dropped by the parser: an empty search).
      const w = this.word();
      return w.length < 5 ? w : `${w.slice(0, Math.max(3, w.length - 2))}*`;
    }
    if (type === 'filtered') {
      const w = this.word();
      const f = Math.floor(this.rng() * 6);
      if (f === 0 && acc.channels.length) return `${w} in:#${this.pick(acc.channels)}`;
      if (f === 1) return `${w} from:@${this.pick(this.p.usernames)}`;
      if (f === 2) return `${w} has:link`;
      if (f === 3) return `${w} is:thread`;
      if (f === 4) return `${w} after:2026-05-01`;
      return `${w} before:2026-03-01`;
    }
    const r = this.rng();
    const src = r < 0.7 ? this.word() : r < 0.9 || !acc.channels.length ? this.pick(this.p.usernames) : this.pick(acc.channels);
    return src.slice(0, 2 + Math.floor(this.rng() * 3));
  }

  private request(http: HttpClient, acc: VuAccount, type: QueryType): Promise<HttpResult<Record<string, unknown[] | number>>> {
    const q = encodeURIComponent(this.query(type, acc));
    const path = type === 'suggest' ? `/api/search/suggest?q=${q}` : `/api/search?q=${q}&limit=20`;
    return http.request('GET', path, { token: acc.accessToken });
  }

  async load(start: number): Promise<void> {
    const end = start + this.s.duration * 1000;
    const probe = this.p.lagProbe ? this.lagProbes(start, end) : Promise.resolve();
    await Promise.all(this.p.vus.map((acc, k) => this.vu(acc, k, start, end)));
    await probe;
    this.ctx.gauge('search_vus', 0);
  }

  private async vu(acc: VuAccount, k: number, start: number, end: number): Promise<void> {
    const { ctx, s, p } = this;
    const startAt = start + (s.rampUp * 1000 * (p.firstVu + k)) / Math.max(1, p.totalVus);
    await new Promise((r) => setTimeout(r, Math.max(0, startAt - performance.now())));
    const http = this.https[acc.node % this.https.length];
    this.running++;
    ctx.gauge('search_vus', this.running);
    while (!ctx.signal.aborted && performance.now() < end) {
      const type = this.type();
      const r = await this.request(http, acc, type);
      ctx.count('search_queries');
      ctx.count(`search_queries:${type}`);
      if (r.ok) {
        ctx.hists.record('search_duration', r.ms);
        ctx.hists.record(`search_duration:${type}`, r.ms);
        const b = r.body ?? {};
        const results =
          type === 'suggest'
            ? ['terms', 'users', 'channels'].reduce((n, k) => n + (Array.isArray(b[k]) ? (b[k] as unknown[]).length : 0), 0)
            : Array.isArray(b.results)
              ? b.results.length
              : 0;
        ctx.count(`search_results:${type}`, results);
        if (typeof b.total === 'number') ctx.count(`search_total:${type}`, b.total);
      } else {
        ctx.count('search_queries_failed');
        ctx.count(`search_failed:${type}`);
        ctx.count(`search_error:${type}:${r.error ?? r.status}`);
        if (r.status === 429) ctx.count('search_rate_limited');
      }
      if (s.thinkTimeMs > 0) await new Promise((res) => setTimeout(res, s.thinkTimeMs));
    }
    this.running--;
  }

  /** Send a message with a word nobody else wrote, then poll search until it comes back. */
  private async lagProbes(start: number, end: number): Promise<void> {
    const { ctx, s } = this;
    const { account, channelId } = this.p.lagProbe!;
    const http = this.https[account.node % this.https.length];
    const runWord = letters(Number.parseInt(ctx.tag.replace(/[^0-9a-f]/gi, '').slice(0, 8) || '0', 16));
    await new Promise((r) => setTimeout(r, Math.max(0, start + 500 - performance.now())));
    for (let n = 0; !ctx.signal.aborted && performance.now() + s.lagTimeoutMs < end + s.lagTimeoutMs && performance.now() < end; n++) {
      const token = `zzlag${runWord}q${letters(n)}`;
      const sent = await http.request('POST', `/api/channels/${channelId}/messages`, {
        token: account.accessToken,
        body: { text: `index lag probe ${token}`, clientMsgId: `${ctx.tag}lag${n}` },
      });
      const acked = performance.now();
      ctx.count('search_index_lag_probes');
      if (!sent.ok) {
        ctx.count('search_index_lag_timeouts');
        ctx.count(`search_error:lag_send:${sent.error ?? sent.status}`);
      } else {
        let found = false;
        while (!found && performance.now() - acked < s.lagTimeoutMs && !ctx.signal.aborted) {
          const r = await http.request<{ results?: unknown[] }>('GET', `/api/search?q=${token}&limit=1`, { token: account.accessToken });
          if (r.ok && (r.body?.results?.length ?? 0) > 0) found = true;
          else await new Promise((res) => setTimeout(res, 20));
        }
        if (found) ctx.hists.record('search_index_lag', performance.now() - acked);
        else ctx.count('search_index_lag_timeouts');
      }
      const wait = s.lagProbeIntervalMs - (performance.now() - acked);
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.https.map((h) => h.close()));
  }
}

async function run(ctx: WorkerContext): Promise<unknown> {
  const r = new SearchRun(ctx);
  await r.load(await ctx.barrier());
  await r.close();
  return undefined;
}

function summarize(agg: Aggregate, plan: Plan, cfg: LoadtestConfig): ScenarioSummary {
  const c = (k: string) => agg.counters[k] ?? 0;
  const secs = agg.interrupted ? Math.min(agg.seconds, cfg.search.duration) : cfg.search.duration;
  // Fields absent (a plan that did not come from prepare, e.g. the metric-declaration test): not measured.
  const info = plan.info as {
    index?: { documents: number; indexBytes: number } | null;
    seedRate?: number | null;
    relevance?: { score: number; precisionAt10: number; recall: number; queries: Record<string, unknown>[] };
  };
  const rel = info.relevance;
  const queries = c('search_queries');
  const failed = c('search_queries_failed');
  const okCount = queries - failed;
  const resultsOk = c('search_results:text') + c('search_results:filtered');
  const okSearches = c('search_queries:text') - c('search_failed:text') + c('search_queries:filtered') - c('search_failed:filtered');
  const metrics: Record<string, MetricSummary> = {
    search_queries: counter(queries, secs),
    search_queries_failed: counter(failed, secs),
    search_success: rate(okCount, failed),
    search_rate_limited: counter(c('search_rate_limited'), secs),
    search_duration: summarizeEncoded(agg.hists.search_duration),
    search_qps: gauge(secs > 0 ? round(okCount / secs, 1) : null, 'queries/s'),
    search_results_avg: gauge(okSearches > 0 ? round(resultsOk / okSearches, 2) : null),
    search_max_vus: gauge(agg.gaugeMax.search_vus ?? null),
    search_relevance_score: gauge(rel ? round(rel.score, 4) : null),
    search_precision_at_10: gauge(rel ? round(rel.precisionAt10, 4) : null),
    search_recall: gauge(rel ? round(rel.recall, 4) : null),
    search_index_lag: summarizeEncoded(agg.hists.search_index_lag),
    search_index_lag_probes: counter(c('search_index_lag_probes'), secs),
    search_index_lag_timeouts: counter(c('search_index_lag_timeouts'), secs),
    search_index_documents: gauge(info.index?.documents ?? null),
    search_index_bytes: gauge(info.index?.indexBytes ?? null, 'bytes'),
    search_seed_rate: gauge(info.seedRate == null ? null : round(info.seedRate, 0), 'messages/s'),
  };
  const rows = SEARCH_QUERY_TYPES.map((t) => {
    const s = summarizeEncoded(agg.hists[`search_duration:${t}`]);
    metrics[`search_duration_${t}`] = s;
    const n = c(`search_queries:${t}`);
    const ok = n - c(`search_failed:${t}`);
    return {
      queryType: LABELS[t],
      queries: n,
      failed: c(`search_failed:${t}`),
      avg: s.avg,
      p50: s.p50,
      p95: s.p95,
      p99: s.p99,
      max: s.max,
      avgResults: ok > 0 ? round(c(`search_results:${t}`) / ok, 2) : null,
      avgTotal: ok > 0 && t !== 'suggest' ? round(c(`search_total:${t}`) / ok, 1) : null,
    };
  });
  const errors = Object.entries(agg.counters)
    .filter(([k]) => k.startsWith('search_error:'))
    .map(([k, v]) => {
      const [, type, code] = k.split(':');
      return { queryType: type, error: code, count: v };
    });
  const relevance = (rel?.queries ?? []).map((q) => ({
    case: q.id,
    q: q.q,
    answers: q.answers,
    precisionAt10: q.precisionAt10,
    recall: q.recall,
    distractorsOnPage: q.distractorsOnPage,
    ...(q.error ? { error: q.error } : {}),
  }));
  return {
    name: 'search',
    title: 'Search',
    metrics,
    tables: { query_types: rows, relevance, errors },
    notes: plan.notes,
    info: { ...plan.info, seconds: secs },
  };
}

export const searchScenario: Scenario = {
  name: 'search',
  title: 'Search',
  progress: { gauge: 'search_vus', hist: 'search_duration', errors: ['search_queries_failed'] },
  prepare,
  run,
  summarize,
};
