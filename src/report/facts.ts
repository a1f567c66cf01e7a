// Typed reads of a run: each figure comes back as {v, why} — the value, or null and the reason
// it was not measured (scenario not run, no sample, not collected). Percentiles come from the
// raw histograms (load.ts trendOf), counts and rates from summary.json's scenario metrics.
import type { TrendSummary } from '../loadtest/hist.js';
import { type RunData, trendOf } from './load.js';

/** A measured figure, or null with the reason it is not there. */
export interface M {
  v: number | null;
  why?: string;
}
export const nm = (why: string): M => ({ v: null, why });
export const val = (v: number | null | undefined, why = 'not measured: no value in the run'): M =>
  typeof v === 'number' && Number.isFinite(v) ? { v } : { v: null, why };

type Stat = 'count' | 'avg' | 'min' | 'p50' | 'p90' | 'p95' | 'p99' | 'max';

export class Facts {
  constructor(readonly run: RunData) {}

  get s() {
    return this.run.summary;
  }

  ran(sc: string): boolean {
    return Boolean(this.s.scenarios?.[sc]);
  }

  /** Why a scenario has no figures: the run's own reason, else "not run in this test". */
  whyNot(sc: string): string {
    const r = this.s.notRun?.[sc];
    if (r) return `not measured: scenario ${sc} ${r}`;
    const listed = (this.run.config?.config as { scenarios?: string[] } | undefined)?.scenarios;
    if (listed && !listed.includes(sc))
      return `not measured: scenario ${sc} not run in this test (not in --scenarios: ${listed.join(',')})`;
    return `not measured: scenario ${sc} not run in this test`;
  }

  // biome-ignore lint/suspicious/noExplicitAny: see load.ts
  metric(sc: string, name: string): any {
    return this.s.scenarios?.[sc]?.metrics?.[name];
  }

  /** Whole-scenario trend from histograms/<sc>.json; null + reason when absent or empty. */
  trendSummary(sc: string, name: string): { t: TrendSummary | null; why?: string } {
    if (!this.ran(sc)) return { t: null, why: this.whyNot(sc) };
    const t = trendOf(this.run, sc, name);
    if (t && t.count > 0) return { t };
    const m = this.metric(sc, name);
    // A trend without a histogram in the run (e.g. files_processing, read from the server's /metrics buckets).
    if (!t && m?.type === 'trend' && m.count > 0) return { t: m };
    if (!t && !m) return { t: null, why: `not measured: the run has no ${name} histogram` };
    return { t: null, why: `not measured: no ${name} sample in the run (nothing of that kind succeeded)` };
  }

  trend(sc: string, name: string, stat: Stat): M {
    const { t, why } = this.trendSummary(sc, name);
    return t ? val(t[stat]) : nm(why ?? 'not measured');
  }

  count(sc: string, name: string): M {
    if (!this.ran(sc)) return nm(this.whyNot(sc));
    const m = this.metric(sc, name);
    if (m?.type === 'counter') return val(m.count);
    const raw = this.s.scenarios[sc].info?.counters?.[name];
    return typeof raw === 'number' ? val(raw) : nm(`not measured: the run reports no ${name}`);
  }

  /** A rate metric as a percentage (0–100). */
  ratePct(sc: string, name: string): M {
    if (!this.ran(sc)) return nm(this.whyNot(sc));
    const m = this.metric(sc, name);
    if (m?.type !== 'rate') return nm(`not measured: the run reports no ${name}`);
    return m.rate === null ? nm(`not measured: ${name} had nothing to count`) : val(m.rate * 100);
  }

  gauge(sc: string, name: string): M {
    if (!this.ran(sc)) return nm(this.whyNot(sc));
    const m = this.metric(sc, name);
    return m?.type === 'gauge' ? val(m.value, `not measured: ${name} has no value`) : nm(`not measured: the run reports no ${name}`);
  }

  /** Counter per second over the scenario (summary's counter rate). */
  perSec(sc: string, name: string): M {
    if (!this.ran(sc)) return nm(this.whyNot(sc));
    const m = this.metric(sc, name);
    return m?.type === 'counter' ? val(m.rate) : nm(`not measured: the run reports no ${name}`);
  }

  /** The first candidate metric name the scenario reports (for scenarios whose names evolve). */
  pick(sc: string, names: string[]): string | null {
    const ms = this.s.scenarios?.[sc]?.metrics ?? {};
    const hs = this.run.histograms[sc] ?? {};
    for (const n of names) if (ms[n] || hs[n]) return n;
    return null;
  }
}

/** a + b + …, null (with the first reason) when any part is null. */
export function sum(...ms: M[]): M {
  let s = 0;
  for (const m of ms) {
    if (m.v === null) return m;
    s += m.v;
  }
  return { v: s };
}

export function ratio(a: M, b: M, scale = 1): M {
  if (a.v === null) return a;
  if (b.v === null) return b;
  return b.v === 0 ? nm('not measured: nothing attempted') : { v: (a.v / b.v) * scale };
}

/** Number formatting used everywhere in the report: ≥ 100 → integer with separators, ≥ 10 → 1 decimal, else 2. */
export function num(v: number): string {
  const a = Math.abs(v);
  if (a >= 100) return Math.round(v).toLocaleString('en-US');
  if (a >= 10) return (Math.round(v * 10) / 10).toFixed(1);
  return (Math.round(v * 100) / 100).toFixed(2);
}

/** Percentages: two decimals, so 99.95 never prints as 100. */
export function pct(v: number): string {
  return v === 0 || v === 100 ? String(v) : v.toFixed(2);
}

/** Integer counts keep every digit. */
export function int(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}

export function fmt(m: M, unit: string): string {
  if (m.v === null) return m.why ?? 'not measured';
  if (unit === 'count' || unit === 'users') return int(m.v);
  if (unit === 'ms') return `${num(m.v)} ms`;
  if (unit === '%') return `${pct(m.v)}%`;
  if (unit === '') return num(m.v);
  return `${num(m.v)} ${unit}`;
}
