// nchat report on the upload and search scenarios of a real run (SQLite, spawned, short smoke):
// Test 4 and Test 5 print the percentiles of their raw histograms (whole test, by size class,
// by query type), the verdicts follow their rows, and the scenarios' charts are drawn.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { assertVerdicts, exactMs, numberIn, tableAfter, tolerance } from './md-check.js';

const ROOT = join(import.meta.dirname, '..', '..');
const base = mkdtempSync(join(tmpdir(), 'nchat-report-fs-test-'));
const RUN = join(base, 'run');

before(async () => {
  const args = [
    '--import',
    'tsx',
    join(ROOT, 'src', 'cli.ts'),
    'loadtest',
    '--spawn',
    'sqlite',
    '--profile',
    'smoke',
    '--scenarios',
    'files,search',
    '--set',
    'files.duration=4s',
    '--set',
    'search.duration=4s',
    '--out',
    RUN,
    '--quiet',
  ];
  const stderr = await new Promise<string>((resolve) =>
    execFile(process.execPath, args, { cwd: ROOT, timeout: 150_000 }, (_e, _o, err) => resolve(err)),
  );
  assert.ok(existsSync(join(RUN, 'report.md')), `run and report written: ${stderr.slice(-3000)}`);
});
after(() => rmSync(base, { recursive: true, force: true }));

const md = () => readFileSync(join(RUN, 'report.md'), 'utf8');
const near = (cell: string, exact: number, what: string) => {
  const v = numberIn(cell);
  assert.ok(v !== null, `${what}: a number is printed (${cell})`);
  assert.ok(Math.abs(v - exact) <= tolerance(cell) + 1e-9, `${what}: printed ${cell}, histogram ${exact}`);
};

test('Test 4 percentiles equal the upload histograms (whole test and by size class)', () => {
  const text = md();
  const rows = tableAfter(text, '### Test 4: File Upload').rows;
  const cell = (label: string) => rows.find((r) => r[0] === label)?.[2] ?? '';
  near(cell('p50 Upload Time'), exactMs(RUN, 'files', 'files_upload_duration', 50), 'p50 upload');
  near(cell('p95 Upload Time'), exactMs(RUN, 'files', 'files_upload_duration', 95), 'p95 upload');
  near(cell('p99 Upload Time'), exactMs(RUN, 'files', 'files_upload_duration', 99), 'p99 upload');
  near(cell('Avg Upload Time'), exactMs(RUN, 'files', 'files_upload_duration', 0, 'mean'), 'avg upload');
  const keys = JSON.parse(readFileSync(join(RUN, 'summary.json'), 'utf8')).scenarios.files.tables.by_size as {
    size: string;
    key: string;
    uploads: number;
  }[];
  const bySize = tableAfter(text, '**Upload Time by File Size:**');
  let n = 0;
  for (const r of bySize.rows) {
    const k = keys.find((x) => x.size === r[0]);
    assert.ok(k, `size class ${r[0]} is one the run had`);
    if (!k.uploads) continue;
    near(r[3], exactMs(RUN, 'files', `files_upload_duration:${k.key}`, 95), `p95 ${r[0]}`);
    n++;
  }
  assert.ok(n >= 2, 'size classes checked');
});

test('Test 5 percentiles equal the search histograms (whole test and by query type)', () => {
  const text = md();
  const rows = tableAfter(text, '### Test 5: Search').rows;
  const cell = (label: string) => rows.find((r) => r[0] === label)?.[2] ?? '';
  near(cell('p50 Query Time'), exactMs(RUN, 'search', 'search_duration', 50), 'p50 query');
  near(cell('p95 Query Time'), exactMs(RUN, 'search', 'search_duration', 95), 'p95 query');
  near(cell('p99 Query Time'), exactMs(RUN, 'search', 'search_duration', 99), 'p99 query');
  const byType = tableAfter(text, '**Query Performance by Type:**');
  const keyOf: Record<string, string> = { 'Text Search': 'text', 'Filtered Search': 'filtered', Suggestions: 'suggest' };
  let n = 0;
  for (const r of byType.rows) {
    assert.ok(keyOf[r[0]], `query type ${r[0]} is known`);
    if (numberIn(r[3]) === null) continue;
    near(r[3], exactMs(RUN, 'search', `search_duration:${keyOf[r[0]]}`, 95), `p95 ${r[0]}`);
    n++;
  }
  assert.ok(n >= 2, 'query types checked');
  assert.match(text, /- Index Size: [\d.,]+ (MB|GB)/);
});

test('verdicts follow their rows; the scenarios not run read "not measured" with the reason; their charts are drawn', () => {
  const text = md();
  assertVerdicts(text);
  assert.match(
    tableAfter(text, '### Test 1: WebSocket').rows[0][2],
    /^not measured: scenario ws not run in this test \(not in --scenarios: files,search\)/,
  );
  for (const c of ['files-by_size', 'search-query_types'])
    assert.ok(existsSync(join(RUN, 'charts', `${c}.svg`)) && existsSync(join(RUN, 'charts', `${c}.png`)), `chart ${c}`);
});
