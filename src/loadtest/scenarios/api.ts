// Scenario 3 — API endpoints (k6 ramping-vus, closed model): each VU has its own account
// and loops over the template's request mix. Per endpoint: count, avg/p50/p95/p99, error
// rate. A non-2xx or network failure is an error and never a latency sample. Endpoints the
// target does not implement (a 404 at setup, e.g. search) are left out of the mix and
// reported "not measured" with the reason, instead of being counted as errors.
import type { Scenario, WorkerContext, Plan, Aggregate, ScenarioSummary } from '../scenario.js';
import type { Account } from '../setup.js';
import { split, refreshAccount } from '../setup.js';
import type { LoadtestConfig, ApiScenarioConfig } from '../config.js';
import { HttpClient, type HttpResult } from '../clients/http.js';
import { summarizeEncoded } from '../hist.js';
import { counter, gauge, round, type MetricSummary } from '../metrics.js';

type Endpoint = keyof ApiScenarioConfig['mix'];
const LABELS: Record<Endpoint, string> = {
  auth_refresh: 'Auth Refresh',
  channels_list: 'Channels List',
  channel_get: 'Channel Get',
  message_send: 'Message Send',
  message_list: 'Message List',
  search: 'Search',
  user_profile: 'User Profile',
  notifications: 'Notifications',
};
interface Payload {
  nodes: string[];
  vus: Account[];
  channelIds: string[];
  userIds: string[];
  usernames: string[];
  mix: Record<Endpoint, number>;
  totalVus: number;
  firstVu: number;
}

async function prepare(ctx: Parameters<Scenario['prepare']>[0]): Promise<Plan> {
  const a = ctx.cfg.api;
  ctx.log(`api: creating ${a.vus} VU accounts, ${a.channels} channels, ${a.seedMessages} seed messages`);
  const vus = await ctx.setup.users('a', a.vus);
  const channelIds: string[] = [];
  for (let i = 0; i < a.channels; i++) channelIds.push(await ctx.setup.channel(`api${i}`, vus));
  // Seed history (and search data) through the public API, several writers at once.
  let n = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (n < a.seedMessages) {
        const k = n++;
        const vu = vus[k % vus.length];
        await ctx.setup.http.request('POST', `/api/channels/${channelIds[k % channelIds.length]}/messages`, {
          token: vu.accessToken,
          body: { text: `seed message ${k} alpha beta gamma @${vus[(k + 1) % vus.length].username}`, clientMsgId: `${ctx.tag}seed${k}` },
        });
      }
    }),
  );
  const notes: string[] = [
    `api: ${a.vus} VUs, ${a.duration} s (ramp-up ${a.rampUp} s), think time ${a.thinkTimeMs} ms; each VU its own account; ${a.channels} channels with every VU a member; ${a.seedMessages} messages seeded`,
  ];
  const mix = { ...a.mix };
  const notMeasured: Record<string, string> = {};
  // Endpoint probe: a 404 on a route means the target does not have it (yet).
  const probe = await ctx.setup.http.request('GET', '/api/search?q=alpha&limit=5', { token: vus[0].accessToken });
  if (probe.status === 404) {
    notMeasured.search = 'not measured (endpoint not implemented on target: GET /api/search answered 404 at setup)';
    notes.push(`api: search: ${notMeasured.search}; its ${mix.search}% share was spread over the other endpoints in proportion`);
    mix.search = 0;
  } else if (mix.search > 0) {
    notes.push('api: search: plain text query (q=alpha/beta/gamma/…)');
  }
  const workers = Math.max(1, Math.min(ctx.cfg.workers, vus.length));
  const parts = split(vus, workers);
  let first = 0;
  return {
    payloads: parts.map((p) => {
      const x: Payload = {
        nodes: ctx.nodes,
        vus: p,
        channelIds,
        userIds: vus.map((v) => v.id),
        usernames: vus.map((v) => v.username),
        mix,
        totalVus: vus.length,
        firstVu: first,
      };
      first += p.length;
      return x;
    }),
    notes,
    info: { vus: a.vus, duration: a.duration, rampUp: a.rampUp, mixConfigured: a.mix, mixUsed: mix, notMeasured },
  };
}

