// Send schedules (src/loadtest/schedule.ts) and bench:fanout's saturation verdicts
// (bench/saturation.ts): latency is measured from intended times that do not depend on when
// the generator's loop happens to wake up, and a saturation point names its limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PoissonArrivals, FixedRateSchedule, seededRandom, seedOf } from '../../src/loadtest/schedule.js';
import { saturation, holdsAt } from '../../bench/saturation.js';

test("fixed rate: slot k is intended at start + k/rate, so a catch-up burst keeps each slot's own time", () => {
  const s = new FixedRateSchedule(1000, 1000, 5000); // 1000 msg/s from t=1000 ms, 5 s
  assert.equal(s.intendedAt(0), 1000);
  assert.equal(s.intendedAt(250), 1250);
  assert.equal(s.dueBy(999), 0);
  assert.equal(s.dueBy(1000), 1);
  // The generator stalls for 100 ms: 100 slots are due at once, and their lags are 100 … 1 ms,
  // not 0 (the old code stamped each with the actual send time).
  const now = 1100;
  const due = s.dueBy(now);
  assert.equal(due, 101);
  const lags = Array.from({ length: due }, (_, k) => now - s.intendedAt(k));
  assert.equal(lags[0], 100);
  assert.equal(lags[99], 1);
  assert.equal(lags[100], 0);
  assert.equal(s.dueBy(1e9), 5000, 'capped at the schedule length');
});

test('seeded RNG: same seed, same sequence; different seeds differ; values in [0, 1)', () => {
  const a = seededRandom(seedOf('abc0'));
  const b = seededRandom(seedOf('abc0'));
  const c = seededRandom(seedOf('abc1'));
  const xs = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(
    Array.from({ length: 1000 }, () => b()),
    xs,
  );
  assert.notDeepEqual(
    Array.from({ length: 1000 }, () => c()),
    xs,
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
});

test("Poisson arrivals: count, exponential gaps (mean and CV ≈ 1), times independent of the loop's wake-ups", () => {
  const rate = 100; // per second
  const run = (step: () => number) => {
    const p = new PoissonArrivals(seededRandom(42), 0);
    const out: number[] = [];
    for (let now = 0; now < 200_000; ) {
      now = Math.min(200_000, now + step());
      out.push(...p.advance(now, rate));
    }
    return out;
  };
  const jitter = seededRandom(7);
  const even = run(() => 50);
  const uneven = run(() => 1 + jitter() * 300); // a loop that wakes at random moments
  assert.equal(uneven.length, even.length);
  for (let i = 0; i < even.length; i++) assert.ok(Math.abs(even[i] - uneven[i]) < 1e-6, `arrival ${i} at the same intended time`);
  // 200 s at 100/s: 20,000 expected, σ ≈ 141.
  assert.ok(Math.abs(even.length - 20_000) < 5 * 141, `count ${even.length}`);
  const gaps = even.slice(1).map((t, i) => t - even[i]);
  assert.ok(
    gaps.every((g) => g >= 0),
    'in order',
  );
  const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
  const sd = Math.sqrt(gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / gaps.length);
  assert.ok(Math.abs(mean - 10) < 0.5, `mean gap ${mean} ms`);
  assert.ok(Math.abs(sd / mean - 1) < 0.05, `CV ${sd / mean} (exponential: 1; the old fixed accumulator: 0)`);
});

test('Poisson arrivals: rate 0 pauses; the rate that held is used; nextAt says when to wake', () => {
  const p = new PoissonArrivals(seededRandom(1), 0);
  assert.deepEqual(p.advance(10_000, 0), [], 'no arrival at rate 0');
  assert.equal(p.nextAt(0), Infinity);
  const next = p.nextAt(1000);
  assert.ok(next > 10_000 && next < 10_000 + 50, `next at ${next}`); // Exp(1)/1000 s; > 50 ms with probability e^-50
  const got = p.advance(next, 1000);
  assert.equal(got.length, 1);
  assert.ok(Math.abs(got[0] - next) < 1e-9, 'arrives exactly at nextAt');
  const later = p.advance(next + 1000, 1000);
  assert.ok(later.length > 900 && later.length < 1100, `${later.length} in 1 s at 1000/s`);
  assert.ok(later.every((t) => t > next && t <= next + 1000));
});

const r = (rate: number, p95: number, extra: Partial<{ lost: number; unanswered: number; generatorCpuPct: number }> = {}) => ({
  rate,
  p95,
  lost: 0,
  unanswered: 0,
  refused: 0,
  skipped: 0,
  closedUnexpectedly: 0,
  generatorCpuPct: 50,
  ...extra,
});

test('saturation: the highest rate before the first failing one; generator-bound when the generator was at ≥ 90%', () => {
  assert.equal(holdsAt(r(100, 49.9), 50), true);
  assert.equal(holdsAt(r(100, 50), 50), false, 'p95 must be under the bound');
  assert.equal(holdsAt(r(100, 5, { unanswered: 1 }), 50), false, 'an unanswered message fails the rate');
  const server = saturation([r(3000, 80), r(1000, 5), r(2000, 10, { lost: 0 })], 50, 90);
  assert.equal(server.holds?.rate, 2000);
  assert.equal(server.fails?.rate, 3000);
  assert.equal(server.generatorBound, false);
  assert.match(server.label, /^server-bound: at 3000 msg\/s \(p95 80\.0 ms\)/);
  const gen = saturation([r(1000, 5), r(2000, 60, { generatorCpuPct: 97 }), r(3000, 20)], 50, 90);
  assert.equal(gen.holds?.rate, 1000, 'a passing rate above a failing one is not the saturation point');
  assert.equal(gen.generatorBound, true);
  assert.match(gen.label, /^generator-bound: at 2000 msg\/s the generator used 97%/);
  const none = saturation([r(1000, 5, { lost: 3 })], 50, 90);
  assert.equal(none.holds, undefined);
  assert.match(none.label, /server-bound: at 1000 msg\/s \(3 lost\)/);
  const top = saturation([r(1000, 5), r(2000, 6, { generatorCpuPct: 95 })], 50, 90);
  assert.equal(top.holds?.rate, 2000);
  assert.equal(top.fails, undefined);
  assert.match(top.label, /^not reached: every rate up to 2000 msg\/s holds \(generator-bound/);
});
