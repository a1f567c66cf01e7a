// The upload scenario's server-side figures, read from every node's /metrics by one worker:
//  - processing time (upload complete → thumbnail ready): the server's Prometheus histogram,
//    its delta between the common start and the end of the drain (what this run's uploads
//    added); avg = Δsum ÷ Δcount, percentiles interpolated inside the buckets as Prometheus'
//    histogram_quantile does (so they are estimates within a bucket's width, stated in the notes);
//  - the server's RSS (process_resident_memory_bytes) once a second: start, peak, end per node.
// Nothing here is a guess: a node whose /metrics cannot be read is "not measured" with the reason.
import { request } from 'undici';
import type { TrendSummary } from '../hist.js';
import { round } from '../metrics.js';

/** One node's histogram at one scrape: cumulative counts by upper bound (le, seconds), sum and count. */
export interface PromHistogram {
  buckets: [number, number][];
  sum: number;
  count: number;
}

/** Parses one histogram (all label sets summed per bound) from Prometheus text; null when absent. */
export function parseHistogram(text: string, name: string): PromHistogram | null {
  const byLe = new Map<number, number>();
  let sum = 0;
  let count = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line[name.length] === undefined) continue;
    const rest = line.slice(name.length);
    const sp = line.lastIndexOf(' ');
    const v = Number(line.slice(sp + 1));
    if (!Number.isFinite(v)) continue;
    if (rest.startsWith('_bucket')) {
      const m = /le="([^"]+)"/.exec(rest);
      if (!m) continue;
      const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
      byLe.set(le, (byLe.get(le) ?? 0) + v);
      seen = true;
    } else if (rest.startsWith('_sum')) sum += v;
    else if (rest.startsWith('_count')) count += v;
  }
  if (!seen) return null;
  return { buckets: [...byLe.entries()].sort((a, b) => a[0] - b[0]), sum, count };
}

/** after − before, bound by bound (a counter reset — a restarted node — leaves `after` as is). */
export function histogramDelta(before: PromHistogram | null, after: PromHistogram): PromHistogram {
  if (!before || after.count < before.count) return after;
  const b = new Map(before.buckets);
  return {
    buckets: after.buckets.map(([le, v]) => [le, v - (b.get(le) ?? 0)]),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

/** Sums histograms of several nodes (same bounds: one server build). */
export function histogramSum(list: PromHistogram[]): PromHistogram | null {
  if (!list.length) return null;
  const by = new Map<number, number>();
  for (const h of list) for (const [le, v] of h.buckets) by.set(le, (by.get(le) ?? 0) + v);
  return {
    buckets: [...by.entries()].sort((a, b) => a[0] - b[0]),
    sum: list.reduce((s, h) => s + h.sum, 0),
    count: list.reduce((s, h) => s + h.count, 0),
  };
}

/** The q-quantile in seconds, linear inside its bucket (histogram_quantile); the top finite bound when it falls in +Inf. */
export function bucketQuantile(h: PromHistogram, q: number): number | null {
  const total = h.buckets.length ? h.buckets[h.buckets.length - 1][1] : 0;
  if (total <= 0) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, cum] of h.buckets) {
    if (cum >= rank) {
      if (le === Infinity) return prevLe;
      const inBucket = cum - prevCount;
      return inBucket > 0 ? prevLe + ((le - prevLe) * (rank - prevCount)) / inBucket : le;
    }
    prevLe = le;
    prevCount = cum;
  }
  return prevLe;
}

export interface RssSample {
  t: number;
  node: number;
  bytes: number;
  /** V8 heap in use and memory outside it (Buffers), where the server exposes them: where RSS goes. */
  heapBytes?: number;
  externalBytes?: number;
}

export interface ServerReport {
  /** Per node: the reason /metrics could not be read, if it could not. */
  errors: Record<number, string>;
  processing: { delta: PromHistogram | null; metric: string; missing: boolean };
  rss: RssSample[];
  drainMs: number;
  drainSettled: boolean;
}

async function scrape(origin: string, token: string | undefined): Promise<string> {
  const res = await request(`${origin}/metrics`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    headersTimeout: 5000,
    bodyTimeout: 5000,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200)
    throw new Error(
      `GET /metrics → HTTP ${res.statusCode}${res.statusCode === 404 && !token ? ' (no metrics token: set NCHAT_METRICS_TOKEN)' : ''}`,
    );
  return text;
}

const RSS = /^process_resident_memory_bytes(?:\{[^}]*\})? (\S+)$/m;
const HEAP = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)$/m;
const EXTERNAL = /^nodejs_external_memory_bytes(?:\{[^}]*\})? (\S+)$/m;
/** Thumbnail jobs waiting or running on a node (when the server exposes it). */
const QUEUE = /^nchat_thumbnail_queue(?:\{[^}]*\})? (\S+)$/m;

