// The soak profile and its trends (issue 15), and the per-node GC and slow-consumer figures the
// collector scrapes (issue 12): pure functions over samples built here, and the profile's config.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs } from '../../src/loadtest/cli.js';
import { profileConfig, stagesDuration } from '../../src/loadtest/config.js';
import { findMetric } from '../../src/loadtest/known-metrics.js';
import { evaluateThresholds, gauge } from '../../src/loadtest/metrics.js';
import { scrapeByLabel, scrapeValues } from '../../src/loadtest/samplers/collector.js';
import { gcOf, slowConsumersOf } from '../../src/loadtest/summary.js';
import { linearFit, seriesTrend, soakSeries, soakTrends, type Pt } from '../../src/loadtest/trends.js';

test('linearFit: the slope of an exact line, its standard error 0; noise gives a standard error; too few points give null', () => {
  const line = Array.from({ length: 50 }, (_, i) => ({ t: i, v: 100 + 2 * i }));
  const f = linearFit(line)!;
  assert.ok(Math.abs(f.slope - 2) < 1e-9);
  assert.ok(Math.abs(f.intercept - 100) < 1e-9);
  assert.ok((f.stderr ?? 1) < 1e-9);
  const saw = Array.from({ length: 300 }, (_, i) => ({ t: i, v: 100 + (i % 30) }));
  const g = linearFit(saw)!;
  assert.ok(Math.abs(g.slope) < 0.05, `a sawtooth has no trend (slope ${g.slope})`);
  assert.ok((g.stderr ?? 0) > 0);
  assert.equal(linearFit([{ t: 1, v: 1 }]), null);
  assert.equal(
    linearFit([
      { t: 1, v: 1 },
      { t: 1, v: 2 },
    ]),
    null,
    'no spread in time: no slope',
  );
});

test('seriesTrend: growth per hour, thirds and drift, intervals as medians', () => {
  // 1 MB per minute for 30 minutes = 60 MB/h.
  const pts: Pt[] = Array.from({ length: 1800 }, (_, i) => ({ t: i, v: 200 + i / 60 }));
  const s = seriesTrend('node0 heap used', 'memory', pts, 600);
  assert.equal(s.unit, 'MB');
  assert.equal(s.samples, 1800);
  assert.equal(s.slopePerHour, 60);
  assert.equal(s.intervals.length, 3);
  assert.deepEqual(
    s.intervals.map((x) => x.from),
    [0, 600, 1200],
  );
  assert.ok(s.firstThird! < s.lastThird!);
  assert.equal(s.driftPct, Math.round(((s.lastThird! - s.firstThird!) / s.firstThird!) * 10000) / 100);
  const empty = seriesTrend('x', 'latency', [], 60);
  assert.equal(empty.samples, 0);
  assert.equal(empty.slopePerHour, null);
  assert.equal(empty.driftPct, null);
});

