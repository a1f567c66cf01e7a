// Time series for observations and charts: a scenario's per-second rows (timelines/*.ndjson)
// placed on the wall clock through the run's phases, and the 1 s resource samples of the same
// seconds (event-loop delay and CPU per node).
import type { TimelineRow } from '../loadtest/pool.js';
import type { Facts } from './facts.js';
import type { Row } from './load.js';

export interface Point {
  t: number;
  v: number;
}

/** Epoch ms at which a scenario's second 0 began (its load phase start), or null. */
export function scenarioStart(f: Facts, sc: string): number | null {
  const p = (f.s.phases ?? []).find((x: { name: string }) => x.name === sc);
  return p ? Number(p.from) : null;
}

export function rows(f: Facts, sc: string): TimelineRow[] {
  return f.run.timelines[sc] ?? [];
}

/** Per-second latency statistic of one histogram (seconds with no sample are left out). */
export function latencySeries(f: Facts, sc: string, hist: string, stat: 'p50' | 'p95' | 'p99' | 'max'): Point[] {
  return rows(f, sc).flatMap((r) => {
    const l = r.latency?.[hist];
    return l && l.count > 0 && typeof l[stat] === 'number' ? [{ t: r.t, v: l[stat] as number }] : [];
  });
}

export function counterSeries(f: Facts, sc: string, name: string): Point[] {
  return rows(f, sc).map((r) => ({ t: r.t, v: r.counters?.[name] ?? 0 }));
}

export function gaugeSeries(f: Facts, sc: string, name: string): Point[] {
  return rows(f, sc).flatMap((r) => (typeof r.gauges?.[name] === 'number' ? [{ t: r.t, v: r.gauges[name] }] : []));
}

/** Per-node event-loop delay max (ms) and process CPU (% of one core) on the scenario's clock. */
export function nodeSeries(f: Facts, sc: string): { node: string; loopMaxMs: Point[]; loopP99Ms: Point[]; cpu: Point[] }[] {
  const start = scenarioStart(f, sc);
  if (start === null) return [];
  const n = rows(f, sc).length;
  const inRange = (ts: number) => {
    const t = Math.floor((ts - start) / 1000);
    return t >= 0 && t < n + 1 ? t : null;
  };
  const nm = (f.run.samples.node_metrics ?? []).filter((r) => !r.error);
  const proc = f.run.samples.process ?? [];
  const nodes = [...new Set(nm.map((r) => Number(r.node)))].sort();
  const procNodes = Object.keys(proc[0] ?? {}).filter((k) => /^node\d+$/.test(k));
  const ids = [...new Set([...nodes.map((i) => `node${i}`), ...procNodes])].sort();
  return ids.map((id) => {
    const i = Number(id.slice(4));
    const loopMaxMs: Point[] = [];
    const loopP99Ms: Point[] = [];
    for (const r of nm.filter((x) => Number(x.node) === i)) {
      const t = inRange(Number(r.ts));
      if (t === null) continue;
      if (typeof r.nodejs_eventloop_lag_max_seconds === 'number') loopMaxMs.push({ t, v: r.nodejs_eventloop_lag_max_seconds * 1000 });
      if (typeof r.nodejs_eventloop_lag_p99_seconds === 'number') loopP99Ms.push({ t, v: r.nodejs_eventloop_lag_p99_seconds * 1000 });
    }
    const cpu: Point[] = [];
    for (const r of proc) {
      const t = inRange(Number(r.ts));
      const c = (r[id] as Row | undefined)?.cpu;
      if (t !== null && typeof c === 'number') cpu.push({ t, v: c });
    }
    return { node: id, loopMaxMs, loopP99Ms, cpu };
  });
}

/** Value of a series at second t (nearest point within ±1 s), or null. */
export function at(s: Point[], t: number): number | null {
  let best: Point | null = null;
  for (const p of s) if (Math.abs(p.t - t) <= 1 && (!best || Math.abs(p.t - t) < Math.abs(best.t - t))) best = p;
  return best ? best.v : null;
}

export function median(v: number[]): number | null {
  if (!v.length) return null;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}
