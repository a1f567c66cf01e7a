// Soak trends: is the server (and the generator) flat over a long steady load? From the 1 s
// samples of the hold after warm-up: memory growth is the least-squares slope of RSS and V8 heap
// used in MB per hour (with its standard error: a short window's slope is mostly GC sawtooth);
// event-loop delay and p95 latency drift is the last third's median against the first third's.
// Pure functions of the run directory's data, so summary.json and the report compute the same.
import type { TimelineRow } from './pool.js';

export type Rows = Record<string, Record<string, unknown>[]>;
export interface Pt {
  /** Seconds since the soak's start (the ws scenario's common start). */
  t: number;
  v: number;
}

export interface LinearFit {
  /** Units per second. */
  slope: number;
  intercept: number;
  /** Standard error of the slope (units per second), from the residuals; null below 3 points. */
  stderr: number | null;
}

/** Ordinary least squares of v over t; null with fewer than 2 points or no spread in t. */
export function linearFit(pts: Pt[]): LinearFit | null {
  const n = pts.length;
  if (n < 2) return null;
  let st = 0;
  let sv = 0;
  for (const p of pts) {
    st += p.t;
    sv += p.v;
  }
  const mt = st / n;
  const mv = sv / n;
  let stt = 0;
  let stv = 0;
  for (const p of pts) {
    stt += (p.t - mt) ** 2;
    stv += (p.t - mt) * (p.v - mv);
  }
  if (stt === 0) return null;
  const slope = stv / stt;
  const intercept = mv - slope * mt;
  let sse = 0;
  for (const p of pts) sse += (p.v - (intercept + slope * p.t)) ** 2;
  return { slope, intercept, stderr: n > 2 ? Math.sqrt(sse / (n - 2) / stt) : null };
}

