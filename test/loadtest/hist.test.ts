// Histograms: merge across workers equals recording in one; the base64 encoding round-trips;
// an empty histogram summarizes as "not measured" (nulls), never zeros; a negative duration is a
// counted clock error, not a clamped sample. Thresholds: k6 syntax, refused at parse time when
// they name an unknown metric or a statistic the engine does not compute, and "not measured"
// (a failure) when the run gives no figure for them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  newHist,
  recordMs,
  encodeHist,
  decodeHist,
  mergeEncoded,
  summarizeHist,
  summarizeEncoded,
  HistSet,
  meanOf,
  quantilesOf,
  CLOCK_ERROR_PREFIX,
  clockErrorsOf,
  reportClockErrors,
} from '../../src/loadtest/hist.js';
import { evaluateThresholds, parseThreshold, validateThreshold, counter, rate, gauge } from '../../src/loadtest/metrics.js';

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

test("meanOf is the library mean to the last bit, and quantilesOf the summary's percentiles: spread values, one value, after a merge and a decode", () => {
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const spread = newHist();
  for (let i = 0; i < 20_000; i++) recordMs(spread, rnd() ** 4 * 30_000); // 1 µs .. 30 s, most small
  const one = newHist();
  recordMs(one, 42.5);
  const parts = [newHist(), newHist()];
  for (let i = 0; i < 5000; i++) recordMs(parts[i % 2], rnd() * 900);
  const merged = mergeEncoded(parts.map(encodeHist));
  for (const h of [spread, one, merged, decodeHist(encodeHist(spread))]) {
    assert.ok(h.totalCount > 0);
    assert.equal(meanOf(h), h.mean);
    // A timeline row's figures are the summary's.
    const { count, p50, p95, p99, max } = summarizeHist(h);
    assert.deepEqual(quantilesOf(h), { count, p50, p95, p99, max });
  }
  assert.equal(meanOf(newHist()), 0);
});

test('values are kept in µs with 3 significant digits; large values are not clipped', () => {
  const h = newHist();
  recordMs(h, 12.345);
  recordMs(h, 120_000);
  assert.equal(recordMs(h, Number.NaN), false, 'NaN is not recorded (a clock error)');
  const s = summarizeHist(h);
  assert.equal(s.count, 2);
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
  const metrics = {
    msg_e2e: summarizeHist(h),
    api_reqs: counter(100, 10),
    api_errors: counter(3, 10),
    msg_delivery_success: rate(99, 1),
    msg_rate_achieved: gauge(995),
    msg_send: summarizeEncoded(undefined),
  };
  const v = evaluateThresholds(
    {
      msg_e2e: ['p(95)<96', 'p(99)<50', 'avg<=50.6', 'max<2000', 'med<51'],
      api_errors: ['count<5'],
      msg_delivery_success: ['rate>0.98'],
      msg_rate_achieved: ['value>=990'],
      msg_send: ['p(95)<1'],
    },
    metrics,
  );
  const by = (m: string, e: string) => v.find((x) => x.metric === m && x.expression === e)!;
  assert.equal(by('msg_e2e', 'p(95)<96').verdict, 'pass');
  assert.ok(Math.abs(by('msg_e2e', 'p(95)<96').actual! - 95) < 0.1, 'the figure checked is the p95 (3 significant digits)');
  assert.equal(by('msg_e2e', 'p(99)<50').verdict, 'fail');
  assert.equal(by('msg_e2e', 'avg<=50.6').verdict, 'pass');
  assert.equal(by('msg_e2e', 'med<51').verdict, 'pass');
  assert.equal(by('api_errors', 'count<5').verdict, 'pass');
  assert.equal(by('api_errors', 'count<5').actual, 3);
  assert.equal(by('msg_delivery_success', 'rate>0.98').verdict, 'pass');
  assert.equal(by('msg_rate_achieved', 'value>=990').verdict, 'pass');
  assert.equal(by('msg_send', 'p(95)<1').verdict, 'fail', 'no samples is a failure, not a pass');
  assert.match(by('msg_send', 'p(95)<1').reason!, /^not measured: no samples/);
  assert.throws(() => parseThreshold('p95<1'));
  assert.throws(() => parseThreshold('p(95) < abc'));
  assert.deepEqual(parseThreshold(' p(99) <= 20 '), { stat: 'p99', op: '<=', value: 20 });
  assert.deepEqual(parseThreshold('p(95.0)<1'), { stat: 'p95', op: '<', value: 1 });
});

test('thresholds: a percentile the summary does not hold is refused at parse time', () => {
  assert.throws(() => parseThreshold('p(99.9)<20'), /p\(99\.9\) is not computed; the percentiles are p\(50\), p\(90\), p\(95\), p\(99\)/);
  assert.throws(() => parseThreshold('p(75)<20'), /not computed/);
  assert.throws(() => validateThreshold('msg_rate_achieved', 'p(95)<1'), /uses p95, which a gauge metric does not have \(it has value\)/);
  assert.throws(() => validateThreshold('msg_e2e', 'value<1'), /trend metric does not have/);
  assert.throws(
    () => validateThreshold('ws_msgs_mising', 'count<1'),
    /no scenario reports a metric "ws_msgs_mising" \(did you mean "ws_msgs_missing"\?\)/,
  );
  validateThreshold('api_req_duration_search', 'p(95)<50');
});

