// npm run bench:search [-- --backends sqlite,postgres --messages 1000000 --vus 100 --duration 30
//                          --out DIR --set search.mix.suggest=20 ...]
//
// Search latency, throughput, index and relevance (issue 10), per backend: seeds a workspace of
// --messages messages once into the seed cache (src/seed/cache.ts: a SQLite data dir under
// NCHAT_SEED_CACHE / <tmp>/nchat-seed-cache, a PostgreSQL template database nchat_seed_<key>),
// reused by later runs, then runs the load test's `search` scenario (src/loadtest/scenarios/
// search.ts: --vus concurrent clients, text/filtered/suggest 70/20/10, closed model) against a
// server spawned on a copy of it, twice: "users" — each client pauses --think ms (default 1000,
// a person's pace) between queries, so latency is the search's; and "capacity" — no pause for
// --capacity-duration s, so queries/s is the most the server answers (its latency is then only
// the queue: VUs ÷ throughput). Prints p50/p95/p99 for text, filtered and suggest queries,
// queries/s, index size and documents, the seed's write rate (measured when the cache entry was
// made, with its date), index lag and the relevance score, against the issue's targets. The run
// directories (summary.json/md, samples, server logs) are kept under --out.
// Generator and server share this machine's cores (and, when other work runs, with it): the
// figures say so.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyPatch, profileConfig, setToPatch } from '../src/loadtest/config.js';
import { runLoadtest } from '../src/loadtest/runner.js';
import { benchArgs } from './args.js';
import { cachedSeed } from '../src/seed/cache.js';