test('soakTrends: only the window counts; the highest node is the server figure; a series without samples is "not measured" with the reason', () => {
  const start = 1_000_000;
  const proc: Record<string, unknown>[] = [];
  const nm: Record<string, unknown>[] = [];
  for (let s = 0; s < 600; s++) {
    const ts = start + s * 1000;
    // Generator flat; node0 grows 0.01 MB/s (36 MB/h), node1 0.02 MB/s (72 MB/h); a spike before the window is left out.
    proc.push({
      ts,
      generator: { rssBytes: 300 * 1048576, heapUsedBytes: (s < 100 ? 500 : 100) * 1048576, loopP99Ms: 12 },
      node0: { rssBytes: (200 + s * 0.01) * 1048576 },
      node1: { rssBytes: (200 + s * 0.02) * 1048576 },
    });
    for (const node of [0, 1])
      nm.push({
        ts,
        node,
        nodejs_heap_size_used_bytes: (50 + s * (node + 1) * 0.01) * 1048576,
        nodejs_eventloop_lag_p99_seconds: s < 400 ? 0.01 : 0.02,
      });
  }
  const timelines = {
    ws: Array.from({ length: 600 }, (_, t) => ({
      t,
      counters: {},
      gauges: {},
      latency: { ws_msg_e2e: { count: 1, p50: 5, p95: 10, p99: 12, max: 20 } },
      workers: [],
    })),
  };
  const set = soakSeries({ process: proc, node_metrics: nm }, timelines, start, 2);
  const r = soakTrends(set, { startEpoch: start, fromSec: 120, toSec: 599, warmupSec: 60, intervalSec: 60 });
  assert.equal(r.metrics.soak_server_rss_growth, 72);
  assert.equal(r.metrics.soak_server_heap_growth, 72);
  assert.equal(r.metrics.soak_generator_heap_growth, 0, 'the heap spike before the window is not in the trend');
  assert.equal(r.metrics.soak_generator_rss_growth, 0);
  assert.equal(r.metrics.soak_e2e_p95_drift, 0);
  assert.equal(r.metrics.soak_server_loop_p99_drift, 100, 'p99 10 ms in the first third, 20 ms in the last');
  assert.equal(r.metrics.soak_api_p95_drift, null, 'no api timeline');
  assert.match(r.notMeasured.soak_api_p95_drift, /no samples of api_req_duration p95 inside the window/);
  // The thresholds read the figures as gauges: null is "not measured", a failure of the run.
  const metrics = Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, gauge(v)]));
  const v = evaluateThresholds(
    { soak_server_rss_growth: ['value<50'], soak_generator_heap_growth: ['value<50'], soak_api_p95_drift: ['value<50'] },
    metrics,
  );
  assert.deepEqual(
    v.map((x) => x.verdict),
    ['fail', 'pass', 'fail'],
  );
  assert.equal(v[2].measured, false);
});

test('soakSeries: the store time per send per interval from the running totals (diagnosis series, not judged)', () => {
  const start = 1_000_000;
  // 10 sends a second at 2 ms each for 100 s, then at 5 ms; one scrape failed (no totals) at 150 s.
  const nm: Record<string, unknown>[] = [];
  let sec = 0;
  let count = 0;
  for (let s = 0; s < 200; s++) {
    count += 10;
    sec += 10 * (s < 100 ? 0.002 : 0.005);
    nm.push(s === 150 ? { ts: start + s * 1000, node: 0 } : { ts: start + s * 1000, node: 0, storeSendSec: sec, storeSendCount: count });
  }
  const set = soakSeries({ process: [], node_metrics: nm }, {}, start, 1);
  const pts = set.latency['node0 store ms per send'];
  assert.equal(pts.length, 199 - 2, 'a point per interval, none across the failed scrape');
  assert.ok(Math.abs(pts[10].v - 2) < 1e-9 && Math.abs(pts[150].v - 5) < 1e-9, `${pts[10].v} ${pts[150].v}`);
  const r = soakTrends(set, { startEpoch: start, fromSec: 0, toSec: 199, warmupSec: 0, intervalSec: 60 });
  const t = r.series.find((x) => x.name === 'node0 store ms per send');
  assert.ok(t && t.driftPct !== null && t.driftPct > 100, 'its drift is reported with the other series');
  assert.ok(!Object.keys(r.metrics).some((k) => k.includes('store')), 'no soak_* metric judges it');
});

