// summary.json's derived sections (resources, generator saturation) and summary.md, the
// readable twin. Every figure is computed from the recorded samples; what was not measured
// prints as "not measured" (with the reason where one is known), never as 0.
import type { TimelineRow } from './pool.js';
import { mergeLoopScrapes, type LoopScrape } from './eventloop.js';

export interface SeriesStats {
  avg: number | null;
  max: number | null;
  p95: number | null;
  samples: number;
}

export function stats(values: (number | null | undefined)[]): SeriesStats {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { avg: null, max: null, p95: null, samples: 0 };
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return {
    avg: r(v.reduce((s, x) => s + x, 0) / v.length),
    max: r(v[v.length - 1]),
    p95: r(v[Math.min(v.length - 1, Math.ceil(0.95 * v.length) - 1)]),
    samples: v.length,
  };
}

type Rows = Record<string, Record<string, unknown>[]>;
const get = (row: Record<string, unknown>, path: string): number | null => {
  let cur: unknown = row;
  for (const k of path.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
  return typeof cur === 'number' ? cur : null;
};

/** A stretch of the run: a scenario's setup or its load (epoch ms, from the runner). */
export interface Phase {
  name: string;
  from: number;
  to: number;
}

/**
 * The samples of one phase: a row describes the interval that ends at its `ts`
 * (length dtMs / sinceMs, else the sampling interval), and belongs to the phase that holds
 * the middle of that interval.
 */
export function rowsIn(rows: Rows, phase: Phase, intervalMs = 1000): Rows {
  const out: Rows = {};
  for (const [stream, list] of Object.entries(rows)) {
    out[stream] = list.filter((r) => {
      const ts = get(r, 'ts');
      if (ts === null) return false;
      const mid = ts - (get(r, 'dtMs') ?? get(r, 'sinceMs') ?? intervalMs) / 2;
      return mid >= phase.from && mid < phase.to;
    });
  }
  return out;
}

/** Resource figures per phase (same shape as the whole run's), with each phase's seconds. */
export function resourcesByPhase(rows: Rows, nodeCount: number, phases: Phase[], intervalMs = 1000): Record<string, unknown> {
  return Object.fromEntries(
    phases.map((p) => [
      p.name,
      { seconds: Math.round((p.to - p.from) / 100) / 10, ...resourceSummary(rowsIn(rows, p, intervalMs), nodeCount) },
    ]),
  );
}

/** Resource figures over the whole run (or the rows of one phase) from the collector's samples. */
export function resourceSummary(rows: Rows, nodeCount: number): Record<string, unknown> {
  const proc = rows.process ?? [];
  const col = (path: string, scale = 1) =>
    stats(
      proc.map((r) => {
        const v = get(r, path);
        return v === null ? null : v * scale;
      }),
    );
  const out: Record<string, unknown> = {
    unit: { cpu: '% of one core', memory: 'MB', network: 'Mbit/s', disk: 'IOPS and MB/s' },
    generator: {
      cpu: col('generator.cpu'),
      rssMB: col('generator.rssBytes', 1 / 1048576),
      heapUsedMB: col('generator.heapUsedBytes', 1 / 1048576),
      loopP99Ms: col('generator.loopP99Ms'),
    },
  };
  for (let i = 0; i < nodeCount; i++) out[`node${i}`] = { cpu: col(`node${i}.cpu`), rssMB: col(`node${i}.rssBytes`, 1 / 1048576) };
  out.machine = {
    cpu: col('machine.cpu'),
    othersCpu: col('machine.others'),
    stealCpu: col('machine.steal'),
    note: 'othersCpu = machine CPU not used by the generator, the target or the hypervisor: other processes on this host during the run; stealCpu = CPU this VM wanted while the hypervisor ran other guests (/proc/stat steal)',
  };
  out.postgres = { cpu: col('postgres.cpu'), rssMB: col('postgres.rssBytes', 1 / 1048576), processes: col('postgres.count') };
  out.redis = { cpu: col('redis.cpu'), rssMB: col('redis.rssBytes', 1 / 1048576) };
  const net = rows.network ?? [];
  const nc = (k: string, scale: number) =>
    stats(
      net.map((r) => {
        const v = get(r, k);
        return v === null ? null : v * scale;
      }),
    );
  out.network = {
    iface: net[0]?.iface ?? null,
    inMbps: nc('rxBytesPerSec', 8 / 1e6),
    outMbps: nc('txBytesPerSec', 8 / 1e6),
    packetsPerSec: stats(net.map((r) => (get(r, 'rxPacketsPerSec') ?? 0) + (get(r, 'txPacketsPerSec') ?? 0))),
  };
  const disk = rows.disk ?? [];
  const dc = (k: string, scale = 1) =>
    stats(
      disk.map((r) => {
        const v = get(r, k);
        return v === null ? null : v * scale;
      }),
    );
  out.disk = {
    devices: disk[0]?.devices ?? [],
    readIops: dc('readIops'),
    writeIops: dc('writeIops'),
    readMBps: dc('readBytesPerSec', 1 / 1048576),
    writeMBps: dc('writeBytesPerSec', 1 / 1048576),
  };
  const nm = rows.node_metrics ?? [];
  const loop: Record<string, unknown> = {};
  for (let i = 0; i < nodeCount; i++) {
    const mine = nm.filter((r) => r.node === i);
    // One histogram over the whole window (p99 of the delays, not an average of per-scrape p99s).
    loop[`node${i}`] = {
      delayMs: mergeLoopScrapes(mine.filter((r) => !r.error) as LoopScrape[]),
      scrapeErrors: mine.filter((r) => r.error).length,
    };
  }
  out.eventLoop = loop;
  const gc: Record<string, unknown> = {};
  const slow: Record<string, unknown> = {};
  for (let i = 0; i < nodeCount; i++) {
    const mine = nm.filter((r) => r.node === i && !r.error);
    gc[`node${i}`] = gcOf(mine);
    slow[`node${i}`] = slowConsumersOf(mine);
    const heap = stats(mine.map((r) => get(r, 'nodejs_heap_size_used_bytes')).map((v) => (v === null ? null : v / 1048576)));
    (out[`node${i}`] as Record<string, unknown>).heapUsedMB = heap;
  }
  out.gc = gc;
  out.slowConsumers = slow;
  const pg = rows.postgres ?? [];
  if (pg.length) {
    const pc = (k: string) => stats(pg.map((r) => get(r, k)));
    out.postgresStats = {
      activeConnections: pc('active'),
      idleConnections: pc('idle'),
      totalConnections: pc('total'),
      queriesPerSec: pc('queriesPerSec'),
      transactionsPerSec: pc('xactPerSec'),
      deadlocks: pg.reduce((s, r) => s + (get(r, 'deadlocks') ?? 0), 0),
      lockWaits: pc('lockWaits'),
      cacheHitRatio: pc('cacheHitRatio'),
    };
  }
  const rd = rows.redis ?? [];
  if (rd.length) {
    const rc = (k: string) => stats(rd.map((r) => get(r, k)));
    out.redisStats = {
      commandsPerSec: rc('commandsPerSec'),
      opsPerSec: rc('opsPerSec'),
      hitRate: rc('hitRate'),
      usedMemoryMB: stats(
        rd.map((r) => {
          const v = get(r, 'usedMemoryBytes');
          return v === null ? null : v / 1048576;
        }),
      ),
      connectedClients: rc('connectedClients'),
      pubsubChannels: rc('pubsubChannels'),
      evictedKeys: rd.length ? get(rd[rd.length - 1], 'evictedKeys') : null,
      expiredKeys: rd.length ? get(rd[rd.length - 1], 'expiredKeys') : null,
    };
  }
  return out;
}

/**
 * A node's GC time over the scrapes: the difference of prom-client's cumulative
 * nodejs_gc_duration_seconds_sum by kind between the first and the last scrape, as seconds and as
 * % of that wall time, and the highest share in one scrape interval. A string (not measured, why)
 * when the node's /metrics has no GC series or there are fewer than two scrapes.
 */
export function gcOf(rows: Record<string, unknown>[]): Record<string, unknown> | string {
  const withGc = rows.filter((r) => r.gcSecondsTotal && typeof r.gcSecondsTotal === 'object' && Object.keys(r.gcSecondsTotal).length);
  if (withGc.length < 2)
    return rows.length < 2
      ? 'not measured: fewer than two /metrics scrapes of the node'
      : "not measured: the node's /metrics has no nodejs_gc_duration_seconds (prom-client default metrics off, or an older server)";
  const total = (r: Record<string, unknown>) => Object.values(r.gcSecondsTotal as Record<string, number>).reduce((a, b) => a + b, 0);
  const first = withGc[0];
  const last = withGc[withGc.length - 1];
  const wallSec = ((get(last, 'ts') ?? 0) - (get(first, 'ts') ?? 0)) / 1000;
  const byKind: Record<string, number> = {};
  const a = first.gcSecondsTotal as Record<string, number>;
  const b = last.gcSecondsTotal as Record<string, number>;
  for (const k of Object.keys(b)) byKind[k] = Math.round(((b[k] ?? 0) - (a[k] ?? 0)) * 1e4) / 1e4;
  const seconds = Object.values(byKind).reduce((x, y) => x + y, 0);
  let maxPct = 0;
  for (let i = 1; i < withGc.length; i++) {
    const dt = ((get(withGc[i], 'ts') ?? 0) - (get(withGc[i - 1], 'ts') ?? 0)) / 1000;
    if (dt > 0) maxPct = Math.max(maxPct, ((total(withGc[i]) - total(withGc[i - 1])) / dt) * 100);
  }
  return {
    seconds: Math.round(seconds * 1e4) / 1e4,
    byKind,
    wallSeconds: Math.round(wallSec * 10) / 10,
    pctOfWall: wallSec > 0 ? Math.round((seconds / wallSec) * 1e4) / 100 : null,
    maxIntervalPct: Math.round(maxPct * 100) / 100,
  };
}

/** Connections a node closed for a full send buffer during the scrapes (nchat_ws_slow_consumer_closes, counter semantics). */
export function slowConsumersOf(rows: Record<string, unknown>[]): Record<string, unknown> | string {
  const v = rows.map((r) => get(r, 'nchat_ws_slow_consumer_closes')).filter((x): x is number => x !== null);
  if (v.length < 2)
    return rows.length < 2
      ? 'not measured: fewer than two /metrics scrapes of the node'
      : "not measured: the node's /metrics has no nchat_ws_slow_consumer_closes (an older server)";
  let closes = 0;
  // A restarted node starts from 0 again: count each increase.
  for (let i = 1; i < v.length; i++) closes += v[i] >= v[i - 1] ? v[i] - v[i - 1] : v[i];
  return { closes, atStart: v[0], atEnd: v[v.length - 1] };
}

/**
 * Was the generator the bottleneck? Per worker process: share of seconds at ≥ 90% of a core.
 * Whole process: generator CPU near the cores available. Machine: generator + server near
 * all cores (they share this machine, so the server's figures are then limited by it too).
 */
export function saturation(
  timelines: Record<string, TimelineRow[]>,
  proc: Record<string, unknown>[],
  cores: number,
  nodeCount: number,
): { saturated: boolean; machineSaturated: boolean; warnings: string[]; workers: Record<string, unknown> } {
  const warnings: string[] = [];
  const workers: Record<string, unknown> = {};
  let saturated = false;
  for (const [name, rows] of Object.entries(timelines)) {
    const n = Math.max(0, ...rows.map((r) => r.workers.length));
    const per: unknown[] = [];
    for (let w = 0; w < n; w++) {
      const cpu = rows.map((r) => r.workers[w]?.cpu ?? null);
      const elu = rows.map((r) => r.workers[w]?.elu ?? null);
      const s = stats(cpu);
      const hot = cpu.filter((c) => c !== null && c >= 0.9).length;
      const hotShare = rows.length ? hot / rows.length : 0;
      per.push({ worker: w, cpuCore: s, elu: stats(elu), secondsAt90: hot, seconds: rows.length });
      if (hotShare >= 0.2 || (s.avg ?? 0) >= 0.9) {
        saturated = true;
        warnings.push(
          `GENERATOR SATURATED: scenario ${name}, worker ${w} used ≥ 90% of a core in ${hot} of ${rows.length} s (avg ${Math.round((s.avg ?? 0) * 100)}%): its figures are the generator's limit, not the server's`,
        );
      }
    }
    workers[name] = per;
  }
  const gen = stats(proc.map((r) => get(r, 'generator.cpu')));
  if ((gen.p95 ?? 0) >= cores * 100 * 0.9) {
    saturated = true;
    warnings.push(`GENERATOR SATURATED: the generator process used ${gen.p95}% (p95) of ${cores * 100}% available`);
  }
  const total = proc.map((r) => {
    let s = get(r, 'generator.cpu') ?? 0;
    for (let i = 0; i < nodeCount; i++) s += get(r, `node${i}.cpu`) ?? 0;
    s += (get(r, 'postgres.cpu') ?? 0) + (get(r, 'redis.cpu') ?? 0);
    return s;
  });
  const t = stats(total);
  const machine = stats(proc.map((r) => get(r, 'machine.cpu')));
  const others = stats(proc.map((r) => get(r, 'machine.others')));
  const machineSaturated = (t.p95 ?? 0) >= cores * 100 * 0.9 || (machine.p95 ?? 0) >= cores * 100 * 0.9;
  if (machineSaturated)
    warnings.push(
      `MACHINE CPU SATURATED: the machine was at ${machine.p95 ?? t.p95}% (p95) of ${cores * 100}% (generator + server ${t.p95}%): they share ${cores} cores, so latency includes waiting for CPU`,
    );
  if ((others.avg ?? 0) >= 25)
    warnings.push(
      `OTHER LOAD ON THE HOST: processes outside this run used ${others.avg}% of a core on average (max ${others.max}%): figures include that interference`,
    );
  const steal = stats(proc.map((r) => get(r, 'machine.steal')));
  if ((steal.avg ?? 0) >= 10)
    warnings.push(
      `HYPERVISOR STEAL: other guests ran on this VM's CPUs for ${steal.avg}% of a core on average (max ${steal.max}%; /proc/stat steal): every figure includes that wait`,
    );
  return { saturated, machineSaturated, warnings, workers: { ...workers, process: gen, generatorPlusServer: t, machine, others, steal } };
}