const { all, one } = benchArgs();
const BACKENDS = one('backends', 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[];
const OUT = one('out', join(tmpdir(), `nchat-bench-search-${Date.now().toString(36)}`));
const PG_URL = one('postgres-url', process.env.NCHAT_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test');

/** The issue's targets on this machine (the seed rate's is SQLite's only: issue 10, "Seeding a workspace"). */
const TARGETS = { textP95: 50, filteredP95: 50, suggestP95: 20, relevance: 0.9, seedRate: 50_000 };
const seedMark = (store: string, rate: number) =>
  store === 'sqlite'
    ? `${mark(rate >= TARGETS.seedRate)} ≥ ${TARGETS.seedRate.toLocaleString('en-US')}/s`
    : `(the ≥ ${TARGETS.seedRate.toLocaleString('en-US')}/s target is SQLite's)`;

let cfg = profileConfig('quick');
cfg = applyPatch(cfg, {
  scenarios: ['search'],
  search: {
    vus: Number(one('vus', '100')),
    duration: Number(one('duration', '30')),
    rampUp: Number(one('ramp-up', '2')),
    thinkTimeMs: Number(one('think', '1000')),
    seed: { ...cfg.search.seed, messages: Number(one('messages', String(cfg.search.seed.messages))) },
  },
});
for (const s of all('set')) cfg = applyPatch(cfg, setToPatch(s));

type Trend = { count: number; avg: number | null; p50: number | null; p95: number | null; p99: number | null; max?: number | null };
const ms = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(1));
const mark = (ok: boolean) => (ok ? '✅' : '❌');
const results: Record<string, unknown>[] = [];
mkdirSync(OUT, { recursive: true });
const log = (m: string) => process.stderr.write(`${m}\n`);

for (const store of BACKENDS) {
  log(`\n== ${store}: workspace of ${cfg.search.seed.messages.toLocaleString('en-US')} messages`);
  const seed = await cachedSeed(store, cfg.search.seed, { postgresUrl: PG_URL, log });
  const info = seed.result.info;
  log(
    seed.result.reused
      ? `${store}: reused ${seed.where} (seeded ${info.seededAt}: ${Math.round(info.writeRate).toLocaleString('en-US')} messages/s written)`
      : `${store}: seeded ${seed.where} in ${seed.seconds.toFixed(1)} s`,
  );
  const out = join(OUT, store);
  const r = await runLoadtest({
    cfg,
    spawn: { store, redis: false, nodes: 1, postgresUrl: PG_URL, redisUrl: '' },
    outDir: out,
    argv: process.argv.slice(2),
    signal: new AbortController().signal,
    log: (m) => (m.includes('threshold') ? undefined : log(`  ${m}`)),
    progress: false,
  });
  const s = r.summary as any;
  const sc = s.scenarios?.search;
  if (!sc) {
    log(`${store}: the run did not produce search figures; see ${r.dir}`);
    results.push({ store, error: (s.run?.errors ?? []).join(' | ') });
    continue;
  }
  const m = sc.metrics as Record<string, Trend & { value?: number | null; count?: number }>;
  // Capacity: the same scenario without pauses (and without the relevance/lag parts mattering).
  const capCfg = applyPatch(cfg, { search: { thinkTimeMs: 0, duration: Number(one('capacity-duration', '15')) } });
  const cap = await runLoadtest({
    cfg: capCfg,
    spawn: { store, redis: false, nodes: 1, postgresUrl: PG_URL, redisUrl: '' },
    outDir: join(OUT, `${store}-capacity`),
    argv: process.argv.slice(2),
    signal: new AbortController().signal,
    log: (x) => (x.includes('threshold') ? undefined : log(`  ${x}`)),
    progress: false,
  });
  const capM = (cap.summary as any).scenarios?.search?.metrics;
  const row = {
    store,
    messages: cfg.search.seed.messages,
    vus: cfg.search.vus,
    seconds: sc.info.seconds,
    text: m.search_duration_text as Trend,
    filtered: m.search_duration_filtered as Trend,
    suggest: m.search_duration_suggest as Trend,
    qps: m.search_qps.value,
    thinkTimeMs: cfg.search.thinkTimeMs,
    capacityQps: capM?.search_qps?.value ?? null,
    capacityP95: capM?.search_duration?.p95 ?? null,
    failed: m.search_queries_failed.count,
    indexDocuments: m.search_index_documents.value,
    indexMB: m.search_index_bytes.value === null || m.search_index_bytes.value === undefined ? null : m.search_index_bytes.value / 1e6,
    seedWriteRate: info.writeRate,
    seedTotalRate: info.totalRate,
    seedIndexSeconds: info.indexSeconds,
    seededAt: info.seededAt,
    seedReused: seed.result.reused,
    lag: m.search_index_lag as Trend,
    relevance: m.search_relevance_score.value,
    precisionAt10: m.search_precision_at_10.value,
    recall: m.search_recall.value,
    machine: s.generator?.machine ?? null,
    notices: s.notices,
    dir: r.dir,
  };
  results.push(row);
  const t = row;
  console.log(
    [
      `\n${store}, ${t.messages.toLocaleString('en-US')} messages, ${t.vus} concurrent clients (${t.thinkTimeMs} ms between a client's queries), ${t.seconds} s (${cpus().length} cores shared by server and generator):`,
      `  text      p50/p95/p99 ${ms(t.text.p50)} / ${ms(t.text.p95)} / ${ms(t.text.p99)} ms  (${t.text.count} queries) ${mark((t.text.p95 ?? Infinity) < TARGETS.textP95)} p95 < ${TARGETS.textP95}`,
      `  filtered  p50/p95/p99 ${ms(t.filtered.p50)} / ${ms(t.filtered.p95)} / ${ms(t.filtered.p99)} ms  (${t.filtered.count}) ${mark((t.filtered.p95 ?? Infinity) < TARGETS.filteredP95)} p95 < ${TARGETS.filteredP95}`,
      `  suggest   p50/p95/p99 ${ms(t.suggest.p50)} / ${ms(t.suggest.p95)} / ${ms(t.suggest.p99)} ms  (${t.suggest.count}) ${mark((t.suggest.p95 ?? Infinity) < TARGETS.suggestP95)} p95 < ${TARGETS.suggestP95}`,
      `  queries/s ${t.qps} at ${t.thinkTimeMs} ms think time, failed ${t.failed}; capacity (no think time) ${t.capacityQps} queries/s, p95 ${ms(t.capacityP95)} ms (= queue)`,
      `  index     ${t.indexDocuments?.toLocaleString('en-US')} documents, ${t.indexMB?.toFixed(1)} MB`,
      `  seed      ${Math.round(t.seedWriteRate).toLocaleString('en-US')} messages/s written, ${Math.round(t.seedTotalRate).toLocaleString('en-US')}/s with the index rebuild (${t.seedIndexSeconds?.toFixed(1)} s), ${t.seedReused ? `measured ${t.seededAt}` : 'this run'} ${seedMark(store, t.seedWriteRate)}`,
      `  index lag p50/p95/max ${ms(t.lag.p50)} / ${ms(t.lag.p95)} / ${ms(t.lag.max)} ms (${t.lag.count} probes)`,
      `  relevance ${t.relevance} (precision@10 ${t.precisionAt10}, recall ${t.recall}) ${mark((t.relevance ?? 0) >= TARGETS.relevance)} ≥ ${TARGETS.relevance}`,
      `  run dir   ${t.dir}`,
    ].join('\n'),
  );
}
writeFileSync(
  join(OUT, 'bench-search.json'),
  `${JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, targets: TARGETS, results }, null, 2)}\n`,
);
console.log(`\nresults: ${join(OUT, 'bench-search.json')}`);
