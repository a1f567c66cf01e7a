// Tests 4 (uploads) and 5 (search): the template's rows from the files and search scenarios.
// Those scenarios are newer than the report; their metric names are looked up from a short
// list of candidates (the first one the run reports wins), so a renamed metric reads
// "not measured: the run reports no …" instead of a wrong figure.
import { type Facts, type M, nm, ratio } from './facts.js';
import { SEARCH_QUERY_TYPES } from '../loadtest/known-metrics.js';
import type { RowMaker, Section } from './results.js';

const FILES = {
  started: ['files_uploads_started'],
  completed: ['files_uploads_completed'],
  failed: ['files_uploads_failed'],
  time: ['files_upload_duration'],
  speedAvg: ['files_upload_speed_avg'],
  speedP95: ['files_upload_speed_p95'],
  processing: ['files_processing'],
  success: ['files_upload_success'],
};
const SEARCH = {
  queries: ['search_queries'],
  failed: ['search_queries_failed'],
  time: ['search_duration'],
  qps: ['search_qps'],
  results: ['search_results_avg'],
  relevance: ['search_relevance_score'],
  success: ['search_success'],
};

function cnt(f: Facts, sc: string, names: string[]): M {
  if (!f.ran(sc)) return nm(f.whyNot(sc));
  const n = f.pick(sc, names);
  return n ? f.count(sc, n) : nm(`not measured: the ${sc} scenario reports none of ${names.join(', ')}`);
}
function tr(f: Facts, sc: string, names: string[], stat: 'avg' | 'p50' | 'p95' | 'p99'): M {
  if (!f.ran(sc)) return nm(f.whyNot(sc));
  const n = f.pick(sc, names);
  return n ? f.trend(sc, n, stat) : nm(`not measured: the ${sc} scenario reports none of ${names.join(', ')}`);
}
/** A gauge, a rate (as %) or a trend's avg, whichever the metric is. */
function anyVal(f: Facts, sc: string, names: string[], asPct = false): M {
  if (!f.ran(sc)) return nm(f.whyNot(sc));
  const n = f.pick(sc, names);
  if (!n) return nm(`not measured: the ${sc} scenario reports none of ${names.join(', ')}`);
  const m = f.metric(sc, n);
  if (m?.type === 'gauge')
    return m.value === null ? nm(`not measured: ${n} has no value`) : { v: asPct && m.value <= 1 ? m.value * 100 : m.value };
  if (m?.type === 'rate') return f.ratePct(sc, n);
  return f.trend(sc, n, 'avg');
}
export function filesSection(f: Facts, rm: RowMaker): Section {
  const sc = 'files';
  const started = cnt(f, sc, FILES.started);
  const completed = cnt(f, sc, FILES.completed);
  const success = f.pick(sc, FILES.success) ? f.ratePct(sc, f.pick(sc, FILES.success)!) : ratio(completed, started, 100);
  return {
    id: sc,
    title: 'Test 4: File Upload Load Test',
    ran: f.ran(sc),
    why: f.ran(sc) ? undefined : f.whyNot(sc),
    rows: [
      rm.row('Total Uploads Started', started, 'count'),
      rm.row('Uploads Completed', completed, 'count'),
      rm.row('Uploads Failed', cnt(f, sc, FILES.failed), 'count', 'uploads_failed'),
      rm.row('Success Rate', success, '%', 'upload_success'),
      rm.row('Avg Upload Time', tr(f, sc, FILES.time, 'avg'), 'ms'),
      rm.row('p50 Upload Time', tr(f, sc, FILES.time, 'p50'), 'ms'),
      rm.row('p95 Upload Time', tr(f, sc, FILES.time, 'p95'), 'ms', 'upload_p95'),
      rm.row('p99 Upload Time', tr(f, sc, FILES.time, 'p99'), 'ms', 'upload_p99'),
      rm.row('Avg Upload Speed', anyVal(f, sc, FILES.speedAvg), 'Mbps'),
      rm.row('p95 Upload Speed', anyVal(f, sc, FILES.speedP95), 'Mbps'),
      rm.row('Avg Processing Time', tr(f, sc, FILES.processing, 'avg'), 'ms'),
      rm.row('p95 Processing Time', tr(f, sc, FILES.processing, 'p95'), 'ms', 'processing_p95'),
    ],
  };
}