/** Reads every node's /metrics at the start, once a second, and after the drain. */
export class ServerWatch {
  private readonly before = new Map<number, PromHistogram | null>();
  private readonly last = new Map<number, PromHistogram | null>();
  private readonly rss: RssSample[] = [];
  /** Each node's thumbnail queue at its last reading (absent when the server does not expose it). */
  private readonly queue = new Map<number, number>();
  private readonly errors: Record<number, string> = {};
  private timer: NodeJS.Timeout | null = null;
  private t0 = performance.now();
  private busy = false;

  constructor(
    private readonly nodes: string[],
    private readonly token: string | undefined,
    private readonly metric: string,
  ) {}

  /** One scrape of every node: records RSS, keeps the histogram as `last` (and `before` the first time). */
  private async sample(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (origin, i) => {
        try {
          const text = await scrape(origin, this.token);
          const m = RSS.exec(text);
          const heap = HEAP.exec(text);
          const ext = EXTERNAL.exec(text);
          if (m)
            this.rss.push({
              t: round((performance.now() - this.t0) / 1000, 2),
              node: i,
              bytes: Number(m[1]),
              heapBytes: heap ? Number(heap[1]) : undefined,
              externalBytes: ext ? Number(ext[1]) : undefined,
            });
          const q = QUEUE.exec(text);
          if (q) this.queue.set(i, Number(q[1]));
          const h = parseHistogram(text, this.metric);
          if (!this.before.has(i)) this.before.set(i, h);
          this.last.set(i, h);
        } catch (e) {
          this.errors[i] ??= (e as Error).message;
        }
      }),
    );
  }

  async begin(): Promise<void> {
    this.t0 = performance.now();
    await this.sample();
  }

  every(ms: number): void {
    this.t0 = performance.now();
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      void this.sample().finally(() => (this.busy = false));
    }, ms);
    this.timer.unref();
  }

  /**
   * Waits (at most drainMs) until the thumbnails of this run are made: every node's thumbnail
   * queue is empty, or, where the server does not expose its queue, the processing count has not
   * moved for 2 s. Then takes the final reading.
   */
  async finish(drainMs: number): Promise<ServerReport> {
    if (this.timer) clearInterval(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    const countNow = () => [...this.last.values()].reduce((s, h) => s + (h?.count ?? 0), 0);
    await this.sample();
    let count = countNow();
    let stableSince = performance.now();
    let settled = false;
    while (performance.now() - t0 < drainMs) {
      await new Promise((r) => setTimeout(r, 500));
      await this.sample();
      const now = countNow();
      if (this.queue.size === this.nodes.length && [...this.queue.values()].every((v) => v === 0)) {
        settled = true;
        break;
      }
      if (now !== count) {
        count = now;
        stableSince = performance.now();
      } else if (performance.now() - stableSince >= 2000) {
        settled = true;
        break;
      }
    }
    const deltas: PromHistogram[] = [];
    let missing = false;
    for (let i = 0; i < this.nodes.length; i++) {
      const after = this.last.get(i);
      if (!after) {
        if (!this.errors[i]) missing = true;
        continue;
      }
      deltas.push(histogramDelta(this.before.get(i) ?? null, after));
    }
    return {
      errors: this.errors,
      processing: { delta: histogramSum(deltas), metric: this.metric, missing },
      rss: this.rss,
      drainMs: Math.round(performance.now() - t0),
      drainSettled: settled,
    };
  }
}

/** Observations in the +Inf bucket only (above the last finite bound). */
function aboveTop(h: PromHistogram): number {
  const finite = h.buckets.filter(([le]) => Number.isFinite(le));
  const total = h.buckets.length ? h.buckets[h.buckets.length - 1][1] : 0;
  return total - (finite.length ? finite[finite.length - 1][1] : 0);
}

