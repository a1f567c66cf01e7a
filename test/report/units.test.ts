// The report's pure parts on hand-made inputs: target parsing and checks, the least-squares fit
// and its fallback, chart bucketing, the overall status rule, the HTML converter and the
// pricing file checks.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { bucket } from '../../src/report/charts.js';
import { overall } from '../../src/report/conclusion.js';
import { DEFAULT_PRICING, loadPricing, pick } from '../../src/report/cost.js';
import { toHtml } from '../../src/report/html.js';
import { leastSquares, unitCost } from '../../src/report/model.js';
import type { Section } from '../../src/report/results.js';
import { defaultTargets, loadTargets, meets, parseTarget, targetText } from '../../src/report/targets.js';

const dir = mkdtempSync(join(tmpdir(), 'nchat-report-units-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('targets: the template defaults, a file overrides some, bad files are errors', () => {
  const t = defaultTargets();
  assert.deepEqual(t.byKey.api_p95, { op: '<', value: 500 });
  assert.deepEqual(t.byKey.concurrent_users, { op: '>=', value: 10000 });
  assert.equal(targetText(t.byKey.api_p95, 'ms'), '<500ms');
  assert.equal(targetText(t.byKey.concurrent_users, 'users'), '≥10,000');
  assert.ok(meets(parseTarget('<500'), 499.9) && !meets(parseTarget('<500'), 500));
  assert.ok(meets(parseTarget('>=1000'), 1000) && !meets(parseTarget('>99'), 99));
  const f = join(dir, 't.json');
  writeFileSync(f, JSON.stringify({ name: 'x', targets: { api_p95: '<200' } }));
  const x = loadTargets(f);
  assert.deepEqual(x.byKey.api_p95, { op: '<', value: 200 });
  assert.deepEqual(x.byKey.api_p99, { op: '<', value: 1000 }, 'unset keys keep the template value');
  for (const [body, msg] of [
    ['{"targets": {"nope": "<1"}}', /unknown target "nope"/],
    ['{"targets": {"api_p95": "fast"}}', /bad target "fast"/],
    ['{"targets": {"api_p95": 5}}', /must be a string/],
    ['{}', /no "targets" object/],
    ['{', /targets file/],
  ] as const) {
    writeFileSync(f, body);
    assert.throws(() => loadTargets(f), msg);
  }
  loadTargets(join(import.meta.dirname, '..', '..', 'config', 'targets.strict.json'));
});

test('least squares: exact line, too few points, no spread; unitCost falls back to a labelled upper bound', () => {
  const line = Array.from({ length: 10 }, (_, i) => [i, 3 * i + 2] as [number, number]);
  const r = leastSquares(line, 'x', 'y');
  assert.ok(r.fit);
  assert.ok(Math.abs(r.fit.slope - 3) < 1e-9 && Math.abs(r.fit.intercept - 2) < 1e-9 && Math.abs(r.fit.r2 - 1) < 1e-9);
  assert.match((leastSquares(line.slice(0, 4), 'x', 'y') as { why: string }).why, /4 paired seconds \(need 5\)/);
  assert.match(
    (
      leastSquares(
        line.map(([, y]) => [7, y] as [number, number]),
        'x',
        'y',
      ) as { why: string }
    ).why,
    /did not vary/,
  );
  const good = unitCost(line, 'x', 'y');
  assert.equal(good.per, 3);
  // No relation between load and resource: the ratio of averages above the idle floor, said to be rough.
  const noise: [number, number][] = [
    [1, 5],
    [2, 1],
    [3, 5],
    [4, 1],
    [5, 5],
    [6, 1],
  ];
  const u = unitCost(noise, 'x', 'y');
  assert.ok(u.per !== null && Math.abs(u.per - (3 - 1) / 3.5) < 1e-9);
  assert.match((u as { method: string }).method, /rough figure/);
});

test('chart bucketing keeps short series and averages or maxes long ones', () => {
  const short = Array.from({ length: 100 }, (_, t) => ({ t, v: t }));
  assert.equal(bucket(short, 'mean').size, 1);
  const long = Array.from({ length: 4800 }, (_, t) => ({ t, v: t % 10 }));
  const m = bucket(long, 'mean');
  assert.equal(m.size, 8);
  assert.equal(m.pts.length, 600);
  assert.equal(m.pts[0].v, 3.5);
  assert.equal(bucket(long, 'max').pts[0].v, 7);
});

test('overall status: FAILED on a miss, PARTIAL on a gap, PASSED otherwise', () => {
  const sec = (...st: string[]): Section => ({
    id: 'x',
    title: 'x',
    ran: true,
    rows: st.map((s) => ({ label: s, target: '<1', actual: '0', value: 0, unit: '', status: s as never })),
  });
  assert.equal(overall([sec('pass', 'none')]).status, 'PASSED');
  assert.equal(overall([sec('pass', 'not measured')]).status, 'PARTIAL');
  assert.equal(overall([sec('pass', 'not measured'), sec('fail')]).status, 'FAILED');
});

test('HTML: tables, lists, escaping, inline charts, status marks as text', () => {
  const html = toHtml(
    '# T <x>\n\n| a | b \\| c |\n| --- | --- |\n| ✅ | **bold** `code` |\n\n- one\n- two\n\n![chart](charts/c.svg)\n\n![gone](charts/none.svg)\n',
    't',
    (src) => (src === 'charts/c.svg' ? '<svg id="c"></svg>' : null),
  );
  assert.match(html, /<h1 id="t-x-">T &lt;x&gt;<\/h1>/);
  assert.match(html, /<th>b \| c<\/th>/);
  assert.match(html, /<td><span class="ok">✔<\/span><\/td>\n<td><strong>bold<\/strong> <code>code<\/code><\/td>/);
  assert.match(html, /<ul>\n<li>one<\/li>\n<li>two<\/li>\n<\/ul>/);
  assert.match(html, /<figure><svg id="c"><\/svg><figcaption>chart<\/figcaption><\/figure>/);
  assert.match(html, /chart missing: gone/);
  assert.doesNotMatch(html, /https?:\/\//);
});

test('pricing: the default file loads with its source and date; a bad one is refused', () => {
  const p = loadPricing(DEFAULT_PRICING);
  assert.ok(p.source.length > 20 && /^\d{4}-\d{2}-\d{2}$/.test(p.date));
  assert.equal(pick(p.app, 3, 1).vcpu, 4, 'smallest instance with enough vCPUs');
  const f = join(dir, 'p.json');
  writeFileSync(f, JSON.stringify({ ...p, app: [{ type: 'x', vcpu: 0, memoryGB: 1, hourly: 1 }] }));
  assert.throws(() => loadPricing(f), /bad app entry/);
  writeFileSync(f, JSON.stringify({ ...p, database: [] }));
  assert.throws(() => loadPricing(f), /"database" must be a non-empty list/);
});
