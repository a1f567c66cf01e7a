// Metric summaries and k6-style thresholds ("p(95)<150", "rate>0.99", "count<100", "max<2000").
// A threshold names one metric of summary.json (known-metrics.ts lists them); its verdict is
// computed from the measured figure only. What can go wrong is refused, not passed:
//  - a metric no scenario reports, or a statistic its type cannot give (p(99.9), value on a trend):
//    an error when the config is parsed (validateThreshold);
//  - a metric whose scenario ran but measured nothing (no sample, or a counter with no chance to
//    count: ws_msgs_missing with nothing expected): verdict "fail", reason "not measured: …";
//  - only a metric whose scenario was not run at all is "not evaluated".
import type { TrendSummary } from './hist.js';
import { KNOWN_METRICS, STATS_BY_TYPE, findMetric, closestMetric } from './known-metrics.js';

export interface CounterSummary {
  type: 'counter';
  count: number;
  rate: number | null;
}
export interface RateSummary {
  type: 'rate';
  rate: number | null;
  passes: number;
  fails: number;
}
export interface GaugeSummary {
  type: 'gauge';
  value: number | null;
  unit?: string;
}
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
  /** "fail" also when nothing was measured (then `measured` is false and `reason` says why). */
  verdict: 'pass' | 'fail' | 'not evaluated';
  measured?: boolean;
  reason?: string;
}

const EXPR = /^\s*(avg|min|max|med|count|rate|value|p\((\d+(?:\.\d+)?)\))\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;
/** The percentiles a trend summary holds (hist.ts summarizeHist); any other cannot be checked. */
export const PERCENTILES = [50, 90, 95, 99] as const;

/** Throws on a malformed expression or a percentile the summary does not hold (a usage error). */
export function parseThreshold(expression: string): { stat: string; op: string; value: number } {
  const m = EXPR.exec(expression);
  if (!m) throw new Error(`bad threshold "${expression}": expected e.g. p(95)<200, avg<50, max<2000, count<100, rate>0.99, value>=1000`);
  if (m[2] !== undefined && !(PERCENTILES as readonly number[]).includes(Number(m[2]))) {
    throw new Error(
      `bad threshold "${expression}": p(${m[2]}) is not computed; the percentiles are ${PERCENTILES.map((p) => `p(${p})`).join(', ')} (and max)`,
    );
  }
  const stat = m[2] ? `p${Number(m[2])}` : m[1] === 'med' ? 'p50' : m[1];
  return { stat, op: m[3], value: Number(m[4]) };
}

/**
 * Checks a threshold against the metric catalog: the metric must be one a scenario reports and
 * the statistic must apply to its type. Throws a readable message (typo protection at start).
 */
export function validateThreshold(metric: string, expression: string): void {
  const { stat } = parseThreshold(expression);
  const known = findMetric(metric);
  if (!known) {
    const near = closestMetric(metric);
    throw new Error(
      `thresholds.${metric}: no scenario reports a metric "${metric}"${near ? ` (did you mean "${near}"?)` : ''}; every metric a scenario reports is declared in src/loadtest/known-metrics.ts`,
    );
  }
  const allowed = STATS_BY_TYPE[known.decl.type];
  if (!allowed.includes(stat)) {
    throw new Error(
      `thresholds.${metric}: "${expression}" uses ${stat}, which a ${known.decl.type} metric does not have (it has ${allowed.join(', ')})`,
    );
  }
}

function statOf(m: MetricSummary, stat: string): number | null | undefined {
  if (m.type === 'trend') {
    // No sample: every statistic is unmeasured, count included (count<N must not pass on nothing).
    if (m.count === 0) return null;
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

/** How many events a metric counted, for a counter's basis: counter count, trend samples, rate outcomes. */
function eventsOf(m: MetricSummary | undefined): number {
  if (!m) return 0;
  if (m.type === 'counter' || m.type === 'trend') return m.count ?? 0;
  if (m.type === 'rate') return m.passes + m.fails;
  return 0;
}

function compare(a: number, op: string, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '==':
      return a === b;
    default:
      return a !== b;
  }
}

/**
 * Checks every threshold against the metrics of the scenarios that ran (the union of their
 * `metrics`). A scenario ran when any metric it declares is present; a threshold on a metric of
 * a scenario that did not run is "not evaluated"; anything else that yields no figure fails.
 */
export function evaluateThresholds(thresholds: Record<string, string[]>, metrics: Record<string, MetricSummary>): ThresholdVerdict[] {
  const ran = new Set(
    Object.entries(KNOWN_METRICS)
      .filter(([, decl]) => Object.keys(decl).some((k) => metrics[k]))
      .map(([name]) => name),
  );
  const out: ThresholdVerdict[] = [];
  const notMeasured = (metric: string, expression: string, reason: string) =>
    out.push({ metric, expression, actual: null, verdict: 'fail', measured: false, reason: `not measured: ${reason}` });
  for (const [metric, exprs] of Object.entries(thresholds)) {
    for (const expression of exprs) {
      try {
        validateThreshold(metric, expression);
      } catch (e) {
        // Normally refused when the config is parsed; a config built in code is checked here.
        out.push({ metric, expression, actual: null, verdict: 'fail', reason: (e as Error).message });
        continue;
      }
      const known = findMetric(metric)!;
      const m = metrics[metric];
      if (!m) {
        if (ran.has(known.scenario)) notMeasured(metric, expression, `scenario ${known.scenario} ran but did not report ${metric}`);
        else out.push({ metric, expression, actual: null, verdict: 'not evaluated', reason: `scenario ${known.scenario} not run` });
        continue;
      }
      const { stat, op, value } = parseThreshold(expression);
      const basis = m.type === 'counter' ? known.decl.of : undefined;
      const chances = basis?.reduce((s, k) => s + eventsOf(metrics[k]), 0);
      const actual = statOf(m, stat);
      if (actual === undefined) {
        out.push({ metric, expression, actual: null, verdict: 'fail', reason: `statistic ${stat} does not apply to a ${m.type} metric` });
      } else if (basis && chances === 0) {
        notMeasured(metric, expression, `nothing it could count (${basis.join(' + ')} = 0)`);
      } else if (actual === null) {
        // Nothing measured where something was expected (e.g. no latency sample at all): that is a failure of the run.
        notMeasured(metric, expression, m.type === 'trend' ? 'no samples' : m.type === 'rate' ? 'no outcomes' : 'no value');
      } else {
        out.push({ metric, expression, actual, verdict: compare(actual, op, value) ? 'pass' : 'fail', measured: true });
      }
    }
  }
  return out;
}
