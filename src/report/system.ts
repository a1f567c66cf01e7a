// System Performance Analysis: CPU, memory, network, disk per component, PostgreSQL, Redis and
// search, from summary.json `resources` (1 s samples summarized by the load test) and the
// collectors' end-of-run figures. Components the run did not have say so, with the reason.
import type { Facts } from './facts.js';
import type { Targets } from './targets.js';
import { meets } from './targets.js';

export interface SeriesStats {
  avg: number | null;
  max: number | null;
  p95: number | null;
  samples: number;
}
export type Level = 'ok' | 'warning' | 'critical' | 'not measured';

export interface ComponentRow {
  component: string;
  cpu: SeriesStats | null;
  /** CPU figures are % of one core; this is how many cores the component can use (for the status). */
  cores: number;
  cpuLevel: Level;
  memAvgGB: number | null;
  memMaxGB: number | null;
  memPct: number | null;
  memLevel: Level;
  why?: string;
}

const has = (s: SeriesStats | null | undefined): s is SeriesStats => Boolean(s && s.samples > 0 && s.avg !== null);

export function levelOf(pctOfLimit: number | null, warn: number, crit: number): Level {
  if (pctOfLimit === null) return 'not measured';
  return pctOfLimit >= crit ? 'critical' : pctOfLimit >= warn ? 'warning' : 'ok';
}

export function levelMark(l: Level): string {
  return l === 'ok' ? '✅' : l === 'warning' ? '⚠️' : l === 'critical' ? '❌' : 'not measured';
}

/** Node processes (one per ɳChat node), PostgreSQL, Redis, search; with the machine's size. */
export function components(f: Facts, t: Targets): ComponentRow[] {
  const res = f.s.resources ?? {};
  const env = f.run.environment ?? {};
  const cores = Number(env.cores) || 1;
  const memBytes = Number(env.memoryBytes) || null;
  const warnC = t.byKey.cpu_warning.value;
  const critC = t.byKey.cpu_critical.value;
  const warnM = t.byKey.memory_warning.value;
  const critM = t.byKey.memory_critical.value;
  const row = (component: string, cpu: SeriesStats | null, rss: SeriesStats | null, usable: number, why?: string): ComponentRow => {
    const c = has(cpu) ? cpu : null;
    const r = has(rss) ? rss : null;
    const memPct = r && memBytes ? ((r.max ?? 0) * 1048576 * 100) / memBytes : null;
    return {
      component,
      cpu: c,
      cores: usable,
      cpuLevel: levelOf(c?.p95 !== undefined && c?.p95 !== null ? c.p95 / usable : null, warnC, critC),
      memAvgGB: r?.avg !== undefined && r?.avg !== null ? r.avg / 1024 : null,
      memMaxGB: r?.max !== undefined && r?.max !== null ? r.max / 1024 : null,
      memPct,
      memLevel: levelOf(memPct, warnM, critM),
      why: c || r ? undefined : why,
    };
  };
  const out: ComponentRow[] = [];
  const nodes = Object.keys(res).filter((k) => /^node\d+$/.test(k));
  // A Node.js process runs its JavaScript on one thread: one core is its CPU limit.
  for (const n of nodes) out.push(row(`Application (${n})`, res[n]?.cpu, res[n]?.rssMB, 1, 'not measured: no process samples'));
  if (!nodes.length) out.push(row('Application', null, null, 1, 'not measured: no process samples (remote target?)'));
  const store = String(f.s.target?.health?.[0]?.store ?? f.s.target?.spawned?.store ?? '');
  out.push(
    row(
      'Database (PostgreSQL)',
      res.postgres?.cpu,
      res.postgres?.rssMB,
      cores,
      store === 'sqlite'
        ? 'not applicable: the target runs on the embedded SQLite store, inside the application process (its CPU and memory are in the application row)'
        : (f.s.notApplicable?.postgresProcesses ?? 'not measured: no PostgreSQL process samples'),
    ),
  );
  out.push(
    row(
      'Cache (Redis)',
      res.redis?.cpu,
      res.redis?.rssMB,
      1,
      f.s.notApplicable?.redisProcesses ?? 'not measured: no Redis process samples (shared server not attributable, or not used)',
    ),
  );
  out.push(
    row(
      'Search',
      null,
      null,
      1,
      `not applicable: search runs inside the database (${store === 'postgres' ? 'PostgreSQL full-text search' : 'SQLite FTS5'}): no separate search process (MeiliSearch is not part of ɳChat)`,
    ),
  );
  out.push(row('Load generator', res.generator?.cpu, res.generator?.rssMB, cores, 'not measured'));
  return out;
}

