// bench:fanout --sweep's search (bench/saturation.ts nextSweepRate): step up by the factor until
// a rate fails, then bisect between the last pass and the first fail, down to the resolution.
// Driven here by a model server that holds every rate up to a known point.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bracket, nextSweepRate, type RateRun, type SweepOptions } from '../../bench/saturation.js';

const opts: SweepOptions = { start: 500, factor: 2, max: 20_000, resolution: 0.1, minStep: 50 };
const run = (rate: number, ok: boolean, extra: Partial<RateRun> = {}): RateRun => ({
  rate,
  p95: ok ? 10 : 80,
  lost: 0,
  unanswered: 0,
  refused: 0,
  skipped: 0,
  closedUnexpectedly: 0,
  generatorCpuPct: 50,
  ...extra,
});

/** Runs the search against a server that holds every rate ≤ point; returns the rates tried. */
function search(point: number, o = opts): number[] {
  const runs: RateRun[] = [];
  for (let rate = nextSweepRate(runs, 50, o); rate !== undefined; rate = nextSweepRate(runs, 50, o)) {
    assert.ok(runs.length < 40, 'the search ends');
    assert.ok(!runs.some((r) => r.rate === rate), `rate ${rate} is not tried twice`);
    runs.push(run(rate, rate <= point));
  }
  return runs.map((r) => r.rate);
}

test('steps up ×2, then bisects between the last pass and the first fail to within 10%', () => {
  const tried = search(5_600);
  assert.deepEqual(tried.slice(0, 6), [500, 1000, 2000, 4000, 8000, 6000]);
  const runs = tried.map((r) => run(r, r <= 5_600));
  const { pass, fail } = bracket(runs, 50);
  assert.ok(pass && fail);
  assert.ok(pass.rate <= 5_600 && fail.rate > 5_600, `bracket [${pass.rate}, ${fail.rate}] holds the point`);
  assert.ok(fail.rate - pass.rate <= Math.max(50, pass.rate * 0.1), `bracket [${pass.rate}, ${fail.rate}] within 10%`);
});

test('a server that holds everything: stops at --sweep-max; one that fails at the start: steps down', () => {
  assert.deepEqual(search(1e9), [500, 1000, 2000, 4000, 8000, 16000, 20000]);
  const low = search(120);
  assert.deepEqual(low.slice(0, 4), [500, 250, 150, 100]);
  const { pass, fail } = bracket(
    low.map((r) => run(r, r <= 120)),
    50,
  );
  assert.equal(pass?.rate, 100);
  assert.equal(fail?.rate, 150);
  assert.deepEqual(search(10), [500, 250, 150, 100, 50], 'nothing holds: ends at the smallest step');
});

test('any loss fails a step even with a low p95; a noisy pass above a fail does not move the bracket', () => {
  const runs = [run(500, true), run(1000, true, { lost: 3 }), run(2000, true)];
  const { pass, fail } = bracket(runs, 50);
  assert.equal(pass?.rate, 500);
  assert.equal(fail?.rate, 1000);
  assert.equal(nextSweepRate(runs, 50, opts), 750);
});

test('the verdict: generator-bound, machine-bound (server under 80% of a core per node), or server-bound', async () => {
  const { saturation } = await import('../../bench/saturation.js');
  const fail = (extra: Partial<RateRun>) => [run(500, true), run(1000, false, extra)];
  assert.match(saturation(fail({ generatorCpuPct: 95, serverCpuPct: 99 }), 50, 90).label, /^generator-bound/);
  assert.match(saturation(fail({ serverCpuPct: 15 }), 50, 90).label, /^machine-bound/);
  assert.match(saturation(fail({ serverCpuPct: 120 }), 50, 90, 2).label, /^machine-bound: .* over 2 nodes/);
  assert.match(
    saturation(fail({ serverCpuPct: 40, stealPct: 35 }), 50, 90).label,
    /^machine-bound: .*hypervisor steal 35\.0% of a core: other processes or other guests/,
  );
  assert.doesNotMatch(saturation(fail({ serverCpuPct: 15 }), 50, 90).label, /steal/, 'no steal measured, none named');
  assert.match(saturation(fail({ serverCpuPct: 97 }), 50, 90).label, /^server-bound/);
  assert.match(saturation(fail({}), 50, 90).label, /^server-bound/, 'server CPU not measured: as before');
});
