// bench:fanout's verdicts per rate, apart from the script so they can be tested: does a server
// hold a rate, and where is its saturation point. A rate holds when e2e p95 (from the intended
// send time) is under the bound and no message or delivery went missing in any way; the
// saturation point is the highest rate of the list that holds, and it is labelled
// generator-bound when the generator, not the server, may have been the limit.

export interface RateRun {
  rate: number;
  p95: number;
  lost: number;
  unanswered: number;
  refused: number;
  skipped: number;
  closedUnexpectedly: number;
  generatorCpuPct: number;
  /** Server CPU over the run, % of one core summed over its nodes (when measured). */
  serverCpuPct?: number;
  /** Hypervisor steal over the run (/proc/stat), % of one core summed over all cores (when measured). */
  stealPct?: number;
}

/** A server below this share of a core (per node) at a failing rate was not the limit: the machine was. */
export const SERVER_BUSY_PCT = 80;

const f = (n: number | undefined, d = 1) => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(d));

export function holdsAt(r: RateRun, p95Bound: number): boolean {
  return r.p95 < p95Bound && r.lost === 0 && r.unanswered === 0 && r.refused === 0 && r.skipped === 0 && r.closedUnexpectedly === 0;
}

/** What made a rate fail, e.g. "p95 73.0 ms, 12 lost". */
export function whyNotAt(r: RateRun, p95Bound: number): string {
  const w: string[] = [];
  if (!(r.p95 < p95Bound)) w.push(`p95 ${f(r.p95)} ms`);
  if (r.lost) w.push(`${r.lost} lost`);
  if (r.unanswered) w.push(`${r.unanswered} unanswered`);
  if (r.refused) w.push(`${r.refused} refused`);
  if (r.skipped) w.push(`${r.skipped} skipped`);
  if (r.closedUnexpectedly) w.push(`${r.closedUnexpectedly} closed`);
  return w.join(', ');
}

/**
 * Rates ascending: the highest that holds before the first that fails (a rate above a failing
 * one that happens to pass again is not a saturation point). Labelled generator-bound when the
 * generator used ≥ genBoundPct of a core at the failing rate (or at the top rate, when none fails).
 */
export function saturation<R extends RateRun>(
  runs: R[],
  p95Bound: number,
  genBoundPct: number,
  nodes = 1,
): { holds?: R; fails?: R; generatorBound: boolean; label: string } {
  const sorted = [...runs].sort((a, b) => a.rate - b.rate);
  let best: R | undefined;
  let fail: R | undefined;
  for (const r of sorted) {
    if (holdsAt(r, p95Bound)) best = r;
    else {
      fail = r;
      break;
    }
  }
  const top = sorted.at(-1);
  if (!fail) {
    const gb = !!top && top.generatorCpuPct >= genBoundPct;
    return {
      holds: best,
      generatorBound: gb,
      label: `not reached: every rate up to ${top?.rate ?? '-'} msg/s holds${gb ? ` (generator-bound: the generator used ${f(top!.generatorCpuPct, 0)}% of a core at ${top!.rate} msg/s, so a higher rate would measure the generator)` : ''}`,
    };
  }
  if (fail.generatorCpuPct >= genBoundPct)
    return {
      holds: best,
      fails: fail,
      generatorBound: true,
      label: `generator-bound: at ${fail.rate} msg/s the generator used ${f(fail.generatorCpuPct, 0)}% of a core, so the failure there may be the generator's, not the server's`,
    };
  if (fail.serverCpuPct !== undefined && fail.serverCpuPct < SERVER_BUSY_PCT * nodes)
    return {
      holds: best,
      fails: fail,
      generatorBound: false,
      label: `machine-bound: at ${fail.rate} msg/s (${whyNotAt(fail, p95Bound)}) the server used only ${f(fail.serverCpuPct, 0)}% of a core${nodes > 1 ? ` over ${nodes} nodes` : ''} and the generator ${f(fail.generatorCpuPct, 0)}%${fail.stealPct !== undefined && !Number.isNaN(fail.stealPct) ? `, hypervisor steal ${f(fail.stealPct)}% of a core` : ''}: other processes${fail.stealPct ? ' or other guests of the host' : ''} held the CPUs, so this is not the server's saturation point`,
    };
  return {
    holds: best,
    fails: fail,
    generatorBound: false,
    label: `server-bound: at ${fail.rate} msg/s (${whyNotAt(fail, p95Bound)}) the generator had headroom (${f(fail.generatorCpuPct, 0)}% of a core)`,
  };
}

/**
 * The search bench:fanout --sweep runs: step up from `start` by `factor` until a rate fails (or
 * `max` holds), then bisect between the highest rate that held and the lowest that failed until
 * they are within `resolution` (a fraction of the passing rate, and never under `minStep` msg/s).
 * When the first rate already fails it steps down by `factor` until one holds (or under
 * `minStep`). Returns the next rate to run, or undefined when the search is done.
 * Assumes a monotone server (holds below its point, fails above); a noisy pass above a fail is
 * ignored: the bracket is always [highest pass below the lowest fail, lowest fail].
 */
export interface SweepOptions {
  start: number;
  factor: number;
  max: number;
  resolution: number;
  minStep: number;
}

export function bracket<R extends RateRun>(runs: R[], p95Bound: number): { pass?: R; fail?: R } {
  const sorted = [...runs].sort((a, b) => a.rate - b.rate);
  const fail = sorted.find((r) => !holdsAt(r, p95Bound));
  const pass = sorted.filter((r) => holdsAt(r, p95Bound) && (!fail || r.rate < fail.rate)).at(-1);
  return { pass, fail };
}

export function nextSweepRate(runs: RateRun[], p95Bound: number, o: SweepOptions): number | undefined {
  if (!runs.length) return o.start;
  const { pass, fail } = bracket(runs, p95Bound);
  const tried = new Set(runs.map((r) => r.rate));
  const round = (x: number) => Math.max(o.minStep, Math.round(x / o.minStep) * o.minStep);
  if (!fail) {
    const top = Math.max(...runs.map((r) => r.rate));
    if (top >= o.max) return undefined;
    return Math.min(o.max, round(top * o.factor));
  }
  if (!pass) {
    const down = round(fail.rate / o.factor);
    return down < fail.rate && !tried.has(down) ? down : undefined;
  }
  const gap = fail.rate - pass.rate;
  if (gap <= Math.max(o.minStep, pass.rate * o.resolution)) return undefined;
  const mid = round((pass.rate + fail.rate) / 2);
  return mid > pass.rate && mid < fail.rate && !tried.has(mid) ? mid : undefined;
}