const WORDS = ['alpha', 'beta', 'gamma', 'lorem', 'seed', 'message'];
const rnd = <T>(l: T[]) => l[Math.floor(Math.random() * l.length)];

/** One worker's VUs: each loops over the weighted request mix until the run ends. */
class ApiRun {
  private readonly p: Payload;
  private readonly a: LoadtestConfig['api'];
  private readonly https: HttpClient[];
  private readonly entries: [Endpoint, number][];
  private readonly totalW: number;
  private seq = 0;
  private running = 0;

  constructor(private readonly ctx: WorkerContext) {
    const p = (this.p = ctx.payload as Payload);
    this.a = ctx.cfg.api;
    this.https = p.nodes.map((o) => new HttpClient(o, Math.max(4, p.vus.length)));
    this.entries = (Object.entries(p.mix) as [Endpoint, number][]).filter(([, w]) => w > 0);
    this.totalW = this.entries.reduce((s, [, w]) => s + w, 0);
  }

  private pickEp(): Endpoint {
    let r = Math.random() * this.totalW;
    for (const [k, w] of this.entries) if ((r -= w) < 0) return k;
    return this.entries[this.entries.length - 1][0];
  }

  /** Every VU, ramped up over rampUp seconds (VU k of all starts at k/total of it), until `end`. */
  async load(start: number): Promise<void> {
    const end = start + this.a.duration * 1000;
    await Promise.all(this.p.vus.map((acc, k) => this.vu(acc, k, start, end)));
    this.ctx.gauge('api_vus', 0);
  }

  private async vu(acc: Account, k: number, start: number, end: number): Promise<void> {
    const { ctx, a, p } = this;
    const startAt = start + (a.rampUp * 1000 * (p.firstVu + k)) / Math.max(1, p.totalVus);
    await new Promise((r) => setTimeout(r, Math.max(0, startAt - performance.now())));
    const http = this.https[acc.node];
    this.running++;
    ctx.gauge('api_vus', this.running);
    while (!ctx.signal.aborted && performance.now() < end) {
      const ep = this.pickEp();
      const r = await this.request(http, acc, ep);
      ctx.count('api_reqs');
      ctx.count(`api_reqs:${ep}`);
      if (r.ok) {
        ctx.hists.record('api_req_duration', r.ms);
        ctx.hists.record(`api_req_duration:${ep}`, r.ms);
      } else {
        ctx.count('api_errors');
        ctx.count(`api_errors:${ep}`);
        ctx.count(`api_error:${ep}:${r.error ?? r.status}`);
        if (r.status === 429) ctx.count('api_rate_limited');
        // The access token ran out (target's TTL shorter than the run): refresh so the VU goes on.
        if (r.status === 401 && r.error === 'TOKEN_EXPIRED' && ep !== 'auth_refresh') await refreshAccount(http, acc);
      }
      if (a.thinkTimeMs > 0) await new Promise((res) => setTimeout(res, a.thinkTimeMs));
    }
    this.running--;
  }

