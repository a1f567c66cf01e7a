// Comparison with a previous run: the same headline figures computed the same way from both run
// directories, % change, and a regression flag when a figure moved the wrong way by more than
// REGRESSION_PCT. The previous run is --previous, else the newest other run directory in the same
// parent folder that started before this one.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Facts, type M, int, num, pct, ratio, sum } from './facts.js';
import { loadRun } from './load.js';
import { overallErrors } from './results.js';

export const REGRESSION_PCT = 10;

export interface CompareRow {
  metric: string;
  unit: string;
  prev: M;
  cur: M;
  change: number | null;
  /** +1 higher is better, -1 lower is better. */
  better: 1 | -1;
  regression: boolean;
}

function headline(f: Facts): { metric: string; unit: string; m: M; better: 1 | -1 }[] {
  const e = overallErrors(f);
  const res = f.s.resources ?? {};
  const nodes = Object.keys(res).filter((k) => /^node\d+$/.test(k));
  const avgOf = (k: 'cpu' | 'rssMB'): M => {
    const parts = nodes.map((n) => res[n]?.[k]?.avg);
    return parts.length && parts.every((x) => typeof x === 'number')
      ? { v: parts.reduce((a: number, b: number) => a + b, 0) }
      : { v: null, why: 'not measured' };
  };
  const pg = res.postgresStats;
  const hit = res.redisStats?.hitRate?.avg;
  return [
    { metric: 'Max Concurrent Users', unit: 'users', m: f.gauge('ws', 'ws_max_concurrent'), better: 1 },
    { metric: 'Message Throughput', unit: '/s', m: f.gauge('messages', 'msg_rate_achieved'), better: 1 },
    { metric: 'Message Latency p95', unit: 'ms', m: f.trend('messages', 'msg_e2e', 'p95'), better: -1 },
    { metric: 'API p95 Latency', unit: 'ms', m: f.trend('api', 'api_req_duration', 'p95'), better: -1 },
    { metric: 'API Request Rate', unit: 'req/s', m: f.perSec('api', 'api_reqs'), better: 1 },
    { metric: 'WebSocket p95 Latency', unit: 'ms', m: f.trend('ws', 'ws_connecting', 'p95'), better: -1 },
    { metric: 'Error Rate', unit: '%', m: ratio(e.failed, e.attempted, 100), better: -1 },
    { metric: 'CPU Usage (Avg, app nodes, % of a core)', unit: '%', m: avgOf('cpu'), better: -1 },
    { metric: 'Memory Usage (Avg, app RSS MB)', unit: 'MB', m: avgOf('rssMB'), better: -1 },
    {
      metric: 'Database Queries/sec',
      unit: '',
      m:
        pg?.queriesPerSec?.avg !== undefined && pg?.queriesPerSec?.avg !== null
          ? { v: pg.queriesPerSec.avg }
          : { v: null, why: 'not measured (no PostgreSQL)' },
      better: 1,
    },
    {
      metric: 'Cache Hit Rate',
      unit: '%',
      m: typeof hit === 'number' ? { v: hit * 100 } : { v: null, why: 'not measured (no Redis key reads)' },
      better: 1,
    },
  ];
}

/** What differs between the two runs' set-ups (profile, store, broker, nodes), for a caveat line. */
export function setupDiff(cur: Facts, prev: Facts): string[] {
  const d = (f: Facts) => ({
    profile: String(f.s.run?.profile),
    store: String(f.s.target?.health?.[0]?.store),
    broker: String(f.s.target?.health?.[0]?.broker),
    nodes: String((f.s.target?.nodes ?? []).length),
    scenarios: Object.keys(f.s.scenarios ?? {}).join(','),
  });
  const a = d(prev);
  const b = d(cur);
  return (Object.keys(a) as (keyof typeof a)[]).filter((k) => a[k] !== b[k]).map((k) => `${k} ${a[k]} → ${b[k]}`);
}

export function compare(cur: Facts, prev: Facts): CompareRow[] {
  const a = headline(prev);
  const b = headline(cur);
  return b.map((row, i) => {
    const p = a[i].m;
    const c = row.m;
    // From 0: equal is 0%; anything else has no finite % (shown as the absolute move, flagged by direction).
    const change = p.v !== null && c.v !== null ? (p.v !== 0 ? ((c.v - p.v) / Math.abs(p.v)) * 100 : c.v === 0 ? 0 : null) : null;
    const fromZeroWorse = p.v === 0 && c.v !== null && c.v !== 0 && (c.v - p.v) * row.better < 0;
    const regression = (change !== null && change * row.better < -REGRESSION_PCT) || fromZeroWorse;
    return { metric: row.metric, unit: row.unit, prev: p, cur: c, change, better: row.better, regression };
  });
}

export function fmtCompare(m: M, unit: string): string {
  if (m.v === null) return 'not measured';
  if (unit === 'users') return int(m.v);
  return unit === '%' ? `${pct(m.v)}%` : `${num(m.v)}${unit && unit !== '' ? (unit.startsWith('/') ? unit : ` ${unit}`) : ''}`;
}

/** The newest sibling run directory that started before `dir` (by summary.json run.startedAt). */
export function findPrevious(dir: string): string | null {
  const here = resolve(dir);
  let mine: string;
  try {
    mine = JSON.parse(readFileSync(join(here, 'summary.json'), 'utf8')).run.startedAt;
  } catch {
    return null;
  }
  const parent = dirname(here);
  let best: { dir: string; at: string } | null = null;
  for (const d of readdirSync(parent)) {
    const p = join(parent, d);
    if (p === here || !existsSync(join(p, 'summary.json'))) continue;
    try {
      const at = JSON.parse(readFileSync(join(p, 'summary.json'), 'utf8')).run?.startedAt;
      if (typeof at === 'string' && at < mine && (!best || at > best.at)) best = { dir: p, at };
    } catch {
      /* not a run */
    }
  }
  return best?.dir ?? null;
}

export function loadPrevious(dir: string | null): { facts: Facts | null; dir: string | null; why?: string } {
  if (!dir)
    return { facts: null, dir: null, why: 'no previous run: none given with --previous and no earlier run directory beside this one' };
  try {
    return { facts: new Facts(loadRun(dir)), dir };
  } catch (e) {
    return { facts: null, dir, why: `previous run ${basename(dir)} unreadable: ${(e as Error).message}` };
  }
}

export { sum };
