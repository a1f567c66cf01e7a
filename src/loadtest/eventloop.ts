// Event-loop delay of a node over a window, from the samples the collector scraped from its
// /metrics. The server's figures (prom-client over perf_hooks.monitorEventLoopDelay, resolution
// 10 ms) are per scrape: each scrape reports min/p50/p90/p99/max/mean of the delays since the
// previous scrape and resets. Averaging per-scrape p99s is not a p99 of anything, so the scrapes
// are merged into one HDR histogram instead: each scrape's delays are placed in bands at the
// top of their band (50% at its p50, 40% at its p90, 9% at its p99, 1% at its max), weighted by
// how many delays the scrape held (its interval ÷ its mean delay: the monitor takes one sample
// per timer period, which is the mean delay). Every delay is recorded at or above its true
// value, so the merged percentiles are upper bounds of the true ones; the max is exact.
// Delays include the 10 ms sampling period (an idle loop shows ≈ 10 ms), as the server reports them.
import { newHist, summarizeHist, type TrendSummary } from './hist.js';

export interface LoopScrape {
  /** Length of the interval the scrape covers (since the previous scrape), ms. */
  sinceMs?: number;
  nodejs_eventloop_lag_p50_seconds?: number;
  nodejs_eventloop_lag_p90_seconds?: number;
  nodejs_eventloop_lag_p99_seconds?: number;
  nodejs_eventloop_lag_max_seconds?: number;
  nodejs_eventloop_lag_mean_seconds?: number;
}

const BANDS: [keyof LoopScrape, number][] = [
  ['nodejs_eventloop_lag_p50_seconds', 0.5],
  ['nodejs_eventloop_lag_p90_seconds', 0.4],
  ['nodejs_eventloop_lag_p99_seconds', 0.09],
  ['nodejs_eventloop_lag_max_seconds', 0.01],
];

export interface LoopDelaySummary extends TrendSummary {
  method: string;
  scrapes: number;
}

/** Merged delay distribution of the scrapes (ms); count = estimated delays, null stats when no usable scrape. */
export function mergeLoopScrapes(scrapes: LoopScrape[], defaultIntervalMs = 1000): LoopDelaySummary {
  const h = newHist();
  let used = 0;
  let max = -Infinity;
  for (const s of scrapes) {
    const mean = s.nodejs_eventloop_lag_mean_seconds;
    if (!(typeof mean === 'number' && mean > 0) || BANDS.some(([k]) => typeof s[k] !== 'number' || !Number.isFinite(s[k] as number)))
      continue;
    used++;
    const n = Math.max(1, Math.round((s.sinceMs ?? defaultIntervalMs) / (mean * 1000)));
    let left = n;
    BANDS.forEach(([k, share], i) => {
      const c = i === BANDS.length - 1 ? Math.max(1, left) : Math.min(left, Math.round(n * share)); // the max always counts
      left -= c;
      if (c > 0) h.recordValueWithCount(Math.max(1, Math.round((s[k] as number) * 1e6)), c);
    });
    max = Math.max(max, s.nodejs_eventloop_lag_max_seconds as number);
  }
  const t = summarizeHist(h);
  if (used) {
    t.max = Math.round(max * 1e6) / 1000;
    // HDR reports a bucket's upper edge (3 significant digits): never above the exact max.
    for (const k of ['p50', 'p90', 'p95', 'p99', 'avg'] as const) if (t[k] !== null && t[k]! > t.max) t[k] = t.max;
  }
  return {
    ...t,
    method: 'per-scrape p50/p90/p99/max merged into one histogram at the top of each band: percentiles are upper bounds; max exact',
    scrapes: used,
  };
}
