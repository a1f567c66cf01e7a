// Derived figures: resource statistics, generator saturation verdicts and summary.md's
// "not measured" for missing figures (never a 0 that was not measured).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stats, saturation, resourceSummary } from '../../src/loadtest/summary.js';
import { markdown } from '../../src/loadtest/markdown.js';
import type { TimelineRow } from '../../src/loadtest/pool.js';

const row = (t: number, cpu: number[]): TimelineRow => ({
  t,
  counters: {},
  gauges: {},
  latency: {},
  workers: cpu.map((c) => ({ cpu: c, elu: c })),
});

test('stats: avg, max, p95 over numbers only; empty gives nulls', () => {
  assert.deepEqual(stats([]), { avg: null, max: null, p95: null, samples: 0 });
  const s = stats([1, 2, 3, null, undefined, Number.NaN, 4]);
  assert.equal(s.samples, 4);
  assert.equal(s.avg, 2.5);
  assert.equal(s.max, 4);
  assert.equal(s.p95, 4);
});

test('saturation: a worker at ≥ 90% of a core is called out loudly; an idle one is not', () => {
  const idle = saturation({ ws: [row(0, [0.1, 0.2]), row(1, [0.15, 0.1])] }, [], 2, 1);
  assert.equal(idle.saturated, false);
  assert.deepEqual(idle.warnings, []);
  const hot = saturation({ messages: Array.from({ length: 10 }, (_, i) => row(i, [0.97, 0.3])) }, [], 2, 1);
  assert.equal(hot.saturated, true);
  assert.match(hot.warnings[0], /GENERATOR SATURATED: scenario messages, worker 0/);
  const machine = saturation(
    {},
    Array.from({ length: 10 }, (_, i) => ({ ts: i, generator: { cpu: 60 }, node0: { cpu: 130 }, machine: { cpu: 199, others: 9 } })),
    2,
    1,
  );
  assert.equal(machine.machineSaturated, true);
  assert.ok(machine.warnings.some((w) => /MACHINE CPU SATURATED/.test(w)));
  const busyHost = saturation(
    {},
    Array.from({ length: 10 }, (_, i) => ({ ts: i, generator: { cpu: 10 }, machine: { cpu: 150, others: 120 } })),
    2,
    1,
  );
  assert.ok(busyHost.warnings.some((w) => /OTHER LOAD ON THE HOST/.test(w)));
  const stolen = saturation(
    {},
    Array.from({ length: 10 }, (_, i) => ({ ts: i, generator: { cpu: 10 }, machine: { cpu: 80, others: 5, steal: 30 } })),
    2,
    1,
  );
  assert.ok(stolen.warnings.some((w) => /HYPERVISOR STEAL: .* 30% of a core on average/.test(w)));
  assert.ok(!stolen.warnings.some((w) => /OTHER LOAD ON THE HOST/.test(w)), 'steal is not counted as other processes');
  assert.ok(!busyHost.warnings.some((w) => /HYPERVISOR STEAL/.test(w)), 'no steal measured, no steal warning');
});

test('summary.md prints "not measured" for what was not measured', () => {
  const res = resourceSummary({}, 1);
  const md = markdown({
    run: { status: 'FAILED', profile: 'smoke', id: 'x', startedAt: 'a', endedAt: 'b', durationSec: 1 },
    target: { nodes: ['http://h'] },
    notices: ['n1'],
    scenarios: {},
    thresholds: [{ metric: 'msg_e2e', expression: 'p(95)<25', actual: null, verdict: 'not evaluated', reason: 'metric not in this run' }],
    generator: { warnings: ['GENERATOR SATURATED: x'] },
    resources: res,
    notApplicable: { postgres: 'not applicable: SQLite' },
    postgres: 'not applicable',
    redis: 'not applicable',
    notRun: { api: 'not run: interrupted (Ctrl-C)' },
  });
  assert.match(md, /❌ FAILED/);
  assert.match(md, /\*\*GENERATOR SATURATED: x\*\*/);
  assert.match(md, /Message latency p95 \(ms, end-to-end\) \| not measured/);
  assert.match(md, /scenario api: not run: interrupted/);
  assert.match(md, /not applicable: SQLite/);
  assert.doesNotMatch(md, /\| 0 \| 0 \| 0 \|/);
});
