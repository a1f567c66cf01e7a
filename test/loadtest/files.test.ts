// Load scenario 4 (files) and the messages scenario's attachments, on a spawned server: the smoke
// profile's small files, checked on the run's data, not only its exit status:
//  - counts add up: started = completed + failed, per size class and in total; no failure;
//    latency samples = verified uploads (a failed upload never leaves one), per class too;
//  - every upload verified: the client compares each reply's size and SHA-256 with the bytes
//    sent (files_upload_mismatch = 0), and here a fixture of every class is uploaded again with
//    the same client and downloaded, its bytes hashed independently;
//  - server figures present: processing time from the server's histogram (images were uploaded),
//    RSS start/peak/end; summary.md carries the template's Test 4 rows;
//  - "file" messages carried a real uploaded file, every receipt had it.
// Plus the pure parts: multipart framing, Prometheus histogram delta and quantile, pool size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profileConfig, FILE_CLASSES } from '../../src/loadtest/config.js';
import { runLoadtest } from '../../src/loadtest/runner.js';
import { decodeHist } from '../../src/loadtest/hist.js';
import { multipartFraming, UploadClient } from '../../src/loadtest/clients/upload.js';
import { ensureFixtures, fixtureStream } from '../../src/loadtest/scenarios/files-content.js';
import { bucketQuantile, histogramDelta, parseHistogram, processingSummary } from '../../src/loadtest/scenarios/files-server.js';
import { poolSize } from '../../src/loadtest/scenarios/messages-files.js';
import { checkRun } from './check-run.js';
import { pgSkipReason, adminUrl } from '../helpers/postgres.js';
import { redisSkip, TEST_REDIS_URL } from '../helpers/redis.js';

test('multipart framing: fields first, the file part last, quoted names', () => {
  const { head, tail } = multipartFraming('B', { name: 'a "b"\r\n.txt', mime: 'text/plain' }, { channelId: 'c1' });
  assert.equal(
    head.toString(),
    '--B\r\nContent-Disposition: form-data; name="channelId"\r\n\r\nc1\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="a \\"b\\"  .txt"\r\nContent-Type: text/plain\r\n\r\n',
  );
  assert.equal(tail.toString(), '\r\n--B--\r\n');
});

test('Prometheus histogram: label sets summed, delta over the run, quantile inside the bucket', () => {
  const text = (n: number) =>
    [
      '# TYPE x_seconds histogram',
      `x_seconds_bucket{le="0.1",kind="a"} ${n}`,
      `x_seconds_bucket{le="0.5",kind="a"} ${2 * n}`,
      `x_seconds_bucket{le="+Inf",kind="a"} ${2 * n}`,
      `x_seconds_sum{kind="a"} ${0.3 * n}`,
      `x_seconds_count{kind="a"} ${2 * n}`,
      'x_seconds_other 7',
    ].join('\n');
  const before = parseHistogram(text(10), 'x_seconds')!;
  const after = parseHistogram(text(30), 'x_seconds')!;
  assert.deepEqual(after.buckets, [
    [0.1, 30],
    [0.5, 60],
    [Infinity, 60],
  ]);
  const d = histogramDelta(before, after);
  assert.equal(d.count, 40);
  assert.ok(Math.abs(d.sum - 6) < 1e-9);
  // 40 samples: 20 in (0, 0.1], 20 in (0.1, 0.5]; rank 38 is 18/20 into the second bucket.
  assert.ok(Math.abs(bucketQuantile(d, 0.95)! - (0.1 + 0.4 * (18 / 20))) < 1e-9);
  assert.equal(bucketQuantile(d, 0.5), 0.1);
  assert.equal(parseHistogram('y 1', 'x_seconds'), null);
  assert.equal(bucketQuantile({ buckets: [[Infinity, 0]], sum: 0, count: 0 }, 0.95), null);
});

