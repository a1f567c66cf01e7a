// The report's GC, slow-consumer and soak figures (issues 12 and 15) from summary.json as the load
// test writes it: values when the run has them, "not measured" with the reason when it does not,
// verdicts against the targets, and the bottleneck rules they feed.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { bottlenecks } from '../../src/report/bottlenecks.js';
import { Facts } from '../../src/report/facts.js';
import type { RunData } from '../../src/report/load.js';
import { soakSection } from '../../src/report/soak.js';
import { gcRows, slowConsumerRows } from '../../src/report/system.js';
import { defaultTargets, loadTargets } from '../../src/report/targets.js';

function facts(summary: Record<string, unknown>): Facts {
  const run: RunData = {
    dir: '/nonexistent',
    summary: { run: { status: 'PASSED' }, scenarios: {}, thresholds: [], generator: {}, ...summary },
    config: null,
    environment: { cores: 2, memoryBytes: 8 * 1024 ** 3 },
    timelines: {},
    histograms: {},
    samples: {},
    logs: [],
    capacity: null,
    capacityDir: null,
    faults: null,
    missing: {},
  };
  return new Facts(run);
}

const t = defaultTargets();

test('GC and slow consumers: measured figures with a verdict against gc_time and slow_consumer_closes', () => {
  const f = facts({
    resources: {
      node0: { cpu: null, rssMB: null },
      node1: { cpu: null, rssMB: null },
      gc: {
        node0: { seconds: 3, byKind: { minor: 2, major: 1 }, wallSeconds: 100, pctOfWall: 3, maxIntervalPct: 20 },
        node1: { seconds: 25, byKind: { minor: 5, major: 20 }, wallSeconds: 100, pctOfWall: 25, maxIntervalPct: 80 },
      },
      slowConsumers: { node0: { closes: 0, atStart: 0, atEnd: 0 }, node1: { closes: 4, atStart: 1, atEnd: 5 } },
    },
  });
  const gc = gcRows(f, t);
  assert.deepEqual(
    gc.map((r) => [r.node, r.pct, r.level]),
    [
      ['node0', 3, 'ok'],
      ['node1', 25, 'warning'],
    ],
  );
  const sc = slowConsumerRows(f, t);
  assert.deepEqual(
    sc.map((r) => [r.node, r.closes, r.level]),
    [
      ['node0', 0, 'ok'],
      ['node1', 4, 'warning'],
    ],
  );
  const rules = bottlenecks(f, t, []);
  const gcFinding = rules.findings.find((x) => x.name.startsWith('Garbage collection'));
  assert.ok(gcFinding, 'node1 at 25% of wall time in GC is a finding');
  assert.match(gcFinding.symptoms, /node1 25\.0% of wall time in GC/);
  assert.ok(!/node0/.test(gcFinding.symptoms), 'a node within the target is not a symptom');
  assert.equal(gcFinding.priority, 'HIGH', '25% is more than twice the 10% target');
  const slow = rules.findings.find((x) => x.name.startsWith('Slow consumers'));
  assert.ok(slow);
  assert.match(slow.symptoms, /node1 closed 4 connection/);
});

test('GC and slow consumers: "not measured" with the reason when the run lacks them; the rules say "not evaluated"', () => {
  const old = facts({ resources: { node0: { cpu: null, rssMB: null } } });
  const gc = gcRows(old, t);
  assert.equal(gc[0].seconds, null);
  assert.match(gc[0].why ?? '', /^not measured: the run has no GC figures/);
  const reason =
    "not measured: the node's /metrics has no nodejs_gc_duration_seconds (prom-client default metrics off, or an older server)";
  const withReason = facts({
    resources: { node0: {}, gc: { node0: reason }, slowConsumers: { node0: 'not measured: fewer than two /metrics scrapes of the node' } },
  });
  assert.equal(gcRows(withReason, t)[0].why, reason);
  assert.match(slowConsumerRows(withReason, t)[0].why ?? '', /fewer than two/);
  const rules = bottlenecks(withReason, t, []);
  assert.ok(rules.checked.some((c) => c.startsWith('GC time: not evaluated (') && c.includes('nodejs_gc_duration_seconds')));
  assert.ok(rules.checked.some((c) => c.startsWith('Slow-consumer closes: not evaluated (') && c.includes('fewer than two')));
  assert.ok(!rules.findings.some((x) => /Garbage|Slow consumers/.test(x.name)));
  const remote = facts({ resources: {} });
  assert.match(gcRows(remote, t)[0].why ?? '', /no \/metrics samples/);
});

test('soak: no section for a run that is not a soak; rows with verdicts; a soak without figures says why', () => {
  assert.equal(soakSection(facts({}), t), null);
  const window = { startEpoch: 0, fromSec: 180, toSec: 3660, warmupSec: 120, intervalSec: 60 };
  const f = facts({
    soak: {
      window,
      series: [
        { name: 'node0 heap used', kind: 'memory', unit: 'MB', samples: 3480, slopePerHour: 80, slopeStderrPerHour: 2.5, intervals: [] },
      ],
      metrics: {
        soak_server_heap_growth: 80,
        soak_server_rss_growth: 20,
        soak_generator_heap_growth: 1,
        soak_generator_rss_growth: 2,
        soak_e2e_p95_drift: 10,
        soak_api_p95_drift: null,
        soak_server_loop_p99_drift: 0,
        soak_generator_loop_p99_drift: 5,
      },
      notMeasured: { soak_api_p95_drift: 'no samples of api_req_duration p95 inside the window (180–3660 s)' },
    },
  });
  const s = soakSection(f, t)!;
  const by = Object.fromEntries(s.rows.map((r) => [r.label, r]));
  assert.equal(by['Server heap used growth'].status, 'fail');
  assert.equal(by['Server heap used growth'].target, '<50 MB/h');
  assert.match(by['Server heap used growth'].actual, /^80\.0 MB\/h \(± 2\.5 std\. error\)$/);
  assert.equal(by['Server RSS growth'].status, 'pass');
  assert.equal(by['Generator RSS growth'].status, 'none', 'no target: shown, not judged');
  assert.equal(by['API p95 drift'].status, 'not measured');
  assert.match(by['API p95 drift'].actual, /no samples of api_req_duration p95/);
  const rules = bottlenecks(f, t, []);
  const flat = rules.findings.find((x) => x.name === 'Not flat over the soak');
  assert.ok(flat);
  assert.match(flat.symptoms, /Server heap used growth 80\.0 MB\/h/);
  const none = soakSection(facts({ soak: 'not measured: no scenario started' }), t)!;
  assert.equal(none.window, null);
  assert.equal(none.why, 'not measured: no scenario started');
});

test('the strict targets file states the soak and GC criteria', () => {
  const strict = loadTargets(join(import.meta.dirname, '..', '..', 'config', 'targets.strict.json'));
  for (const k of [
    'soak_server_heap_growth',
    'soak_server_rss_growth',
    'soak_generator_heap_growth',
    'soak_latency_drift',
    'soak_loop_drift',
    'gc_time',
    'slow_consumer_closes',
  ] as const)
    assert.ok(strict.byKey[k].value < defaultTargets().byKey[k].value || k === 'slow_consumer_closes', `${k} is stricter than the default`);
  assert.equal(strict.unit('soak_server_heap_growth'), 'MB/h');
});