export function median(v: number[]): number | null {
  if (!v.length) return null;
  const s = [...v].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface SeriesTrend {
  name: string;
  kind: 'memory' | 'loop' | 'latency';
  unit: 'MB' | 'ms';
  /** Samples inside the window. */
  samples: number;
  /** Median of the first and of the last third of the window's samples. */
  firstThird: number | null;
  lastThird: number | null;
  /** (lastThird − firstThird) ÷ firstThird, %. */
  driftPct: number | null;
  /** Least-squares slope in unit per hour, and its standard error. */
  slopePerHour: number | null;
  slopeStderrPerHour: number | null;
  min: number | null;
  max: number | null;
  /** Median per interval (soak.intervalSec) over the window: the trends table. */
  intervals: { from: number; median: number; samples: number }[];
}

const r2 = (x: number | null) => (x === null || !Number.isFinite(x) ? null : Math.round(x * 100) / 100);

/** Trend of one series over the points already cut to the window. */
export function seriesTrend(name: string, kind: SeriesTrend['kind'], pts: Pt[], intervalSec: number): SeriesTrend {
  const unit = kind === 'memory' ? 'MB' : 'ms';
  const vs = pts.map((p) => p.v);
  const third = Math.floor(pts.length / 3);
  const first = third ? median(vs.slice(0, third)) : null;
  const last = third ? median(vs.slice(pts.length - third)) : null;
  const fit = linearFit(pts);
  const groups = new Map<number, number[]>();
  for (const p of pts) {
    const k = Math.floor(p.t / intervalSec) * intervalSec;
    const g = groups.get(k);
    if (g) g.push(p.v);
    else groups.set(k, [p.v]);
  }
  return {
    name,
    kind,
    unit,
    samples: pts.length,
    firstThird: r2(first),
    lastThird: r2(last),
    driftPct: first !== null && last !== null && first > 0 ? r2(((last - first) / first) * 100) : null,
    slopePerHour: fit ? r2(fit.slope * 3600) : null,
    slopeStderrPerHour: fit?.stderr != null ? r2(fit.stderr * 3600) : null,
    min: vs.length ? r2(Math.min(...vs)) : null,
    max: vs.length ? r2(Math.max(...vs)) : null,
    intervals: [...groups].map(([from, v]) => ({ from, median: r2(median(v))!, samples: v.length })),
  };
}

/** Where the soak's trends look: epoch ms of the load's start, and the window in seconds from it. */
export interface SoakWindow {
  /** Epoch ms of the ws scenario's common start (t = 0 of its timeline). */
  startEpoch: number;
  /** Seconds from the start: rampUp + warmup … rampUp + duration (or the run's end when it stopped early). */
  fromSec: number;
  toSec: number;
  warmupSec: number;
  intervalSec: number;
}

const num = (row: Record<string, unknown>, path: string): number | null => {
  let cur: unknown = row;
  for (const k of path.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
  return typeof cur === 'number' && Number.isFinite(cur) ? cur : null;
};

/** 1 s collector rows → points (t from the soak's start), with `scale` applied; `filter` picks rows (e.g. one node's). */
export function samplePoints(
  rows: Record<string, unknown>[],
  path: string,
  startEpoch: number,
  scale = 1,
  filter: (r: Record<string, unknown>) => boolean = () => true,
): Pt[] {
  const out: Pt[] = [];
  for (const r of rows) {
    const ts = num(r, 'ts');
    const v = num(r, path);
    if (ts === null || v === null || !filter(r)) continue;
    out.push({ t: (ts - startEpoch) / 1000, v: v * scale });
  }
  return out;
}

/**
 * Two running totals of consecutive rows (one node's, in time order) → the ratio of their
 * increments per interval, with `scale` (e.g. store seconds over sends × 1000 = ms per send).
 * An interval where the denominator did not grow (nothing sent, a restart) gives no point.
 */
export function deltaRatioPoints(
  rows: Record<string, unknown>[],
  numPath: string,
  denPath: string,
  startEpoch: number,
  scale = 1,
  filter: (r: Record<string, unknown>) => boolean = () => true,
): Pt[] {
  const out: Pt[] = [];
  let prev: { n: number; d: number } | undefined;
  for (const r of rows) {
    const ts = num(r, 'ts');
    const n = num(r, numPath);
    const d = num(r, denPath);
    if (ts === null || !filter(r)) continue;
    if (n === null || d === null) {
      prev = undefined;
      continue;
    }
    if (prev && d > prev.d && n >= prev.n) out.push({ t: (ts - startEpoch) / 1000, v: ((n - prev.n) / (d - prev.d)) * scale });
    prev = { n, d };
  }
  return out;
}

/** Per-second p95 of a timeline histogram → points (t = the end of that second). */
export function timelinePoints(rows: TimelineRow[] | undefined, hist: string, offsetSec = 0): Pt[] {
  const out: Pt[] = [];
  for (const r of rows ?? []) {
    const p = r.latency?.[hist]?.p95;
    if (typeof p === 'number') out.push({ t: r.t + 1 + offsetSec, v: p });
  }
  return out;
}

export interface SoakSeriesSet {
  memory: Record<string, Pt[]>;
  loop: Record<string, Pt[]>;
  latency: Record<string, Pt[]>;
}

const MB = 1 / 1048576;

/** Every series the soak judges, over the whole run (the window is cut by soakTrends; charts show it all). */
export function soakSeries(
  rows: Rows,
  timelines: Record<string, TimelineRow[]>,
  startEpoch: number,
  nodeCount: number,
  apiStartEpoch?: number,
): SoakSeriesSet {
  const proc = rows.process ?? [];
  const nm = (rows.node_metrics ?? []).filter((r) => !r.error);
  const memory: Record<string, Pt[]> = {
    'generator RSS': samplePoints(proc, 'generator.rssBytes', startEpoch, MB),
    'generator heap used': samplePoints(proc, 'generator.heapUsedBytes', startEpoch, MB),
  };
  const loop: Record<string, Pt[]> = { 'generator loop p99': samplePoints(proc, 'generator.loopP99Ms', startEpoch) };
  for (let i = 0; i < nodeCount; i++) {
    memory[`node${i} RSS`] = samplePoints(proc, `node${i}.rssBytes`, startEpoch, MB);
    memory[`node${i} heap used`] = samplePoints(nm, 'nodejs_heap_size_used_bytes', startEpoch, MB, (r) => r.node === i);
    loop[`node${i} loop p99`] = samplePoints(nm, 'nodejs_eventloop_lag_p99_seconds', startEpoch, 1000, (r) => r.node === i);
  }
  const apiOffset = apiStartEpoch !== undefined ? (apiStartEpoch - startEpoch) / 1000 : 0;
  const latency: Record<string, Pt[]> = {
    'ws_msg_e2e p95': timelinePoints(timelines.ws, 'ws_msg_e2e'),
    'api_req_duration p95': timelinePoints(timelines.api, 'api_req_duration', apiOffset),
  };
  // Diagnosis, not judged: the server's own store time per send (a drift of e2e that this
  // follows is in the database; one it does not follow is elsewhere: fan-out, loop, generator).
  for (let i = 0; i < nodeCount; i++) {
    const pts = deltaRatioPoints(nm, 'storeSendSec', 'storeSendCount', startEpoch, 1000, (r) => r.node === i);
    if (pts.length) latency[`node${i} store ms per send`] = pts;
    // SQLite: the search indexer's time on the event loop per message indexed (ms).
    const idx = deltaRatioPoints(
      nm,
      'nchat_search_index_seconds_total',
      'nchat_search_indexed_total',
      startEpoch,
      1000,
      (r) => r.node === i,
    );
    if (idx.length) latency[`node${i} index ms per message`] = idx;
  }
  return { memory, loop, latency };
}

export interface SoakTrends {
  window: SoakWindow;
  series: SeriesTrend[];
  /** The soak_* gauges (RUN_METRICS.soak in known-metrics.ts): null when the run gave no figure. */
  metrics: Record<string, number | null>;
  /** Why a metric is null, by metric. */
  notMeasured: Record<string, string>;
}

const inWindow = (pts: Pt[], w: SoakWindow) => pts.filter((p) => p.t >= w.fromSec && p.t <= w.toSec);

/** The trends of every series over the window and the soak_* metrics the thresholds judge. */
export function soakTrends(set: SoakSeriesSet, w: SoakWindow): SoakTrends {
  const series: SeriesTrend[] = [];
  for (const kind of ['memory', 'loop', 'latency'] as const)
    for (const [name, pts] of Object.entries(set[kind])) series.push(seriesTrend(name, kind, inWindow(pts, w), w.intervalSec));
  const metrics: Record<string, number | null> = {};
  const notMeasured: Record<string, string> = {};
  const pick = (metric: string, names: (s: SeriesTrend) => boolean, stat: 'slopePerHour' | 'driftPct') => {
    const xs = series.filter(names).filter((s) => s.samples >= 3);
    const vals = xs.map((s) => s[stat]).filter((v): v is number => v !== null);
    metrics[metric] = vals.length ? Math.max(...vals) : null;
    if (!vals.length)
      notMeasured[metric] = xs.length
        ? `${stat === 'driftPct' ? 'no first-third median above 0' : 'no slope'} in ${xs.map((s) => s.name).join(', ')}`
        : `no samples of ${
            series
              .filter(names)
              .map((s) => s.name)
              .join(', ') || 'that series'
          } inside the window (${w.fromSec}–${w.toSec} s)`;
  };
  pick('soak_server_heap_growth', (s) => /^node\d+ heap used$/.test(s.name), 'slopePerHour');
  pick('soak_server_rss_growth', (s) => /^node\d+ RSS$/.test(s.name), 'slopePerHour');
  pick('soak_generator_heap_growth', (s) => s.name === 'generator heap used', 'slopePerHour');
  pick('soak_generator_rss_growth', (s) => s.name === 'generator RSS', 'slopePerHour');
  pick('soak_e2e_p95_drift', (s) => s.name === 'ws_msg_e2e p95', 'driftPct');
  pick('soak_api_p95_drift', (s) => s.name === 'api_req_duration p95', 'driftPct');
  pick('soak_server_loop_p99_drift', (s) => /^node\d+ loop p99$/.test(s.name), 'driftPct');
  pick('soak_generator_loop_p99_drift', (s) => s.name === 'generator loop p99', 'driftPct');
  return { window: w, series, metrics, notMeasured };
}
