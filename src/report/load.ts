// Loads a load-test run directory (src/loadtest/README.md, "Run directory") into memory. The
// report reads nothing else, so it can be rebuilt later, elsewhere, from the same directory.
// A missing or unreadable file is not fatal: it is recorded in `missing` with the reason, and
// every figure that needed it reads "not measured" with that reason.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { TimelineRow } from '../loadtest/pool.js';
import { summarizeEncoded, type TrendSummary } from '../loadtest/hist.js';
import { type Faults, readFaults } from './faults-data.js';

export type Row = Record<string, unknown>;

export interface ServerLog {
  file: string;
  bytes: number;
  lines: number;
  /** pino level ≥ 50 (error, fatal). */
  errors: number;
  /** pino level 40. */
  warnings: number;
  /** First error lines (message only), for the appendix. */
  firstErrors: string[];
}

export interface RunData {
  dir: string;
  // biome-ignore lint/suspicious/noExplicitAny: summary.json is a wide, versioned document; report code reads it through typed helpers (metrics.ts)
  summary: any;
  config: Row | null;
  environment: Row | null;
  timelines: Record<string, TimelineRow[]>;
  /** Encoded HDR histograms (µs) by scenario and histogram name. */
  histograms: Record<string, Record<string, string>>;
  samples: Record<string, Row[]>;
  logs: ServerLog[];
  /** capacity.json of the --find-capacity search this run is a step of (or that sits in it), else null. */
  // biome-ignore lint/suspicious/noExplicitAny: src/loadtest/capacity.ts CapacityResult, read as written
  capacity: any;
  capacityDir: string | null;
  /** faults.jsonl of `npm run test:faults` run with NCHAT_FAULTS_OUT set to this directory, else null. */
  faults: Faults | null;
  /** What could not be read, by file, with the reason. */
  missing: Record<string, string>;
}

function readJson(path: string, missing: Record<string, string>, name: string): unknown {
  if (!existsSync(path)) {
    missing[name] = 'file not in the run directory';
    return null;
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    missing[name] = `unreadable: ${(e as Error).message}`;
    return null;
  }
}

/** One JSON object per line; a torn last line (a run killed mid-write) is skipped. */
export function readNdjson(path: string): Row[] {
  if (!existsSync(path)) return [];
  const out: Row[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      /* torn line */
    }
  }
  return out;
}

function listDir(path: string, ext: string): string[] {
  if (!existsSync(path)) return [];
  return readdirSync(path)
    .filter((f) => f.endsWith(ext))
    .sort();
}

function readLog(path: string, file: string): ServerLog {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n').filter((l) => l.trim());
  let errors = 0;
  let warnings = 0;
  const firstErrors: string[] = [];
  for (const l of lines) {
    let level = 0;
    let msg = l;
    try {
      const j = JSON.parse(l);
      level = Number(j.level) || 0;
      msg = String(j.msg ?? j.err?.message ?? l);
    } catch {
      if (/\berror\b/i.test(l)) level = 50;
    }
    if (level >= 50) {
      errors++;
      if (firstErrors.length < 5) firstErrors.push(msg.slice(0, 200));
    } else if (level === 40) warnings++;
  }
  return { file, bytes: statSync(path).size, lines: lines.length, errors, warnings, firstErrors };
}

/** Reads a run directory; throws only when it has no summary.json (then there is nothing to report). */
export function loadRun(dirIn: string): RunData {
  const dir = resolve(dirIn);
  if (!existsSync(join(dir, 'summary.json'))) throw new Error(`${dir} is not a load-test run directory (no summary.json)`);
  const missing: Record<string, string> = {};
  const summary = readJson(join(dir, 'summary.json'), missing, 'summary.json');
  if (!summary || typeof summary !== 'object') throw new Error(`${dir}/summary.json: ${missing['summary.json'] ?? 'not an object'}`);
  const config = readJson(join(dir, 'config.json'), missing, 'config.json') as Row | null;
  const environment = readJson(join(dir, 'environment.json'), missing, 'environment.json') as Row | null;
  const timelines: Record<string, TimelineRow[]> = {};
  for (const f of listDir(join(dir, 'timelines'), '.ndjson'))
    timelines[f.replace(/\.ndjson$/, '')] = readNdjson(join(dir, 'timelines', f)) as unknown as TimelineRow[];
  const histograms: Record<string, Record<string, string>> = {};
  for (const f of listDir(join(dir, 'histograms'), '.json')) {
    const h = readJson(join(dir, 'histograms', f), missing, `histograms/${f}`) as Record<string, { data?: string }> | null;
    if (!h) continue;
    histograms[f.replace(/\.json$/, '')] = Object.fromEntries(
      Object.entries(h)
        .filter(([, v]) => typeof v?.data === 'string')
        .map(([k, v]) => [k, v.data as string]),
    );
  }
  const samples: Record<string, Row[]> = {};
  for (const f of listDir(join(dir, 'samples'), '.ndjson')) samples[f.replace(/\.ndjson$/, '')] = readNdjson(join(dir, 'samples', f));
  const logs = listDir(join(dir, 'server-logs'), '.log').map((f) => readLog(join(dir, 'server-logs', f), f));
  const cap = capacityOf(dir);
  return {
    dir,
    summary,
    config,
    environment,
    timelines,
    histograms,
    samples,
    logs,
    missing,
    capacity: cap?.result ?? null,
    capacityDir: cap?.dir ?? null,
    faults: readFaults(dir),
  };
}

/** The capacity search a run belongs to: capacity.json in the run directory, or in its parent when it lists the run as a step. */
function capacityOf(dir: string): { result: { steps?: { dir: string }[] }; dir: string } | null {
  for (const d of [dir, dirname(dir)]) {
    const p = join(d, 'capacity.json');
    if (!existsSync(p)) continue;
    try {
      const j = JSON.parse(readFileSync(p, 'utf8'));
      if (d === dir || (Array.isArray(j.steps) && j.steps.some((s: { dir: string }) => join(d, s.dir) === dir)))
        return { result: j, dir: d };
    } catch {
      /* unreadable: no capacity figures */
    }
  }
  return null;
}

/**
 * The whole-scenario summary of one histogram, decoded from histograms/<scenario>.json (the
 * source of every percentile the report prints). Histogram names use ':' where summary.json's
 * metric names use '_' (api_req_duration:search → api_req_duration_search); both are accepted.
 * Null when the scenario has no such histogram.
 */
export function trendOf(run: RunData, scenario: string, name: string): TrendSummary | null {
  const hs = run.histograms[scenario];
  if (!hs) return null;
  const key = hs[name] !== undefined ? name : Object.keys(hs).find((k) => k.replace(/:/g, '_') === name);
  return key === undefined ? null : summarizeEncoded(hs[key]);
}