test('soak profile: ws and api at once, the hold follows --duration, soak thresholds are known metrics', () => {
  const c = profileConfig('soak');
  assert.equal(c.parallel, true);
  assert.deepEqual(c.scenarios, ['ws', 'api']);
  assert.equal(c.soak.duration, 3600);
  assert.equal(stagesDuration(c.ws.stages), c.soak.rampUp + 3600 + 15);
  assert.equal(c.api.duration, c.soak.rampUp + 3600);
  for (const k of Object.keys(c.thresholds).filter((x) => x.startsWith('soak_'))) assert.equal(findMetric(k)?.scenario, 'soak');
  const p = parseArgs(['--spawn', 'sqlite', '--profile', 'soak', '--duration', '5m', '--users', '2000', '--set', 'soak.warmup=60s']);
  const cfg = p.opts.cfg;
  assert.equal(cfg.soak.duration, 300);
  assert.equal(cfg.soak.warmup, 60);
  assert.equal(cfg.ws.users, 2000);
  assert.deepEqual(
    cfg.ws.stages.map((s) => [s.duration, s.target]),
    [
      [60, 2000],
      [300, 2000],
      [15, 0],
    ],
  );
  assert.equal(cfg.api.duration, 360);
  assert.equal(
    cfg.messages.duration,
    profileConfig('soak').messages.duration,
    '--duration is the hold in the soak profile, not messages.duration',
  );
  assert.throws(() => parseArgs(['--spawn', 'sqlite', '--profile', 'soak', '--set', 'soak.duration=-1']), /soak\.duration/);
  assert.throws(() => parseArgs(['--spawn', 'sqlite', '--profile', 'soak', '--set', 'parallel=maybe']), /parallel/);
});

const METRICS_TEXT = `# HELP nodejs_gc_duration_seconds Garbage collection duration by kind
nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor"} 3
nodejs_gc_duration_seconds_sum{kind="minor"} 0.25
nodejs_gc_duration_seconds_count{kind="minor"} 10
nodejs_gc_duration_seconds_sum{kind="major"} 1.5
nodejs_heap_size_used_bytes 52428800
nchat_ws_slow_consumer_closes 3
`;

test('scrape: GC seconds by kind and the slow-consumer counter from /metrics text', () => {
  assert.deepEqual(scrapeByLabel(METRICS_TEXT, 'nodejs_gc_duration_seconds_sum', 'kind'), { minor: 0.25, major: 1.5 });
  assert.deepEqual(scrapeByLabel('nothing 1\n', 'nodejs_gc_duration_seconds_sum', 'kind'), {});
  assert.deepEqual(scrapeValues(METRICS_TEXT, ['nchat_ws_slow_consumer_closes', 'nodejs_heap_size_used_bytes']), {
    nchat_ws_slow_consumer_closes: 3,
    nodejs_heap_size_used_bytes: 52428800,
  });
});

test('gcOf / slowConsumersOf: differences over the run, or "not measured" with the reason', () => {
  const rows = [
    { ts: 0, gcSecondsTotal: { minor: 1, major: 0 }, nchat_ws_slow_consumer_closes: 2 },
    { ts: 1000, gcSecondsTotal: { minor: 1.5, major: 0 }, nchat_ws_slow_consumer_closes: 2 },
    { ts: 10_000, gcSecondsTotal: { minor: 1.6, major: 0.4 }, nchat_ws_slow_consumer_closes: 7 },
  ];
  const g = gcOf(rows) as { seconds: number; byKind: Record<string, number>; pctOfWall: number; maxIntervalPct: number };
  assert.equal(g.seconds, 1);
  assert.deepEqual(g.byKind, { minor: 0.6, major: 0.4 });
  assert.equal(g.pctOfWall, 10);
  assert.equal(g.maxIntervalPct, 50, '0.5 s of GC in the first 1 s interval');
  assert.deepEqual(slowConsumersOf(rows), { closes: 5, atStart: 2, atEnd: 7 });
  assert.match(String(gcOf(rows.map(({ ts }) => ({ ts })))), /^not measured: .*no nodejs_gc_duration_seconds/);
  assert.match(String(gcOf(rows.slice(0, 1))), /^not measured: fewer than two/);
  assert.match(String(slowConsumersOf(rows.map(({ ts }) => ({ ts })))), /^not measured: .*nchat_ws_slow_consumer_closes/);
});
