// nchat report's honesty, on a real run: one short smoke load test (SQLite, spawned, through the
// CLI, so the loadtest → report hook runs too), then checks on what the report printed:
//  - no template placeholder ([Value], [X], [Date], …) is left; the sign-off blanks are lines;
//  - every percentile printed equals the one recomputed here from the raw HDR histograms;
//  - every verdict matches its row (target vs actual), and the overall status matches the rows;
//  - a metric absent from the run reads "not measured" with the reason (scenario removed from a copy);
//  - report.html is self-contained (no external URL) and every chart is a valid SVG and PNG;
//  - bad input to nchat report is a usage error (exit 2) or a clear failure (exit 1), never a crash.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Resvg } from '@resvg/resvg-js';
import * as hdr from 'hdr-histogram-js';
import { assertVerdicts, numberIn, tableAfter, tolerance } from './md-check.js';
import { recordFault } from '../faults/record.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'src', 'cli.ts');
const base = mkdtempSync(join(tmpdir(), 'nchat-report-test-'));
const RUN = join(base, 'run1');

function nchat(args: string[], timeout = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, timeout, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code as number) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

before(async () => {
  const r = await nchat([
    'loadtest',
    '--spawn',
    'sqlite',
    '--profile',
    'smoke',
    '--scenarios',
    'ws,messages,api',
    '--duration',
    '5s',
    '--set',
    'ws.stages=[{"duration":2,"target":20},{"duration":3,"target":20},{"duration":1,"target":0}]',
    '--set',
    'messages.drainMs=3000',
    '--set',
    'ws.msgPerUserPerMin=60',
    '--out',
    RUN,
    '--quiet',
  ]);
  assert.ok(existsSync(join(RUN, 'summary.json')), `the load test wrote its run directory: ${r.stderr.slice(-2000)}`);
  assert.match(r.stderr, /report: .*report\.md and report\.html/, `nchat loadtest wrote the report at its end: ${r.stderr.slice(-2000)}`);
});
after(() => rmSync(base, { recursive: true, force: true }));

/** reportCommand in this process, its stderr captured. */
async function inProcess(args: string[]): Promise<{ code: number; stderr: string }> {
  const { reportCommand } = await import('../../src/report/cli.js');
  let stderr = '';
  const write = process.stderr.write;
  const out = process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  // node:test reports on stdout too: only the command's own line is held back.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) =>
    String(chunk).startsWith('report: ')
      ? true
      : (out as (...a: unknown[]) => boolean).call(process.stdout, chunk, ...rest)) as typeof process.stdout.write;
  try {
    return { code: await reportCommand(args), stderr };
  } finally {
    process.stderr.write = write;
    process.stdout.write = out;
  }
}

const md = () => readFileSync(join(RUN, 'report.md'), 'utf8');

function exactMs(sc: string, hist: string, pct: number): number {
  const h = JSON.parse(readFileSync(join(RUN, 'histograms', `${sc}.json`), 'utf8'))[hist];
  assert.ok(h, `histogram ${sc}/${hist} in the run`);
  return hdr.decodeFromCompressedBase64(h.data, 32, false).getValueAtPercentile(pct) / 1000;
}

