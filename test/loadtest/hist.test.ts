// Histograms: merge across workers equals recording in one; the base64 encoding round-trips;
// an empty histogram summarizes as "not measured" (nulls), never zeros. Thresholds: k6 syntax.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newHist, recordMs, encodeHist, decodeHist, mergeEncoded, summarizeHist, summarizeEncoded, HistSet } from '../../src/loadtest/hist.js';
import { evaluateThresholds, parseThreshold, counter, rate, gauge } from '../../src/loadtest/metrics.js';

test('merging encoded histograms equals recording everything in one', () => {
  const all = newHist();
  const parts = [newHist(), newHist(), newHist()];
  for (let i = 1; i <= 3000; i++) {
    const ms = (i % 97) * 0.37 + (i % 5 === 0 ? 150 : 0);
    recordMs(all, ms);
    recordMs(parts[i % 3], ms);
  }
  const merged = mergeEncoded(parts.map(encodeHist));
  assert.equal(merged.totalCount, 3000);
  assert.deepEqual(summarizeHist(merged), summarizeHist(all));
  const round = decodeHist(encodeHist(all));
  assert.deepEqual(summarizeHist(round), summarizeHist(all));
});

test('values are kept in µs with 3 significant digits; large values are not clipped', () => {
  const h = newHist();
  recordMs(h, 12.345);
  recordMs(h, 120_000);
  recordMs(h, Number.NaN);
  const s = summarizeHist(h);
  assert.equal(s.count, 2, 'NaN is ignored');
  assert.ok(Math.abs(s.min! - 12.345) < 0.02);
  assert.ok(Math.abs(s.max! - 120_000) / 120_000 < 0.001);
});

test('empty histogram: count 0 and every statistic null', () => {
  const s = summarizeEncoded(undefined);
  assert.equal(s.count, 0);
  assert.equal(s.p95, null);
  assert.equal(s.avg, null);
});

test('HistSet: take() hands out the interval and folds it into the totals', () => {
  const hs = new HistSet();
  hs.record('a', 1);
  hs.record('a', 2);
  const first = hs.take();
  assert.equal(decodeHist(first.a).totalCount, 2);
  hs.record('a', 3);
  hs.record('b', 4);
  const second = hs.take();
  assert.equal(decodeHist(second.a).totalCount, 1);
  assert.deepEqual(Object.keys(hs.take()), [], 'nothing recorded since: nothing handed out');
  const totals = hs.totals();
  assert.equal(decodeHist(totals.a).totalCount, 3);
  assert.equal(decodeHist(totals.b).totalCount, 1);
});

test('thresholds: k6 expressions against trend, counter, rate and gauge metrics', () => {
  const h = newHist();
  for (let i = 1; i <= 100; i++) recordMs(h, i);
  const metrics = { lat: summarizeHist(h), errs: counter(3, 10), ok: rate(99, 1), thr: gauge(995), empty: summarizeEncoded(undefined) };
  const v = evaluateThresholds({ lat: ['p(95)<96', 'p(99)<50', 'avg<=50.6', 'max<2000', 'med<51'], errs: ['count<5'], ok: ['rate>0.98'], thr: ['value>=990'], empty: ['p(95)<1'], missing: ['count<1'] }, metrics);
  const by = (m: string, e: string) => v.find((x) => x.metric === m && x.expression === e)!;
  assert.equal(by('lat', 'p(95)<96').verdict, 'pass');
  assert.equal(by('lat', 'p(99)<50').verdict, 'fail');
  assert.equal(by('lat', 'avg<=50.6').verdict, 'pass');
  assert.equal(by('lat', 'med<51').verdict, 'pass');
  assert.equal(by('errs', 'count<5').verdict, 'pass');
  assert.equal(by('ok', 'rate>0.98').verdict, 'pass');
  assert.equal(by('thr', 'value>=990').verdict, 'pass');
  assert.equal(by('empty', 'p(95)<1').verdict, 'fail', 'no samples is a failure, not a pass');
  assert.equal(by('missing', 'count<1').verdict, 'not evaluated');
  assert.throws(() => parseThreshold('p95<1'));
  assert.throws(() => parseThreshold('p(95) < abc'));
  assert.deepEqual(parseThreshold(' p(99.9) <= 20 '), { stat: 'p99.9', op: '<=', value: 20 });
});