test('thresholds: count<N and empty figures are "not measured", never a pass', () => {
  const metrics = {
    // ws ran, but no chat message was expected: missing = 0 out of nothing.
    ws_sessions: counter(40, 10),
    ws_connect_errors: counter(0, 10),
    ws_msgs_expected: counter(0, 10),
    ws_msgs_missing: counter(0, 10),
    ws_connecting: summarizeEncoded(undefined),
    ws_max_concurrent: gauge(null),
    // messages ran and expected receipts: 0 unexpected disconnects is a measured 0.
    msg_expected_receipts: counter(500, 10),
    msg_ws_disconnects_unexpected: counter(0, 10),
  };
  const v = evaluateThresholds(
    {
      ws_msgs_missing: ['count<1'],
      ws_connect_errors: ['count<1'],
      ws_connecting: ['count<1000', 'p(95)<100'],
      ws_max_concurrent: ['value<5'],
      msg_ws_disconnects_unexpected: ['count<1'],
      msg_e2e: ['p(95)<25'],
      api_req_failed: ['rate<0.01'],
      nonsense_metric: ['count<1'],
    },
    metrics,
  );
  const by = (m: string, e: string) => v.find((x) => x.metric === m && x.expression === e)!;
  for (const [m, e, why] of [
    ['ws_msgs_missing', 'count<1', /not measured: nothing it could count \(ws_msgs_expected = 0\)/],
    ['ws_connecting', 'count<1000', /not measured: no samples/],
    ['ws_connecting', 'p(95)<100', /not measured: no samples/],
    ['ws_max_concurrent', 'value<5', /not measured: no value/],
    ['msg_e2e', 'p(95)<25', /not measured: scenario messages ran but did not report msg_e2e/],
  ] as const) {
    assert.equal(by(m, e).verdict, 'fail', `${m} ${e}`);
    assert.equal(by(m, e).measured, false);
    assert.equal(by(m, e).actual, null);
    assert.match(by(m, e).reason!, why);
  }
  assert.equal(by('ws_connect_errors', 'count<1').verdict, 'pass', '0 errors out of 40 attempts is measured');
  assert.equal(by('msg_ws_disconnects_unexpected', 'count<1').verdict, 'pass');
  assert.equal(by('api_req_failed', 'rate<0.01').verdict, 'not evaluated', 'api did not run');
  assert.equal(by('api_req_failed', 'rate<0.01').reason, 'scenario api not run');
  assert.equal(by('nonsense_metric', 'count<1').verdict, 'fail', 'a config built in code is checked too');
  assert.match(by('nonsense_metric', 'count<1').reason!, /no scenario reports/);
});

test('a negative or non-finite duration is a clock error: counted and reported, never clamped into the histogram', () => {
  const h = newHist();
  assert.equal(recordMs(h, -0.5), false);
  assert.equal(recordMs(h, Number.POSITIVE_INFINITY), false);
  assert.equal(recordMs(h, 0), true, '0 ms is a real duration (recorded as the lowest value, 1 µs)');
  assert.equal(h.totalCount, 1);
  const seen: string[] = [];
  const hs = new HistSet((name) => seen.push(name));
  hs.record('msg_e2e', 5);
  hs.record('msg_e2e', -3);
  hs.record('api_req_duration:search', -1);
  assert.deepEqual(seen, ['msg_e2e', 'api_req_duration:search']);
  assert.equal(hs.clockErrors.get('msg_e2e'), 1);
  assert.equal(decodeHist(hs.take().msg_e2e).totalCount, 1, 'only the valid duration is in the histogram');
  const counters = {
    msg_sent: 10,
    [`${CLOCK_ERROR_PREFIX}msg_e2e`]: 2,
    [`${CLOCK_ERROR_PREFIX}api_req_duration:search`]: 1,
    [`${CLOCK_ERROR_PREFIX}msg_send`]: 0,
  };
  assert.deepEqual(clockErrorsOf(counters), { msg_e2e: 2, 'api_req_duration:search': 1 });
  const metrics: Record<string, { type: string; clockErrors?: number }> = {
    msg_e2e: summarizeHist(h),
    api_req_duration_search: summarizeHist(h),
  };
  const notices = reportClockErrors('messages', counters, metrics);
  assert.equal(metrics.msg_e2e.clockErrors, 2);
  assert.equal(metrics.api_req_duration_search.clockErrors, 1);
  assert.equal(notices.length, 2);
  assert.match(notices[0], /^CLOCK ERRORS: messages: 2 negative or non-finite duration\(s\) in msg_e2e were not recorded/);
  assert.equal(summarizeHist(h).clockErrors, undefined, 'absent when there were none');
});