/** files_processing as a trend (ms): count, avg, bucket-interpolated p50–p99; min/max are not in a histogram (null). */
export function processingSummary(s: ServerReport | null): { trend: TrendSummary; notes: string[]; info: Record<string, unknown> } {
  const empty: TrendSummary = {
    type: 'trend',
    unit: 'ms',
    count: 0,
    avg: null,
    min: null,
    p50: null,
    p90: null,
    p95: null,
    p99: null,
    max: null,
  };
  if (!s) return { trend: empty, notes: ['files: processing time: not measured (no server reading)'], info: {} };
  const h = s.processing.delta;
  const errs = Object.entries(s.errors);
  if (!h) {
    const why = errs.length
      ? `/metrics not readable: ${errs.map(([n, e]) => `node${n}: ${e}`).join('; ')}`
      : `the server exposes no histogram ${s.processing.metric} (thumbnail processing not implemented or named differently; set files.processingMetric)`;
    return { trend: empty, notes: [`files: processing time: not measured (${why})`], info: { metric: s.processing.metric } };
  }
  const ms = (q: number) => {
    const v = bucketQuantile(h, q);
    return v === null ? null : round(v * 1000, 1);
  };
  const trend: TrendSummary = {
    type: 'trend',
    unit: 'ms',
    count: h.count,
    avg: h.count > 0 ? round((h.sum / h.count) * 1000, 1) : null,
    min: null,
    p50: ms(0.5),
    p90: ms(0.9),
    p95: ms(0.95),
    p99: ms(0.99),
    max: null,
  };
  const bounds = h.buckets.filter(([le]) => Number.isFinite(le)).map(([le]) => le * 1000);
  const notes = [
    `files: processing time (upload complete → thumbnail ready) = the server's ${s.processing.metric} over this run (Δ of ${h.count} files; ${s.drainSettled ? `settled ${round(s.drainMs / 1000, 1)} s after the last upload` : `still moving when the ${round(s.drainMs / 1000, 1)} s drain ended: later thumbnails are not in it`}); percentiles interpolated inside the server's buckets (bounds ${bounds.join(', ')} ms), min/max not available from a histogram`,
  ];
  // A quantile past the last finite bucket is only known to be above it: bucketQuantile gives
  // that bound, and the note says the printed figure is a lower bound (the mean, from the exact
  // sum, shows how far above).
  const top = bounds.length ? bounds[bounds.length - 1] : null;
  const qs = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 } as const;
  const past = aboveTop(h);
  const beyond = (Object.keys(qs) as (keyof typeof qs)[]).filter((k) => qs[k] * h.count > h.count - past);
  if (top !== null && beyond.length)
    notes.push(
      `files: processing ${beyond.join('/')} fell past the server's last bucket (${top} ms; ${past} of ${h.count} files took longer): ${beyond.length > 1 ? 'they are' : 'it is'} printed as ${top} ms, a lower bound, not a measurement; the mean (${trend.avg} ms, exact) shows how far above`,
    );
  if (errs.length)
    notes.push(`files: /metrics not readable on ${errs.map(([n, e]) => `node${n} (${e})`).join(', ')}: their files are not in it`);
  return {
    trend,
    notes,
    info: {
      metric: s.processing.metric,
      buckets: h.buckets.map(([le, v]) => [Number.isFinite(le) ? le : '+Inf', v]),
      drainMs: s.drainMs,
      settled: s.drainSettled,
    },
  };
}

/** Server RSS in MB per node (first reading, peak, last reading); the headline figures are the node with the highest peak. */
export function rssFigures(s: ServerReport | null): {
  start: number | null;
  peak: number | null;
  end: number | null;
  rows: Record<string, unknown>[];
  notes: string[];
} {
  if (!s?.rss.length) {
    const why = s && Object.keys(s.errors).length ? Object.values(s.errors)[0] : 'no reading';
    return { start: null, peak: null, end: null, rows: [], notes: [`files: server RSS: not measured (${why})`] };
  }
  const mb = (b: number) => round(b / 1048576, 1);
  const atPeak = (list: RssSample[], k: 'heapBytes' | 'externalBytes') => {
    const top = list.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    return top[k] === undefined ? null : mb(top[k]);
  };
  const nodes = [...new Set(s.rss.map((r) => r.node))].sort((a, b) => a - b);
  const rows = nodes.map((n) => {
    const mine = s.rss.filter((r) => r.node === n);
    return {
      node: `node${n}`,
      startMB: mb(mine[0].bytes),
      peakMB: mb(Math.max(...mine.map((r) => r.bytes))),
      endMB: mb(mine[mine.length - 1].bytes),
      readings: mine.length,
      // At the reading of peak RSS: how much of it was the V8 heap and how much external (Buffers).
      heapMBAtPeak: atPeak(mine, 'heapBytes'),
      externalMBAtPeak: atPeak(mine, 'externalBytes'),
    };
  });
  // Largest node's figures: the target (RSS < 300 MB) is per server process.
  const top = rows.reduce((a, b) => ((b.peakMB as number) > (a.peakMB as number) ? b : a));
  return {
    start: top.startMB as number,
    peak: top.peakMB as number,
    end: top.endMB as number,
    rows,
    notes: [
      `files: server RSS from each node's /metrics (process_resident_memory_bytes) once a second from the start to the end of the drain; files_server_rss_* are the node with the highest peak (${top.node})`,
    ],
  };
}
