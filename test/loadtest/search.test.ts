// Load scenario 5 (search), smoke profile against spawned servers: SQLite, then PostgreSQL.
// Checks the run's data, not only its status: queries were made and none failed, the per-type
// counts add up to the total and each equals its histogram's sample count, the relevance score
// is the mean of the per-query figures in its table, index-lag probes were all found, the index
// figures are the seeded workspace's, and summary.md carries the template's search tables.
// The seed cache is a temp dir of this test's own (NCHAT_SEED_CACHE), so the first run seeds
// and the second reuses, and both paths are exercised.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { profileConfig } from '../../src/loadtest/config.js';
import { runLoadtest } from '../../src/loadtest/runner.js';
import { cacheKey } from '../../src/seed/cache.js';
import { adminUrl, pgSkipReason } from '../helpers/postgres.js';
import { checkRun } from './check-run.js';

const cache = mkdtempSync(join(tmpdir(), 'nchat-seed-cache-test-'));
process.env.NCHAT_SEED_CACHE = cache;
const TYPES = ['text', 'filtered', 'suggest'];

async function searchRun(store: 'sqlite' | 'postgres', duration = 4) {
  const out = mkdtempSync(join(tmpdir(), `lt-search-${store}-`));
  const cfg = profileConfig('smoke');
  cfg.scenarios = ['search'];
  cfg.search.seed = { ...cfg.search.seed, seed: 4242 }; // a key of this test's own (PostgreSQL templates are server-wide)
  cfg.search.duration = duration; // short: the file must stay well under a minute
  const logs: string[] = [];
  const r = await runLoadtest({
    cfg,
    spawn: { store, redis: false, nodes: 1, postgresUrl: adminUrl(), redisUrl: '' },
    outDir: out,
    argv: ['(test)'],
    signal: new AbortController().signal,
    log: (m) => logs.push(m),
    progress: false,
  });
  const { problems, summary } = checkRun(r.dir, ['search']);
  assert.deepEqual(problems, [], `run dir ${r.dir}; log:\n${logs.join('\n')}`);
  const sc = summary.scenarios.search;
  const m = sc.metrics;
  const counters = sc.info.counters as Record<string, number>;
  const hist = JSON.parse(readFileSync(join(r.dir, 'histograms', 'search.json'), 'utf8')) as Record<string, { count: number }>;
  assert.ok(m.search_queries.count > 0, 'queries made');
  assert.equal(m.search_queries_failed.count, 0, JSON.stringify(sc.tables.errors));
  assert.equal(m.search_rate_limited.count, 0);
  assert.equal(
    TYPES.reduce((n, t) => n + (counters[`search_queries:${t}`] ?? 0), 0),
    m.search_queries.count,
    'per-type counts add up',
  );
  for (const t of TYPES) {
    assert.ok((counters[`search_queries:${t}`] ?? 0) > 0, `${t} queries made`);
    assert.equal(hist[`search_duration:${t}`]?.count, counters[`search_queries:${t}`], `${t}: one latency sample per answered query`);
    assert.equal(m[`search_duration_${t}`].count, counters[`search_queries:${t}`]);
  }
  assert.equal(m.search_duration.count, m.search_queries.count);
  // The relevance score is computed from the per-query rows (real search results), not asserted high here.
  const rows = sc.tables.relevance as { precisionAt10: number; recall: number; error?: string }[];
  assert.ok(rows.length >= 15);
  for (const row of rows) assert.equal(row.error, undefined);
  const mean = (f: (x: (typeof rows)[number]) => number) => rows.reduce((s, x) => s + f(x), 0) / rows.length;
  assert.ok(Math.abs(m.search_relevance_score.value - (mean((x) => x.precisionAt10) + mean((x) => x.recall)) / 2) < 1e-3);
  // Index lag: every probe found.
  assert.ok(m.search_index_lag_probes.count > 0);
  assert.equal(m.search_index_lag_timeouts.count, 0);
  assert.equal(m.search_index_lag.count, m.search_index_lag_probes.count);
  assert.equal(m.search_index_documents.value, cfg.search.seed.messages);
  assert.ok(m.search_index_bytes.value > 0);
  const md = readFileSync(join(r.dir, 'summary.md'), 'utf8');
  for (const row of ['| Total Queries |', '| Relevance Score |', '| Index Size (MB) |', '### query types'])
    assert.ok(md.includes(row), `summary.md has ${row}`);
  console.log(
    `search smoke ${store}: ${m.search_queries.count} queries, p95 ${m.search_duration.p95} ms, relevance ${m.search_relevance_score.value}, lag p95 ${m.search_index_lag.p95} ms; ${sc.notes[0]}`,
  );
  rmSync(out, { recursive: true, force: true });
  return summary;
}

after(async () => {
  rmSync(cache, { recursive: true, force: true });
});

test('search scenario, spawned SQLite: seeds into the cache, then reuses it; the data adds up', async () => {
  const first = await searchRun('sqlite');
  assert.match(first.scenarios.search.notes[0], /seeded for this run/);
  assert.notEqual(first.scenarios.search.metrics.search_seed_rate.value, null);
  const second = await searchRun('sqlite', 2);
  assert.match(second.scenarios.search.notes[0], /reused from the seed cache/);
  assert.equal(second.scenarios.search.metrics.search_seed_rate.value, null);
});

test('search scenario, spawned PostgreSQL: the data adds up', async (t) => {
  const skip = await pgSkipReason();
  if (skip) return t.skip(skip);
  try {
    await searchRun('postgres');
  } finally {
    const key = cacheKey({ ...profileConfig('smoke').search.seed, seed: 4242 });
    const c = new pg.Client({ connectionString: adminUrl() });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS nchat_seed_${key} WITH (FORCE)`);
    await c.end();
  }
});