test('no template placeholder is left', () => {
  const text = md();
  // Images and code spans (the command line, queries) are not placeholders.
  const noImages = text.replace(/!\[[^\]]*\]\([^)]*\)/g, '').replace(/`[^`\n]*`/g, '');
  const left = noImages.match(/\[[^\]\n]+\](?!\()/g) ?? [];
  assert.deepEqual(left, [], 'bracketed placeholders left');
  assert.doesNotMatch(text, /This is a template|Fill in actual values|\bTBD\b|\bTODO\b/);
  // The sign-off fields are the only blanks, and they are there.
  for (const f of ['Prepared By', 'Reviewed By', 'Approved By']) assert.match(text, new RegExp(`\\*\\*${f}:\\*\\* _{5,}`));
  // Every template section, in the template's order.
  const order = [
    '## Executive Summary',
    '### Quick Metrics',
    '## Test Methodology',
    '### Test 1: WebSocket Connections',
    '### Test 2: Message Throughput',
    '### Test 3: API Endpoints Load Test',
    '### Test 4: File Upload Load Test',
    '### Test 5: Search Performance Load Test',
    '## System Performance Analysis',
    '#### PostgreSQL Metrics',
    '#### Slow Queries (>100ms)',
    '### Cache Performance (Redis)',
    '## Bottlenecks Identified',
    '## Optimization Recommendations',
    '## Scalability Analysis',
    '## Cost Analysis',
    '## Comparison with Previous Tests',
    '## Conclusion',
    '### Readiness Assessment',
    '## Appendices',
    '## Sign-off',
  ];
  let pos = -1;
  for (const h of order) {
    const at = text.indexOf(h, pos + 1);
    assert.ok(at > pos, `section "${h}" present after the previous one`);
    pos = at;
  }
});

test('the machine calibration measured before the load is in environment.json, summary.md and the report', () => {
  const env = JSON.parse(readFileSync(join(RUN, 'environment.json'), 'utf8'));
  const c = env.calibration;
  assert.ok(c && c.sqliteCommitUs > 0 && c.tcpWriteUs > 0 && c.sha256MBps > 0, `calibration recorded: ${JSON.stringify(c)}`);
  const line = `SQLite commit ${c.sqliteCommitUs} µs, 64 B loopback TCP write ${c.tcpWriteUs} µs, SHA-256 ${c.sha256MBps} MB/s`;
  assert.ok(readFileSync(join(RUN, 'summary.md'), 'utf8').includes(line), 'summary.md notices carry the figures');
  const methodology = md().slice(md().indexOf('## Test Methodology'));
  assert.ok(methodology.includes(`- Machine calibration: (${c.at}`) && methodology.includes(line), 'the report prints the same figures');
});

test('every percentile printed equals the one recomputed from the raw histograms', () => {
  const text = md();
  const checks: [string, string, string, string, number][] = [
    ['### Quick Metrics', 'API Response Time (p95)', 'api', 'api_req_duration', 95],
    ['### Quick Metrics', 'Message Latency (p95)', 'messages', 'msg_e2e', 95],
    ['### Quick Metrics', 'WebSocket Connection (p95)', 'ws', 'ws_connecting', 95],
    ['### Test 1: WebSocket', 'Connection Time (p50)', 'ws', 'ws_connecting', 50],
    ['### Test 1: WebSocket', 'Connection Time (p95)', 'ws', 'ws_connecting', 95],
    ['### Test 1: WebSocket', 'Connection Time (p99)', 'ws', 'ws_connecting', 99],
    ['### Test 1: WebSocket', 'Message Latency (p95)', 'ws', 'ws_msg_e2e', 95],
    ['### Test 2: Message', 'Message Latency (p50)', 'messages', 'msg_e2e', 50],
    ['### Test 2: Message', 'Message Latency (p95)', 'messages', 'msg_e2e', 95],
    ['### Test 2: Message', 'Message Latency (p99)', 'messages', 'msg_e2e', 99],
    ['### Test 2: Message', 'Max Latency', 'messages', 'msg_e2e', 100],
    ['### Test 3: API', 'p50 Response Time', 'api', 'api_req_duration', 50],
    ['### Test 3: API', 'p95 Response Time', 'api', 'api_req_duration', 95],
    ['### Test 3: API', 'p99 Response Time', 'api', 'api_req_duration', 99],
  ];
  for (const [heading, label, sc, hist, pct] of checks) {
    const row = tableAfter(text, heading).rows.find((r) => r[0] === label);
    assert.ok(row, `${heading}: row ${label}`);
    const printed = numberIn(row[2]);
    assert.ok(printed !== null, `${label}: a number is printed (${row[2]})`);
    const exact = exactMs(sc, hist, pct);
    assert.ok(
      Math.abs(printed - exact) <= tolerance(row[2]) + 1e-9,
      `${heading} ${label}: printed ${row[2]}, histogram p${pct} = ${exact}`,
    );
  }
  // The endpoint table: each measured endpoint's p95 and p99 from its own histogram.
  const eps = tableAfter(text, '#### Endpoint-Specific Performance');
  const keys = JSON.parse(readFileSync(join(RUN, 'summary.json'), 'utf8')).scenarios.api.tables.endpoints as {
    endpoint: string;
    key: string;
  }[];
  let checked = 0;
  for (const row of eps.rows) {
    const key = keys.find((k) => k.endpoint === row[0])?.key;
    const p95 = numberIn(row[3]);
    if (!key || p95 === null) continue;
    assert.ok(Math.abs(p95 - exactMs('api', `api_req_duration:${key}`, 95)) <= tolerance(row[3]) + 1e-9, `${row[0]} p95`);
    assert.ok(
      Math.abs((numberIn(row[4]) ?? Number.NaN) - exactMs('api', `api_req_duration:${key}`, 99)) <= tolerance(row[4]) + 1e-9,
      `${row[0]} p99`,
    );
    checked++;
  }
  assert.ok(checked >= 5, `endpoint rows checked against their histograms: ${checked}`);
});

test('each verdict matches its table, with the template targets and with the strict targets file', async () => {
  const n = assertVerdicts(md());
  assert.ok(n.pass + n.fail >= 15, `rows judged: ${JSON.stringify(n)}`);
  const out = join(base, 'strict');
  const r = await inProcess([RUN, '--targets', join(ROOT, 'config', 'targets.strict.json'), '--out', out, '--previous', 'none']);
  assert.equal(r.code, 0, r.stderr);
  const strict = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(strict, /targets: ɳChat strict/);
  assertVerdicts(strict);
});

test('a scenario absent from the run reads "not measured" with the reason', async () => {
  const copy = join(base, 'no-messages');
  cpSync(RUN, copy, { recursive: true });
  const s = JSON.parse(readFileSync(join(copy, 'summary.json'), 'utf8'));
  delete s.scenarios.messages;
  s.notRun = { messages: 'not run: interrupted (Ctrl-C)' };
  writeFileSync(join(copy, 'summary.json'), JSON.stringify(s));
  rmSync(join(copy, 'histograms', 'messages.json'));
  rmSync(join(copy, 'timelines', 'messages.ndjson'));
  const r = await inProcess([copy, '--previous', RUN]);
  assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(join(copy, 'report.md'), 'utf8');
  const t2 = tableAfter(text, '### Test 2: Message Throughput');
  for (const row of t2.rows) assert.equal(row[2], 'not measured: scenario messages not run: interrupted (Ctrl-C)', `Test 2 ${row[0]}`);
  const quick = tableAfter(text, '### Quick Metrics').rows.find((r) => r[0] === 'Message Latency (p95)');
  assert.equal(quick?.[3], '⚠️ not measured');
  assertVerdicts(text);
  // Scenarios the run never had (files, search) and PostgreSQL on a SQLite run say why.
  assert.match(tableAfter(text, '### Test 5: Search').rows[0][2], /^not measured: scenario search not run in this test/);
  assert.match(text, /#### PostgreSQL Metrics\n\n_not applicable: the target runs on the embedded SQLite store/);
  // The comparison against the full run: the message figures are not comparable, the rest are.
  const cmp = tableAfter(text, '## Comparison with Previous Tests');
  assert.equal(cmp.rows.find((r) => r[0] === 'Message Throughput')?.[3], 'not comparable');
  assert.equal(cmp.rows.find((r) => r[0] === 'API p95 Latency')?.[3], '+0.00%');
});

test('a faults run given to the report: its section shows every record as written; none without one', async () => {
  assert.doesNotMatch(readFileSync(join(RUN, 'report.md'), 'utf8'), /## Fault Injection/, 'no faults.jsonl, no section');
  const copy = join(base, 'with-faults');
  cpSync(RUN, copy, { recursive: true });
  const counts = {
    sent: 1234,
    acked: 1230,
    stored: 1230,
    received: 7380,
    expected: 7380,
    duplicates: 17,
    outOfOrder: 3,
    reconnects: 6,
    unacked: 0,
  };
  process.env.NCHAT_FAULTS_OUT = copy;
  try {
    recordFault('sqlite kill -9', { 'kill to resumed ms': 812, 'restart to listening ms': 95.5 }, counts);
    recordFault('slowloris on HTTP, 200 connections', { 'first cut ms': 2003, 'headers timeout ms': 2000 });
  } finally {
    delete process.env.NCHAT_FAULTS_OUT;
  }
  appendFileSync(join(copy, 'faults.jsonl'), '{"fault": "half a line"\n');
  const r = await inProcess([copy]);
  assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(join(copy, 'report.md'), 'utf8');
  const t = tableAfter(text, '## Fault Injection');
  assert.equal(t.rows.length, 1, 'one record with counts');
  const [fault, sent, acked, stored, received, dup, ooo, rec, never] = t.rows[0];
  assert.deepEqual(
    [fault, sent, acked, stored, received, dup, ooo, rec, never],
    ['sqlite kill -9', '1,234', '1,230', '1,230', '7,380 / 7,380', '17', '3', '6', '0'],
  );
  assert.match(text, /- \*\*sqlite kill -9\*\* — kill to resumed ms: 812; restart to listening ms: 95\.5$/m);
  assert.match(text, /- \*\*slowloris on HTTP, 200 connections\*\* — first cut ms: 2,003; headers timeout ms: 2,000/);
  assert.match(text, /Lines of faults\.jsonl that are not fault records \(left out\): 3\./);
});

test('report.html is self-contained and the charts are valid SVG and PNG', () => {
  const html = readFileSync(join(RUN, 'report.html'), 'utf8');
  assert.doesNotMatch(html, /<script|<link|<img|<iframe|@import/i, 'no external resource element');
  assert.doesNotMatch(html, /(src|href)\s*=\s*["']?(https?:)?\/\//i, 'no external URL in src/href');
  assert.doesNotMatch(html, /url\(\s*["']?(https?:)?\/\//i, 'no external URL in CSS');
  const charts = readdirSync(join(RUN, 'charts'));
  const svgs = charts.filter((f) => f.endsWith('.svg'));
  assert.ok(svgs.length >= 6, `charts written: ${svgs.join(', ')}`);
  assert.equal((html.match(/<svg/g) ?? []).length, svgs.length, 'every chart inlined in the HTML');
  assert.ok(Buffer.byteLength(html) < 2_000_000, `report.html stays small (${Buffer.byteLength(html)} bytes)`);
  for (const f of svgs) {
    const svg = readFileSync(join(RUN, 'charts', f), 'utf8');
    assert.match(svg, /^<svg[\s\S]*<\/svg>\s*$/, `${f} is one SVG document`);
    assert.match(svg, /time since the test started|percentile|latency|requests/, `${f} has an axis title`);
    const png = new Resvg(svg).render(); // throws on an SVG resvg cannot parse
    assert.ok(png.width > 100 && png.height > 100, `${f} renders`);
    const file = readFileSync(join(RUN, 'charts', f.replace(/\.svg$/, '.png')));
    assert.deepEqual([...file.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], `${f} has its PNG`);
    assert.ok(file.readUInt32BE(16) > 100 && file.readUInt32BE(20) > 100, `${f}.png has a size`);
  }
  assert.match(md(), /!\[Connections and connect latency over time\]\(charts\/ws-connections\.svg\)/);
});

test('bad input: usage errors exit 2, unreadable files exit 1, never a crash', async () => {
  const cases: [string[], number, RegExp][] = [
    [['report'], 2, /RUN_DIR is required/],
    [['report', join(base, 'nope')], 2, /not a load-test run directory/],
    [['report', RUN, '--format', 'pdf'], 2, /not md or html/],
    [['report', RUN, '--bogus', 'x'], 2, /unknown option --bogus/],
    [['report', RUN, '--targets'], 2, /--targets needs a value/],
    [['report', RUN, '--previous', join(base, 'nope')], 2, /--previous: .* not a load-test run directory/],
  ];
  const badTargets = join(base, 'bad-targets.json');
  writeFileSync(badTargets, JSON.stringify({ targets: { api_p96: '<100' } }));
  const badExpr = join(base, 'bad-expr.json');
  writeFileSync(badExpr, JSON.stringify({ targets: { api_p95: 'fast' } }));
  const badPricing = join(base, 'bad-pricing.json');
  writeFileSync(badPricing, '{"app": [');
  const torn = join(base, 'torn');
  cpSync(RUN, torn, { recursive: true });
  writeFileSync(join(torn, 'summary.json'), '{"run": ');
  cases.push(
    [['report', RUN, '--targets', badTargets, '--out', join(base, 'x')], 1, /unknown target "api_p96"/],
    [['report', RUN, '--targets', badExpr, '--out', join(base, 'x')], 1, /bad target "fast"/],
    [['report', RUN, '--pricing', badPricing, '--out', join(base, 'x')], 1, /pricing file .*bad-pricing\.json/],
    [['report', torn], 1, /summary\.json/],
  );
  // Two through the real CLI (process exit codes), the rest in-process through the same command function.
  for (const [i, [args, code, msg]] of cases.entries()) {
    const r = i < 2 ? await nchat(args) : await inProcess(args.slice(1));
    assert.equal(r.code, code, `${args.slice(1).join(' ')} → exit ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