/** The machine's CPU (all cores) and the CPU of processes that were not part of the run. */
export function machineCpu(f: Facts): { machine: SeriesStats | null; others: SeriesStats | null; cores: number } {
  const m = f.s.resources?.machine ?? {};
  return {
    machine: has(m.cpu) ? m.cpu : null,
    others: has(m.othersCpu) ? m.othersCpu : null,
    cores: Number(f.run.environment?.cores) || 1,
  };
}

export interface StatRow {
  label: string;
  s: SeriesStats | null;
  why?: string;
}

export function networkRows(f: Facts): StatRow[] {
  const n = f.s.resources?.network ?? {};
  const why = 'not measured: no network samples';
  return [
    { label: 'Inbound (Mbps)', s: has(n.inMbps) ? n.inMbps : null, why },
    { label: 'Outbound (Mbps)', s: has(n.outMbps) ? n.outMbps : null, why },
    { label: 'Packets/sec', s: has(n.packetsPerSec) ? n.packetsPerSec : null, why },
  ];
}

export function diskRows(f: Facts): StatRow[] {
  const d = f.s.resources?.disk ?? {};
  const why = 'not measured: no disk samples';
  return [
    { label: 'Read IOPS', s: has(d.readIops) ? d.readIops : null, why },
    { label: 'Write IOPS', s: has(d.writeIops) ? d.writeIops : null, why },
    { label: 'Read MB/s', s: has(d.readMBps) ? d.readMBps : null, why },
    { label: 'Write MB/s', s: has(d.writeMBps) ? d.writeMBps : null, why },
    {
      label: 'Disk Usage %',
      s: null,
      why: 'not measured: the collector samples I/O rates, not filesystem fill (df); the run directory is on the same disk',
    },
  ];
}

export interface PgRow {
  label: string;
  s: SeriesStats | null;
  why?: string;
  level?: Level;
  single?: number | null;
}

/** The template's PostgreSQL table; null with the reason when the run had no PostgreSQL. */
export function postgresRows(f: Facts): {
  rows: PgRow[] | null;
  why?: string;
  pool: Level;
  slow: unknown[];
  statementsWhy?: string;
  top: unknown[];
} {
  const p = f.s.resources?.postgresStats;
  const info = f.s.postgres;
  if (!p)
    return {
      rows: null,
      why: typeof info === 'string' ? info : 'not measured: no PostgreSQL samples',
      pool: 'not measured',
      slow: [],
      top: [],
    };
  const active = p.activeConnections as SeriesStats;
  const lockMax = p.lockWaits?.max ?? null;
  const hit = p.cacheHitRatio?.avg ?? null;
  const rows: PgRow[] = [
    { label: 'Active Connections', s: active, level: levelOf(active?.max ?? null, 80, 95) },
    { label: 'Idle Connections', s: p.idleConnections },
    {
      label: 'Query Rate (q/s)',
      s: p.queriesPerSec?.samples ? p.queriesPerSec : null,
      why:
        typeof info === 'object' && typeof info?.statements === 'string'
          ? `not measured: ${info.statements.replace(/^not collected: /, '')}`
          : undefined,
    },
    { label: 'Transactions/sec', s: p.transactionsPerSec },
    {
      label: 'Deadlocks',
      s: null,
      single: typeof p.deadlocks === 'number' ? p.deadlocks : null,
      level: typeof p.deadlocks === 'number' ? (p.deadlocks === 0 ? 'ok' : p.deadlocks < 5 ? 'warning' : 'critical') : 'not measured',
    },
    {
      label: 'Lock Waits',
      s: p.lockWaits,
      level: lockMax === null ? 'not measured' : lockMax === 0 ? 'ok' : lockMax < 5 ? 'warning' : 'critical',
    },
    {
      label: 'Cache Hit Ratio',
      s: null,
      single: hit === null ? null : hit * 100,
      level: hit === null ? 'not measured' : hit >= 0.99 ? 'ok' : hit >= 0.95 ? 'warning' : 'critical',
    },
  ];
  const st = typeof info === 'object' ? info.statements : undefined;
  return {
    rows,
    pool: rows[0].level ?? 'not measured',
    slow: Array.isArray(st?.slow) ? st.slow : [],
    top: Array.isArray(st?.top) ? st.top : [],
    statementsWhy: typeof st === 'string' ? st : undefined,
  };
}