export function searchSection(f: Facts, rm: RowMaker): Section {
  const sc = 'search';
  const queries = cnt(f, sc, SEARCH.queries);
  const failed = cnt(f, sc, SEARCH.failed);
  const ok: M = queries.v !== null && failed.v !== null ? { v: queries.v - failed.v } : queries.v === null ? queries : failed;
  const success = f.pick(sc, SEARCH.success) ? f.ratePct(sc, f.pick(sc, SEARCH.success)!) : ratio(ok, queries, 100);
  return {
    id: sc,
    title: 'Test 5: Search Performance Load Test',
    ran: f.ran(sc),
    why: f.ran(sc) ? undefined : f.whyNot(sc),
    rows: [
      rm.row('Total Queries', queries, 'count'),
      rm.row('Query Rate', anyVal(f, sc, SEARCH.qps), 'q/s'),
      rm.row('Queries Successful', ok, 'count'),
      rm.row('Queries Failed', failed, 'count', 'queries_failed'),
      rm.row('Success Rate', success, '%', 'search_success'),
      rm.row('Avg Query Time', tr(f, sc, SEARCH.time, 'avg'), 'ms'),
      rm.row('p50 Query Time', tr(f, sc, SEARCH.time, 'p50'), 'ms'),
      rm.row('p95 Query Time', tr(f, sc, SEARCH.time, 'p95'), 'ms', 'search_p95'),
      rm.row('p99 Query Time', tr(f, sc, SEARCH.time, 'p99'), 'ms', 'search_p99'),
      rm.row('Avg Results per Query', anyVal(f, sc, SEARCH.results), ''),
      rm.row('Relevance Score', anyVal(f, sc, SEARCH.relevance, true), '%', 'relevance'),
    ],
  };
}

export interface SizeRow {
  size: string;
  uploads: M;
  avg: M;
  p95: M;
  success: M;
}

/** The template's "Upload Time by File Size" rows: counts from the by_size table, times from each class's histogram. */
export function sizeRows(f: Facts): SizeRow[] {
  if (!f.ran('files')) return [];
  const rows = (f.s.scenarios.files.tables?.by_size ?? []) as { size: string; key: string; uploads: number; completed: number }[];
  return rows.map((r) => ({
    size: r.size,
    uploads: { v: r.uploads },
    avg: f.trend('files', `files_upload_duration:${r.key}`, 'avg'),
    p95: f.trend('files', `files_upload_duration:${r.key}`, 'p95'),
    success: r.uploads > 0 ? { v: (r.completed / r.uploads) * 100 } : nm('not measured: no upload of this size'),
  }));
}

/** Storage impact of the upload test: bytes, disk writes during it, upload throughput. */
export function storageImpact(f: Facts): { data: M; iops: M; throughput: M } {
  if (!f.ran('files')) {
    const w = nm(f.whyNot('files'));
    return { data: w, iops: w, throughput: w };
  }
  const bytes = f.count('files', 'files_bytes_uploaded');
  const ph = f.s.resources?.byPhase?.files?.disk?.writeIops?.avg;
  const thr = f.gauge('files', 'files_throughput');
  return {
    data: bytes.v === null ? bytes : { v: bytes.v / 1073741824 },
    iops: typeof ph === 'number' ? { v: ph } : nm('not measured: no disk samples in the upload phase'),
    throughput: thr.v === null ? thr : { v: (thr.v * 8 * 1048576) / 1e9 },
  };
}

export interface QueryTypeRow {
  type: string;
  queries: M;
  avg: M;
  p95: M;
  results: M;
}

/** The template's "Query Performance by Type": counts and results from tables.query_types, times from each type's histogram. */
export function queryTypeRows(f: Facts): QueryTypeRow[] {
  if (!f.ran('search')) return [];
  const rows = (f.s.scenarios.search.tables?.query_types ?? []) as { queryType: string; queries: number; avgResults: number | null }[];
  // The scenario writes one row per SEARCH_QUERY_TYPES entry, in that order.
  return rows.map((r, i) => {
    const key = SEARCH_QUERY_TYPES[i];
    return {
      type: r.queryType,
      queries: { v: r.queries },
      avg: key ? f.trend('search', `search_duration:${key}`, 'avg') : nm('not measured: unknown query type'),
      p95: key ? f.trend('search', `search_duration:${key}`, 'p95') : nm('not measured: unknown query type'),
      results: r.avgResults === null ? nm('not measured: no successful query of this type') : { v: r.avgResults },
    };
  });
}

/** Search index figures (template "Search Index Performance" and the system section's search table). */
export function searchIndex(f: Facts): { sizeGB: M; documents: M; seedRate: M; lagP95s: M; qps: M } {
  if (!f.ran('search')) {
    const w = nm(f.whyNot('search'));
    return { sizeGB: w, documents: w, seedRate: w, lagP95s: w, qps: w };
  }
  const bytes = f.gauge('search', 'search_index_bytes');
  const lag = f.trend('search', 'search_index_lag', 'p95');
  const seed = f.gauge('search', 'search_seed_rate');
  return {
    sizeGB: bytes.v === null ? bytes : { v: bytes.v / 1073741824 },
    documents: f.gauge('search', 'search_index_documents'),
    seedRate: seed.v === null ? nm('not measured: the workspace was not seeded in this run (an existing seed was reused)') : seed,
    lagP95s: lag.v === null ? lag : { v: lag.v / 1000 },
    qps: f.gauge('search', 'search_qps'),
  };
}

/** A scenario's own tables (by size class, by query type, …) as they are in summary.json. */
export function scenarioTables(f: Facts, sc: string): Record<string, Record<string, unknown>[]> {
  return f.ran(sc) ? (f.s.scenarios[sc].tables ?? {}) : {};
}