test('processing quantiles past the last bucket are printed as its bound and said to be a lower bound', () => {
  // 100 files: 90 within 10 s, 10 past the top bucket (30 s); the mean comes from the exact sum.
  const h = {
    buckets: [
      [10, 90],
      [30, 90],
      [Infinity, 100],
    ] as [number, number][],
    sum: 90 * 5 + 10 * 60,
    count: 100,
  };
  const r = processingSummary({
    errors: {},
    processing: { delta: h, metric: 'x_seconds', missing: false },
    rss: [],
    drainMs: 1000,
    drainSettled: true,
  });
  assert.equal(r.trend.p95, 30_000, 'the bound');
  assert.equal(r.trend.avg, 10_500);
  const note = r.notes.find((n) => n.includes('last bucket'));
  assert.ok(note, r.notes.join('\n'));
  assert.match(note, /p95\/p99 fell past the server's last bucket \(30000 ms; 10 of 100 files took longer\)/);
  assert.match(note, /lower bound, not a measurement/);
  // p90 lies inside the buckets: no note for it.
  assert.doesNotMatch(note, /p90/);
  const inside = processingSummary({
    errors: {},
    processing: {
      delta: {
        ...h,
        buckets: [
          [10, 90],
          [30, 100],
          [Infinity, 100],
        ],
      },
      metric: 'x_seconds',
      missing: false,
    },
    rss: [],
    drainMs: 1000,
    drainSettled: true,
  });
  assert.ok(!inside.notes.some((n) => n.includes('last bucket')), 'nothing past the top: no note');
});

test('attachment pool: enough files for a binomial share of the messages', () => {
  assert.equal(poolSize(0, 0.1), 2);
  // 600 messages × 10% = 60 expected, sd 7.35: mean + 4 sd + 2 = 91.4 → 92.
  assert.equal(poolSize(600, 0.1), 92);
});

function filesChecks(s: any, dir: string) {
  const f = s.scenarios.files;
  assert.ok(f, 'files scenario in summary.json');
  const m = f.metrics;
  const c = (k: string): number => f.info.counters[k] ?? 0;
  const started = m.files_uploads_started.count;
  assert.ok(started > 0, 'uploads started');
  assert.equal(m.files_uploads_failed.count, 0, `no failed upload: ${JSON.stringify(f.tables.errors)}`);
  assert.equal(m.files_upload_mismatch.count, 0, 'every reply matched the bytes sent (size and SHA-256)');
  assert.equal(m.files_uploads_completed.count + m.files_uploads_failed.count, started, 'started = completed + failed');
  assert.equal(m.files_upload_success.rate, 1);
  const hists = JSON.parse(readFileSync(join(dir, 'histograms', 'files.json'), 'utf8'));
  const hc = (k: string) => (hists[k] ? decodeHist(hists[k].data).totalCount : 0);
  assert.equal(hc('files_upload_duration'), m.files_uploads_completed.count, 'one latency sample per verified upload');
  let sumStarted = 0;
  let sumDone = 0;
  let sumBytes = 0;
  for (const row of f.tables.by_size) {
    assert.equal(row.completed + row.failed, row.uploads, `${row.size}: started = completed + failed`);
    assert.equal(hc(`files_upload_duration:${row.key}`), row.completed, `${row.size}: latency samples = verified uploads`);
    assert.equal(m[`files_upload_duration_${row.key}`].count, row.completed);
    assert.ok(row.uploads > 0, `${row.size}: uploads made`);
    sumStarted += row.uploads;
    sumDone += row.completed;
    sumBytes += c(`files_bytes:${row.key}`);
  }
  assert.equal(f.tables.by_size.length, FILE_CLASSES.length);
  assert.equal(sumStarted, started, 'size classes add up to the total');
  assert.equal(sumDone, m.files_uploads_completed.count);
  assert.equal(sumBytes, m.files_bytes_uploaded.count, 'bytes per class add up');
  assert.ok(m.files_throughput.value > 0);
  // Server-side figures.
  assert.ok(f.info.thumbnailsExpected > 0, 'images were uploaded and got a thumbnailUrl');
  assert.ok(m.files_processing.count >= f.info.thumbnailsExpected, `processing: ${JSON.stringify(f.notes)}`);
  assert.ok(m.files_processing.p95 > 0 && m.files_processing.avg > 0);
  for (const k of ['files_server_rss_start', 'files_server_rss_peak', 'files_server_rss_end']) assert.ok(m[k].value > 0, k);
  assert.ok(m.files_server_rss_peak.value >= m.files_server_rss_start.value);
  const md = readFileSync(join(dir, 'summary.md'), 'utf8');
  for (const row of ['Total Uploads Started', 'p95 Upload Time (ms)', 'p95 Processing Time (ms)', '### by size'])
    assert.ok(md.includes(row), `summary.md has "${row}"`);
}

async function smoke(spawn: { store: 'sqlite' | 'postgres'; redis: boolean; nodes: number }, scenarios: string[]) {
  const out = mkdtempSync(join(tmpdir(), `lt-files-${spawn.store}-`));
  const logs: string[] = [];
  const cfg = profileConfig('smoke');
  cfg.scenarios = scenarios;
  const r = await runLoadtest({
    cfg,
    spawn: { ...spawn, postgresUrl: adminUrl(), redisUrl: TEST_REDIS_URL },
    outDir: out,
    argv: ['(test)'],
    signal: new AbortController().signal,
    log: (m) => logs.push(m),
    progress: false,
  });
  const { problems, summary } = checkRun(r.dir, scenarios);
  assert.deepEqual(problems, [], `data problems (run dir ${r.dir}); log:\n${logs.join('\n')}`);
  filesChecks(summary, r.dir);
  return { summary, out };
}

test('smoke, spawned SQLite: files and messages with attachments add up', async () => {
  const { summary: s, out } = await smoke({ store: 'sqlite', redis: false, nodes: 1 }, ['files', 'messages']);
  const att = s.scenarios.messages.tables.file_attachments;
  assert.equal(att.length, 1, `attachments measured: ${JSON.stringify(s.scenarios.messages.notes)}`);
  const a = att[0];
  assert.ok(a.messagesWithFile > 0, 'file messages carried a file');
  assert.ok(a.uploaded >= a.messagesWithFile, 'every attached file was uploaded at setup');
  assert.equal(a.messagesWithFile, s.scenarios.messages.tables.by_kind.find((k: any) => k.kind === 'file').count);
  assert.equal(a.sentAsTextPoolEmpty, 0);
  assert.equal(a.uploadErrors, 0);
  assert.equal(a.receiptsWithoutFile, 0, 'every receipt of a file message had its file');
  assert.equal(s.scenarios.messages.metrics.msg_delivered.count, s.scenarios.messages.metrics.msg_sent.count);
  rmSync(out, { recursive: true, force: true });
});

test('smoke, spawned PostgreSQL + Redis, two nodes: files add up, RSS read on both nodes', async (t) => {
  const pgSkip = await pgSkipReason();
  if (pgSkip) return t.skip(pgSkip);
  const rSkip = await redisSkip();
  if (rSkip) return t.skip(rSkip);
  const { summary: s, out } = await smoke({ store: 'postgres', redis: true, nodes: 2 }, ['files']);
  assert.equal(s.scenarios.files.tables.server_rss.length, 2, 'RSS read on each node');
  rmSync(out, { recursive: true, force: true });
});

test('upload client against a real server: every class uploaded, downloaded and hashed independently', async () => {
  const cfg = profileConfig('smoke');
  const { spawnCluster } = await import('../../src/loadtest/spawn.js');
  const logDir = mkdtempSync(join(tmpdir(), 'lt-files-dl-'));
  const cluster = await spawnCluster({
    store: 'sqlite',
    redis: false,
    nodes: 1,
    postgresUrl: adminUrl(),
    redisUrl: TEST_REDIS_URL,
    logDir,
    tag: 'dl',
    log: () => undefined,
  });
  try {
    const origin = cluster.origins[0];
    const signup = await fetch(`${origin}/api/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'dluser', email: 'dl@loadtest.invalid', password: 'lt-dl-pw-Secret1', displayName: 'dl' }),
    });
    assert.equal(signup.status, 201);
    const token = ((await signup.json()) as { accessToken: string }).accessToken;
    const classes = FILE_CLASSES.map((k) => ({ key: k, label: k, bytes: cfg.files.sizes[k] }));
    const fixtures = await ensureFixtures({ classes, imageMaxBytes: cfg.files.imageMaxBytes });
    const client = new UploadClient(origin, 4);
    for (const fx of fixtures) {
      const r = await client.upload(token, {
        name: fx.name,
        mime: fx.mime,
        bytes: fx.bytes,
        sha256: fx.sha256,
        open: () => fixtureStream(fx),
      });
      assert.ok(r.verified, `${fx.name}: ${r.status} ${r.error ?? r.mismatch ?? ''}`);
      const dl = await fetch(`${origin}/api/files/${r.body.id}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(dl.status, 200);
      const got = createHash('sha256')
        .update(Buffer.from(await dl.arrayBuffer()))
        .digest('hex');
      const want = createHash('sha256').update(readFileSync(fx.path)).digest('hex');
      assert.equal(got, want, `${fx.name}: downloaded bytes are the fixture's`);
      assert.equal(fx.sha256, want, `${fx.name}: the manifest's hash is the file's`);
      if (fx.width) assert.equal(r.body.mime, fx.mime, `${fx.name}: sniffed as ${fx.mime}`);
    }
    await client.close();
  } finally {
    await cluster.stop();
    rmSync(logDir, { recursive: true, force: true });
  }
});