export function redisRows(f: Facts): { rows: { label: string; value: string; level?: Level }[] | null; why?: string } {
  const r = f.s.resources?.redisStats;
  const info = f.s.redis;
  if (!r) return { rows: null, why: typeof info === 'string' ? info : 'not measured: no Redis samples' };
  const run = typeof info === 'object' ? (info.run ?? {}) : {};
  const hitRate = typeof run.hitRate === 'number' ? run.hitRate : null;
  const v = (x: unknown, unit = '') => (typeof x === 'number' ? `${Math.round(x * 100) / 100}${unit}` : 'not measured');
  const memGB = r.usedMemoryMB?.max !== null && r.usedMemoryMB?.max !== undefined ? r.usedMemoryMB.max / 1024 : null;
  return {
    rows: [
      {
        label: 'Hit Rate',
        value:
          hitRate === null
            ? 'not applicable: ɳChat uses Redis for pub/sub fan-out and counters, not as a read cache (no key reads in the run)'
            : v(hitRate * 100, '%'),
        level: hitRate === null ? undefined : hitRate >= 0.9 ? 'ok' : hitRate >= 0.7 ? 'warning' : 'critical',
      },
      { label: 'Miss Rate', value: hitRate === null ? 'not applicable (as above)' : v((1 - hitRate) * 100, '%') },
      { label: 'Commands/sec', value: v(r.commandsPerSec?.avg) },
      { label: 'Memory Usage', value: memGB === null ? 'not measured' : `${memGB.toFixed(3)} GB (max)` },
      { label: 'Evicted Keys', value: v(run.evictedKeys ?? r.evictedKeys) },
      { label: 'Expired Keys', value: v(run.expiredKeys ?? r.expiredKeys) },
      { label: 'Connected Clients', value: v(r.connectedClients?.max) },
      { label: 'Pub/sub channels', value: v(r.pubsubChannels?.max) },
    ],
  };
}

export { meets };

export interface GcRow {
  node: string;
  /** GC seconds and % of wall time over the run, by kind; null with the reason when not measured. */
  seconds: number | null;
  pct: number | null;
  maxIntervalPct: number | null;
  byKind: Record<string, number>;
  level: Level;
  why?: string;
}

/** GC time per node (summary.json resources.gc, from prom-client's nodejs_gc_duration_seconds on /metrics). */
export function gcRows(f: Facts, t: Targets): GcRow[] {
  const gc = (f.s.resources?.gc ?? {}) as Record<string, unknown>;
  const nodes = Object.keys(f.s.resources ?? {}).filter((k) => /^node\d+$/.test(k));
  if (!nodes.length)
    return [
      {
        node: 'Application',
        seconds: null,
        pct: null,
        maxIntervalPct: null,
        byKind: {},
        level: 'not measured',
        why: 'not measured: no /metrics samples of any node',
      },
    ];
  const limit = t.byKey.gc_time;
  return nodes.map((n) => {
    const g = gc[n];
    if (!g || typeof g !== 'object')
      return {
        node: n,
        seconds: null,
        pct: null,
        maxIntervalPct: null,
        byKind: {},
        level: 'not measured',
        why: typeof g === 'string' ? g : 'not measured: the run has no GC figures (a load test older than the GC sampling)',
      };
    const x = g as { seconds: number; pctOfWall: number | null; maxIntervalPct: number; byKind: Record<string, number> };
    return {
      node: n,
      seconds: x.seconds,
      pct: x.pctOfWall,
      maxIntervalPct: x.maxIntervalPct,
      byKind: x.byKind ?? {},
      level: x.pctOfWall === null ? 'not measured' : meets(limit, x.pctOfWall) ? 'ok' : 'warning',
    };
  });
}

export interface SlowConsumerRow {
  node: string;
  closes: number | null;
  level: Level;
  why?: string;
}

/** Connections each node closed for a full send buffer during the run (resources.slowConsumers). */
export function slowConsumerRows(f: Facts, t: Targets): SlowConsumerRow[] {
  const sc = (f.s.resources?.slowConsumers ?? {}) as Record<string, unknown>;
  const nodes = Object.keys(f.s.resources ?? {}).filter((k) => /^node\d+$/.test(k));
  if (!nodes.length)
    return [{ node: 'Application', closes: null, level: 'not measured', why: 'not measured: no /metrics samples of any node' }];
  return nodes.map((n) => {
    const x = sc[n];
    if (!x || typeof x !== 'object')
      return {
        node: n,
        closes: null,
        level: 'not measured',
        why: typeof x === 'string' ? x : 'not measured: the run has no slow-consumer figures (a load test older than that sampling)',
      };
    const closes = (x as { closes: number }).closes;
    return { node: n, closes, level: meets(t.byKey.slow_consumer_closes, closes) ? 'ok' : 'warning' };
  });
}
