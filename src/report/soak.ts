// Soak trends in the report (issue 15): the figures summary.json `soak` holds (computed by
// src/loadtest/trends.ts from the 1 s samples of the hold after warm-up) against the soak_* targets,
// and the series the soak charts draw, rebuilt from the raw samples with the same code. A run
// that is not a soak run has no such section; a soak run without figures says why.
import type { TimelineRow } from '../loadtest/pool.js';
import { type SeriesTrend, type SoakSeriesSet, soakSeries, type SoakWindow } from '../loadtest/trends.js';
import { type Facts, nm, val } from './facts.js';
import { type ResultRow, RowMaker } from './results.js';
import type { TargetKey, Targets } from './targets.js';

export interface SoakSection {
  window: SoakWindow | null;
  rows: ResultRow[];
  series: SeriesTrend[];
  why?: string;
}

/** Row label, soak_* metric of summary.json, the series it comes from (for ± stderr), target key. */
const ROWS: [string, string, RegExp, TargetKey | undefined, string][] = [
  ['Server heap used growth', 'soak_server_heap_growth', /^node\d+ heap used$/, 'soak_server_heap_growth', 'MB/h'],
  ['Server RSS growth', 'soak_server_rss_growth', /^node\d+ RSS$/, 'soak_server_rss_growth', 'MB/h'],
  ['Generator heap used growth', 'soak_generator_heap_growth', /^generator heap used$/, 'soak_generator_heap_growth', 'MB/h'],
  ['Generator RSS growth', 'soak_generator_rss_growth', /^generator RSS$/, undefined, 'MB/h'],
  ['Chat e2e p95 drift', 'soak_e2e_p95_drift', /^ws_msg_e2e p95$/, 'soak_latency_drift', '%'],
  ['API p95 drift', 'soak_api_p95_drift', /^api_req_duration p95$/, 'soak_latency_drift', '%'],
  ['Server event-loop p99 drift', 'soak_server_loop_p99_drift', /^node\d+ loop p99$/, 'soak_loop_drift', '%'],
  ['Generator event-loop p99 drift', 'soak_generator_loop_p99_drift', /^generator loop p99$/, undefined, '%'],
];

export function soakSection(f: Facts, t: Targets): SoakSection | null {
  const s = f.s.soak;
  if (s === undefined) return null;
  if (typeof s === 'string' || !s?.metrics) return { window: null, rows: [], series: [], why: typeof s === 'string' ? s : 'not measured' };
  const rm = new RowMaker(t);
  const series = (s.series ?? []) as SeriesTrend[];
  const rows = ROWS.map(([label, metric, re, key, unit]) => {
    const m = val(s.metrics[metric], s.notMeasured?.[metric] ? `not measured: ${s.notMeasured[metric]}` : undefined);
    const r = rm.row(label, m.v === null ? nm(m.why ?? 'not measured') : m, unit, key);
    // A slope carries its standard error: over a short window it is mostly the GC sawtooth.
    const src = series.filter((x) => re.test(x.name));
    const se = unit === 'MB/h' ? src.map((x) => x.slopeStderrPerHour).filter((x): x is number => x !== null) : [];
    if (r.value !== null && se.length) r.actual = `${r.actual} (± ${Math.max(...se)} std. error)`;
    return r;
  });
  return { window: s.window ?? null, rows, series };
}

/** The soak's series over the whole run (warm-up included) from the raw samples and timelines, for the charts. */
export function soakChartSeries(f: Facts): SoakSeriesSet | null {
  const w = f.s.soak?.window as SoakWindow | undefined;
  if (!w) return null;
  const nodes = Object.keys(f.s.resources ?? {}).filter((k) => /^node\d+$/.test(k)).length || 1;
  return soakSeries(
    f.run.samples as Record<string, Record<string, unknown>[]>,
    f.run.timelines as Record<string, TimelineRow[]>,
    w.startEpoch,
    nodes,
    f.s.starts?.api,
  );
}
