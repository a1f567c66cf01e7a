// Latency histograms for the load generator: HDR histograms recorded in microseconds,
// mergeable across worker processes and stored in the run directory as compressed base64
// (the HdrHistogram interchange encoding, readable by any HdrHistogram implementation).
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/** A new histogram for durations in µs: 3 significant digits, auto-resizing (no value is clipped). */
export function newHist(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
}

/** Records a duration given in milliseconds (fractional allowed). Negative or non-finite values are clamped/ignored. */
export function recordMs(h: Histogram, ms: number): void {
  if (!Number.isFinite(ms)) return;
  h.recordValue(Math.max(1, Math.round(ms * 1000)));
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
}

const r3 = (us: number) => Math.round(us) / 1000;

/** Summary in milliseconds; every statistic is null when nothing was recorded (never a made-up 0). */
export function summarizeHist(h: Histogram): TrendSummary {
  const n = h.totalCount;
  if (n === 0) return { type: 'trend', unit: 'ms', count: 0, avg: null, min: null, p50: null, p90: null, p95: null, p99: null, max: null };
  return {
    type: 'trend',
    unit: 'ms',
    count: n,
    avg: r3(h.mean),
    min: r3(h.minNonZeroValue),
    p50: r3(h.getValueAtPercentile(50)),
    p90: r3(h.getValueAtPercentile(90)),
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

  record(name: string, ms: number): void {
    let h = this.interval.get(name);
    if (!h) this.interval.set(name, (h = newHist()));
    recordMs(h, ms);
  }

  /** Encoded histograms recorded since the last call; empty ones are left out. */
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