  /**
   * One request of the mix as this VU. Only the refresh reply is parsed (its tokens are used);
   * the others count as their status says and are timed to their last byte (HttpClient parse).
   */
  private async request(http: HttpClient, acc: Account, ep: Endpoint): Promise<HttpResult> {
    const { ctx, p } = this;
    const ch = rnd(p.channelIds);
    const token = acc.accessToken;
    // Counted by status and timed to the last byte; only refresh's reply is read (HttpClient parse).
    const get = (path: string) => http.request('GET', path, { token, parse: false });
    switch (ep) {
      case 'auth_refresh': {
        const r = await http.request<{ accessToken: string; refreshToken: string }>('POST', '/api/auth/refresh', {
          body: { refreshToken: acc.refreshToken },
        });
        if (r.ok && r.body?.accessToken) {
          acc.accessToken = r.body.accessToken;
          acc.refreshToken = r.body.refreshToken;
        }
        return r;
      }
      case 'channels_list':
        return get('/api/channels');
      case 'channel_get':
        return get(`/api/channels/${ch}`);
      case 'message_send': {
        const n = this.seq++;
        const text = n % 5 === 0 ? `@${rnd(p.usernames)} api load ${n} ${rnd(WORDS)}` : `api load ${n} ${rnd(WORDS)} ${rnd(WORDS)}`;
        return http.request('POST', `/api/channels/${ch}/messages`, {
          token,
          body: { text, clientMsgId: `${ctx.tag}a${ctx.workerIndex}.${n}` },
          parse: false,
        });
      }
      case 'message_list':
        return get(`/api/channels/${ch}/messages?limit=50`);
      case 'search':
        return get(`/api/search?q=${rnd(WORDS)}&limit=20`);
      case 'user_profile':
        return get(`/api/users/${rnd(p.userIds)}`);
      case 'notifications':
        return get('/api/notifications?limit=20');
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.https.map((h) => h.close()));
  }
}

async function run(ctx: WorkerContext): Promise<unknown> {
  const r = new ApiRun(ctx);
  await r.load(await ctx.barrier());
  await r.close();
  return undefined;
}

function summarize(agg: Aggregate, plan: Plan, cfg: LoadtestConfig): ScenarioSummary {
  const c = (k: string) => agg.counters[k] ?? 0;
  const secs = agg.interrupted ? Math.min(agg.seconds, cfg.api.duration) : cfg.api.duration;
  const notMeasured = (plan.info.notMeasured ?? {}) as Record<string, string>;
  const metrics: Record<string, MetricSummary> = {
    api_reqs: counter(c('api_reqs'), secs),
    api_errors: counter(c('api_errors'), secs),
    api_req_failed: {
      type: 'rate',
      rate: c('api_reqs') ? round(c('api_errors') / c('api_reqs'), 6) : null,
      passes: c('api_errors'),
      fails: c('api_reqs') - c('api_errors'),
    },
    api_rate_limited: counter(c('api_rate_limited'), secs),
    api_req_duration: summarizeEncoded(agg.hists.api_req_duration),
    api_max_vus: gauge(agg.gaugeMax.api_vus ?? null),
  };
  const rows = (Object.keys(LABELS) as Endpoint[]).map((ep) => {
    const reqs = c(`api_reqs:${ep}`);
    const s = summarizeEncoded(agg.hists[`api_req_duration:${ep}`]);
    if (reqs > 0) metrics[`api_req_duration_${ep}`] = s;
    return {
      endpoint: LABELS[ep],
      key: ep,
      requests: reqs,
      errors: c(`api_errors:${ep}`),
      errorRate: reqs ? round(c(`api_errors:${ep}`) / reqs, 6) : null,
      avg: s.avg,
      p50: s.p50,
      p95: s.p95,
      p99: s.p99,
      max: s.max,
      latencySamples: s.count,
      ...(notMeasured[ep] ? { notMeasured: notMeasured[ep] } : {}),
    };
  });
  const errors = Object.entries(agg.counters)
    .filter(([k]) => k.startsWith('api_error:'))
    .map(([k, v]) => {
      const [, ep, code] = k.split(':');
      return { endpoint: ep, error: code, count: v };
    });
  const slowest = rows
    .filter((r) => r.p95 !== null)
    .sort((x, y) => (y.p95 ?? 0) - (x.p95 ?? 0))
    .slice(0, 3)
    .map((r) => ({ endpoint: r.endpoint, p95: r.p95 }));
  return {
    name: 'api',
    title: 'API endpoints',
    metrics,
    tables: { endpoints: rows, errors, slowest },
    notes: plan.notes,
    info: { ...plan.info, seconds: secs },
  };
}

export const apiScenario: Scenario = {
  name: 'api',
  title: 'API endpoints',
  progress: { gauge: 'api_vus', hist: 'api_req_duration', errors: ['api_errors'] },
  prepare,
  run,
  summarize,
};
