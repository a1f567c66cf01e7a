// Metric summaries and k6-style thresholds ("p(95)<150", "rate>0.99", "count<100", "max<2000").
// A threshold names one metric of summary.json; its verdict is computed from the measured
// figure only. A metric that was not measured gives "not evaluated", never a pass.
import type { TrendSummary } from './hist.js';

export interface CounterSummary { type: 'counter'; count: number; rate: number | null }
export interface RateSummary { type: 'rate'; rate: number | null; passes: number; fails: number }
export interface GaugeSummary { type: 'gauge'; value: number | null; unit?: string }
export type MetricSummary = TrendSummary | CounterSummary | RateSummary | GaugeSummary;

export function counter(count: number, seconds: number): CounterSummary {
  return { type: 'counter', count, rate: seconds > 0 ? round(count / seconds, 3) : null };
}
export function rate(passes: number, fails: number): RateSummary {
  const n = passes + fails;
  return { type: 'rate', rate: n > 0 ? round(passes / n, 6) : null, passes, fails };
}
export function gauge(value: number | null, unit?: string): GaugeSummary {
  return unit ? { type: 'gauge', value, unit } : { type: 'gauge', value };
}
export function round(v: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export interface ThresholdVerdict {
  metric: string;
  expression: string;
  /** The measured figure the expression was checked against; null when not measured. */
  actual: number | null;
  verdict: 'pass' | 'fail' | 'not evaluated';
  reason?: string;
}

const EXPR = /^\s*(avg|min|max|med|count|rate|value|p\((\d+(?:\.\d+)?)\))\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;

/** Throws on a malformed expression (so a profile or override with a typo is a usage error). */
export function parseThreshold(expression: string): { stat: string; op: string; value: number } {
  const m = EXPR.exec(expression);
  if (!m) throw new Error(`bad threshold "${expression}": expected e.g. p(95)<200, avg<50, max<2000, count<100, rate>0.99, value>=1000`);
  const stat = m[2] ? `p${m[2]}` : m[1] === 'med' ? 'p50' : m[1];
  return { stat, op: m[3], value: Number(m[4]) };
}

function statOf(m: MetricSummary, stat: string): number | null | undefined {
  if (m.type === 'trend') {
    if (stat === 'count') return m.count;
    if (stat === 'avg' || stat === 'min' || stat === 'max') return m[stat];
    if (stat.startsWith('p')) {
      const key = stat as keyof TrendSummary;
      return key in m ? (m[key] as number | null) : undefined;
    }
    return undefined;
  }
  if (m.type === 'counter') return stat === 'count' ? m.count : stat === 'rate' ? m.rate : undefined;
  if (m.type === 'rate') return stat === 'rate' ? m.rate : stat === 'count' ? m.passes + m.fails : undefined;
  return stat === 'value' ? m.value : undefined;
}

function compare(a: number, op: string, b: number): boolean {
  switch (op) {
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    case '>=': return a >= b;
    case '==': return a === b;
    default: return a !== b;
  }
}

/**
 * Checks every threshold against the metrics. `ran` says which metric names belong to
 * scenarios that ran; thresholds on other metrics are "not evaluated" (scenario not run).
 */
export function evaluateThresholds(thresholds: Record<string, string[]>, metrics: Record<string, MetricSummary>): ThresholdVerdict[] {
  const out: ThresholdVerdict[] = [];
  for (const [metric, exprs] of Object.entries(thresholds)) {
    for (const expression of exprs) {
      const m = metrics[metric];
      if (!m) {
        out.push({ metric, expression, actual: null, verdict: 'not evaluated', reason: 'metric not in this run (scenario not run or not measured)' });
        continue;
      }
      const { stat, op, value } = parseThreshold(expression);
      const actual = statOf(m, stat);
      if (actual === undefined) {
        out.push({ metric, expression, actual: null, verdict: 'fail', reason: `statistic ${stat} does not apply to a ${m.type} metric` });
      } else if (actual === null) {
        // Nothing measured where something was expected (e.g. no latency sample at all): that is a failure of the run.
        out.push({ metric, expression, actual: null, verdict: 'fail', reason: 'no samples' });
      } else {
        out.push({ metric, expression, actual, verdict: compare(actual, op, value) ? 'pass' : 'fail' });
      }
    }
  }
  return out;
}
