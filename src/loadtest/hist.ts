// Latency histograms for the load generator: HDR histograms recorded in microseconds,
// mergeable across worker processes and stored in the run directory as compressed base64
// (the HdrHistogram interchange encoding, readable by any HdrHistogram implementation).
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/** A new histogram for durations in µs: 3 significant digits, auto-resizing (no value is clipped). */
export function newHist(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
}

/**
 * Records a duration given in milliseconds (fractional allowed). A negative or non-finite
 * duration is a clock error of the generator (an end before its start, a missing timestamp):
 * it is not recorded, and false is returned so the caller counts it (HistSet does) instead of
 * the histogram silently clamping it to the smallest value. 0 ≤ ms < 1 µs records as 1 µs
 * (the histogram's lowest value): a real, if tiny, duration.
 */
export function recordMs(h: Histogram, ms: number): boolean {
  if (!Number.isFinite(ms) || ms < 0) return false;
  h.recordValue(Math.max(1, Math.round(ms * 1000)));
  return true;
}

/** Counter name under which a worker counts the clock errors of histogram `hist`. */
export const CLOCK_ERROR_PREFIX = 'clock_errors:';

/** Clock errors per histogram name from a scenario's merged counters (empty when there were none). */
export function clockErrorsOf(counters: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(counters)) if (k.startsWith(CLOCK_ERROR_PREFIX) && v > 0) out[k.slice(CLOCK_ERROR_PREFIX.length)] = v;
  return out;
}

/**
 * Puts each histogram's clock errors on its trend metric (`clockErrors`, by the metric of the
 * same name, or with ':' read as '_') and returns one notice line per histogram, for summary.json
 * and summary.md. Those durations are in no percentile: the notice says how many are missing.
 */
export function reportClockErrors(scenario: string, counters: Record<string, number>, metrics: Record<string, { type: string }>): string[] {
  const lines: string[] = [];
  for (const [hist, n] of Object.entries(clockErrorsOf(counters))) {
    const m = metrics[hist] ?? metrics[hist.replace(/:/g, '_')];
    if (m && m.type === 'trend') (m as TrendSummary).clockErrors = n;
    lines.push(
      `CLOCK ERRORS: ${scenario}: ${n} negative or non-finite duration(s) in ${hist} were not recorded (the generator measured an end before its start); its figures leave them out`,
    );
  }
  return lines;
}

export function encodeHist(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHist(b64: string): Histogram {
  return hdr.decodeFromCompressedBase64(b64, 32, false);
}

/** Merges encoded histograms into one fresh histogram (an empty list gives an empty histogram). */
export function mergeEncoded(list: readonly string[]): Histogram {
  const out = newHist();
  for (const b of list) out.add(decodeHist(b));
  return out;
}

export interface TrendSummary {
  type: 'trend';
  unit: 'ms';
  count: number;
  avg: number | null;
  min: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  /** Durations not recorded because they were negative or non-finite (present only when > 0). */
  clockErrors?: number;
}

const r3 = (us: number) => Math.round(us) / 1000;

/** The index-level view of hdr-histogram-js's JavaScript histograms (public methods, untyped there). */
interface IndexedHist {
  countsArrayLength: number;
  getCountAtIndex(i: number): number;
  valueFromIndex(i: number): number;
  highestEquivalentValue(v: number): number;
  medianEquivalentValue(v: number): number;
}

/**
 * The same mean as `h.mean`, to the last bit (the same terms added in the same order), in one
 * loop over the counts array. `h.mean` walks a RecordedValuesIterator that allocates and
 * re-derives bucket positions for every step: the pool summarizes every latency histogram every
 * second, and that getter alone was ~10% of a core in the generator's main process during the
 * API scenario (node --cpu-prof, 2026-12-02), CPU taken from the server it measures.
 */
export function meanOf(h: Histogram): number {
  const x = h as unknown as IndexedHist;
  const n = h.totalCount;
  if (n === 0) return 0;
  if (typeof x.getCountAtIndex !== 'function' || typeof x.countsArrayLength !== 'number') return h.mean;
  let seen = 0;
  let total = 0;
  for (let i = 0; i < x.countsArrayLength && seen < n; i++) {
    const c = x.getCountAtIndex(i);
    if (c === 0) continue;
    seen += c;
    total += x.medianEquivalentValue(x.highestEquivalentValue(x.valueFromIndex(i))) * c;
  }
  return total / n;
}

/** Summary in milliseconds; every statistic is null when nothing was recorded (never a made-up 0). */
export function summarizeHist(h: Histogram): TrendSummary {
  const n = h.totalCount;
  if (n === 0) return { type: 'trend', unit: 'ms', count: 0, avg: null, min: null, p50: null, p90: null, p95: null, p99: null, max: null };
  const q = quantilesOf(h);
  return {
    type: 'trend',
    unit: 'ms',
    count: n,
    avg: r3(meanOf(h)),
    min: r3(h.minNonZeroValue),
    p50: q.p50,
    p90: r3(h.getValueAtPercentile(90)),
    p95: q.p95,
    p99: q.p99,
    max: q.max,
  };
}

/** A timeline row's figures for one latency histogram (ms; null when nothing was recorded). */
export interface Quantiles {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/**
 * The percentiles of a timeline row (the same figures summarizeHist gives), without the mean:
 * the pool summarizes every latency histogram every second, and a row shows no average.
 */
export function quantilesOf(h: Histogram): Quantiles {
  const count = h.totalCount;
  if (count === 0) return { count, p50: null, p95: null, p99: null, max: null };
  return {
    count,
    p50: r3(h.getValueAtPercentile(50)),
    p95: r3(h.getValueAtPercentile(95)),
    p99: r3(h.getValueAtPercentile(99)),
    // Percentile 100 (the bucket's highest equivalent value), so a summary is the same before and after encode/merge.
    max: r3(h.getValueAtPercentile(100)),
  };
}

/**
 * A named set of histograms in one worker: `take()` hands out the interval's encoded
 * histograms (for per-second timelines) and folds them into the cumulative ones.
 */
export class HistSet {
  private interval = new Map<string, Histogram>();
  private total = new Map<string, Histogram>();
  /** Clock errors (negative or non-finite durations) by histogram name since the start. */
  readonly clockErrors = new Map<string, number>();

  /** @param onClockError called once per duration not recorded (the worker counts it as `clock_errors:<name>`). */
  constructor(private readonly onClockError?: (name: string) => void) {}

  record(name: string, ms: number): void {
    let h = this.interval.get(name);
    if (!h) this.interval.set(name, (h = newHist()));
    if (!recordMs(h, ms)) {
      this.clockErrors.set(name, (this.clockErrors.get(name) ?? 0) + 1);
      this.onClockError?.(name);
    }
  }

  /** Encoded histograms recorded since the last call; empty ones are left out (and so are clock errors). */
  take(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, h] of this.interval) {
      if (h.totalCount === 0) continue;
      out[name] = encodeHist(h);
      let t = this.total.get(name);
      if (!t) this.total.set(name, (t = newHist()));
      t.add(h);
      h.reset();
    }
    return out;
  }

  /** Cumulative encoded histograms (call take() first so the last interval is included). */
  totals(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, h] of this.total) out[name] = encodeHist(h);
    return out;
  }
}

/** Summary of an encoded histogram; a missing one summarizes as empty (count 0, statistics null). */
export function summarizeEncoded(b64: string | undefined): TrendSummary {
  return summarizeHist(b64 ? decodeHist(b64) : newHist());
}
