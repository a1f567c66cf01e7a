// One sample per interval (1 s by default) of everything around the load: CPU and RSS of
// every ɳChat node, the PostgreSQL backends, redis-server and the generator itself; the
// event-loop delay each node exposes on /metrics; network and disk counters; PostgreSQL and
// Redis statistics. Samples go to NDJSON in the run directory as they are taken; what cannot
// be collected for this target is recorded once as "not applicable" with the reason.
import { request } from 'undici';
import {
  readProc,
  pidsByComm,
  childPids,
  machineCpu,
  stealPercent,
  netDev,
  diskStats,
  uptimeSec,
  intervalCpuPercent,
  type NetCounters,
  type DiskCounters,
} from './proc.js';
import { PostgresSampler } from './postgres.js';
import { RedisSampler } from './redis.js';
import { GeneratorSampler } from './generator.js';

export interface CollectorTargets {
  /** Node origins and, when local, their pids. */
  nodes: { origin: string; pid: number | null }[];
  /** Bearer token for the nodes' /metrics (NCHAT_METRICS_TOKEN); without it /metrics answers 404 on a node's main port. */
  metricsToken?: string;
  /** Local machine processes are visible (target on this host). */
  local: boolean;
  databaseUrl?: string;
  redisUrl?: string;
  /** Sample the local postgres / redis-server processes (only when the target uses them). */
  pgProcesses: boolean;
  redisProcesses: boolean;
  iface: string | null;
}

type Writer = (stream: string, row: unknown) => void;

/** Prometheus text → first value of each wanted metric name (labels ignored). */
export function scrapeValues(text: string, names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const sp = line.lastIndexOf(' ');
    const key = line.slice(0, sp).replace(/\{.*\}$/, '');
    if (names.includes(key) && !(key in out)) out[key] = Number(line.slice(sp + 1));
  }
  return out;
}

/**
 * Prometheus text → the value of each series of `name` by the value of its label `label`
 * (e.g. prom-client's nodejs_gc_duration_seconds_sum{kind="major"} → {major: …}); empty when absent.
 */
export function scrapeByLabel(text: string, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  const re = new RegExp(`(?:^|[{,])${label}="([^"]*)"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const sp = line.lastIndexOf(' ');
    const m = re.exec(line.slice(name.length, sp));
    const v = Number(line.slice(sp + 1));
    if (m && Number.isFinite(v)) out[m[1]] = v;
  }
  return out;
}

/** The messages.create store timer's running sum (seconds) and count, when the node exposes them. */
function storeSendTotals(text: string): { storeSendSec?: number; storeSendCount?: number } {
  const sum = scrapeByLabel(text, 'nchat_store_op_duration_seconds_sum', 'op')['messages.create'];
  const count = scrapeByLabel(text, 'nchat_store_op_duration_seconds_count', 'op')['messages.create'];
  return sum === undefined || count === undefined ? {} : { storeSendSec: sum, storeSendCount: count };
}

const NODE_METRICS = [
  'nodejs_eventloop_lag_p50_seconds',
  'nodejs_eventloop_lag_p90_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_eventloop_lag_mean_seconds',
  'nodejs_eventloop_lag_max_seconds',
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'nodejs_active_handles_total',
  'nodejs_heap_size_used_bytes',
  // Connections the server closed for a full send buffer (src/server/main.ts, counter semantics).
  'nchat_ws_slow_consumer_closes',
  // SQLite's search indexer, on the event loop after commits (counter semantics; absent on PostgreSQL).
  'nchat_search_index_seconds_total',
  'nchat_search_indexed_total',
];

export class Collector {
  readonly notApplicable: Record<string, string> = {};
  private timer: NodeJS.Timeout | null = null;
  private prevCpu = new Map<number, { cpuSec: number; startSec: number }>();
  private prevAt = 0;
  /** /proc/uptime at the previous tick: a process started after it is new in this interval. */
  private prevUptime: number | null = null;
  private prevNet: Record<string, NetCounters> = {};
  private prevDisk: Record<string, DiskCounters> = {};
  private prevGen = process.cpuUsage();
  private prevMachine = machineCpu();
  private pg: PostgresSampler | null = null;
  private redis: RedisSampler | null = null;
  private busy = false;
  private readonly gen = new GeneratorSampler();
  /** performance.now() of each node's last successful /metrics scrape. */
  private readonly lastScrape = new Map<number, number>();
  pgInfo: Record<string, unknown> | string = 'not applicable';
  /** Notices about the database server (PostgresSampler.notices), once start() has run. */
  serverNotices(): string[] {
    return this.pg?.notices() ?? [];
  }
  redisInfo: Record<string, unknown> | string = 'not applicable';
  /** In-memory copy for the summary: stream → rows. */
  readonly rows: Record<string, Record<string, unknown>[]> = {};

  constructor(
    readonly targets: CollectorTargets,
    readonly write: Writer,
    readonly intervalMs = 1000,
  ) {}

  async start(): Promise<void> {
    const t = this.targets;
    if (!t.local) {
      this.notApplicable.processes =
        'remote target: its processes are not visible from the generator (only the generator itself is sampled)';
      this.notApplicable.disk = "remote target: disk counters of this host would not be the server's";
    } else if (t.nodes.some((n) => n.pid === null)) {
      this.notApplicable.nodeProcesses = "a node's pid could not be found from its listening port";
    }
    if (t.local && !t.pgProcesses) this.notApplicable.postgresProcesses = 'not applicable: the target does not run on PostgreSQL';
    if (t.local && !t.redisProcesses) this.notApplicable.redisProcesses = 'not applicable: the target does not use Redis';
    if (!t.iface) this.notApplicable.network = 'no interface found for the target';
    if (t.databaseUrl) {
      try {
        this.pg = new PostgresSampler(t.databaseUrl);
        await this.pg.start();
      } catch (e) {
        this.pg = null;
        this.pgInfo = `not collected: ${(e as Error).message}`;
        this.notApplicable.postgres = this.pgInfo;
      }
    } else {
      this.notApplicable.postgres =
        'not applicable: the target runs on the embedded SQLite store (or no --database-url was given to the generator)';
      this.pgInfo = this.notApplicable.postgres;
    }
    if (t.redisUrl) {
      try {
        this.redis = new RedisSampler(t.redisUrl);
        await this.redis.start();
      } catch (e) {
        this.redis = null;
        this.redisInfo = `not collected: ${(e as Error).message}`;
        this.notApplicable.redis = this.redisInfo;
      }
    } else {
      this.notApplicable.redis = 'not applicable: the target fans out in memory (no Redis, or no --redis-url was given to the generator)';
      this.redisInfo = this.notApplicable.redis;
    }
    this.prevNet = netDev();
    this.prevDisk = diskStats();
    this.prime();
    await this.scrapeNodes(Date.now(), false);
    this.prevAt = performance.now();
    this.prevGen = process.cpuUsage();
    this.gen.start();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
  }

  private push(stream: string, row: Record<string, unknown>): void {
    (this.rows[stream] ??= []).push(row);
    this.write(stream, row);
  }

  /**
   * CPU (% of one core) and RSS summed over `pids` for the interval since the previous tick. A
   * process that started during the interval counts in full (see intervalCpuPercent), so a
   * worker forked for a scenario is not missing from its first second; `unattributed` counts
   * processes first seen that existed before the interval (their share cannot be known).
   */
  private cpuOf(pids: number[], dt: number): { cpu: number; rssBytes: number; count: number; unattributed?: number } {
    let cpu = 0;
    let rss = 0;
    let count = 0;
    let unattributed = 0;
    for (const pid of pids) {
      const s = readProc(pid);
      if (!s) continue;
      count++;
      rss += s.rssBytes;
      const c = intervalCpuPercent(this.prevCpu.get(pid), s, this.prevUptime, dt);
      this.prevCpu.set(pid, { cpuSec: s.cpuSec, startSec: s.startSec });
      if (c === null) unattributed++;
      else cpu += c;
    }
    return { cpu: Math.round(cpu * 10) / 10, rssBytes: rss, count, ...(unattributed ? { unattributed } : {}) };
  }

  /** Baseline CPU readings of every process sampled from the start, so the first tick has deltas. */
  private prime(): void {
    const t = this.targets;
    const pids = [...t.nodes.map((n) => n.pid).filter((p): p is number => p !== null), ...childPids(process.pid)];
    if (t.local && t.pgProcesses) pids.push(...(this.pg?.pids.length ? this.pg.pids : pidsByComm(['postgres'])));
    if (t.local && t.redisProcesses) pids.push(...pidsByComm(['redis-server']));
    for (const pid of pids) {
      const s = readProc(pid);
      if (s) this.prevCpu.set(pid, { cpuSec: s.cpuSec, startSec: s.startSec });
    }
    this.prevUptime = uptimeSec();
  }

  async tick(): Promise<void> {
    if (this.busy) return; // a slow database answer must not pile up samples
    this.busy = true;
    try {
      const now = performance.now();
      const dt = (now - this.prevAt) / 1000;
      this.prevAt = now;
      const uptime = uptimeSec();
      const ts = Date.now();
      const t = this.targets;
      // CPU is % of one core (200% = both cores of a 2-core machine).
      // The generator = this process + its worker processes (children that are not spawned nodes).
      const nodePids = new Set(t.nodes.map((n) => n.pid));
      const workers = childPids(process.pid).filter((p) => !nodePids.has(p));
      const gen = process.cpuUsage(this.prevGen);
      this.prevGen = process.cpuUsage();
      const w = this.cpuOf(workers, dt);
      const mainCpu = Math.round(((gen.user + gen.system) / 1e4 / dt) * 10) / 10;
      const mem = this.gen.sample(workers);
      const proc: Record<string, unknown> = {
        ts,
        generator: {
          cpu: Math.round((mainCpu + w.cpu) * 10) / 10,
          mainCpu,
          workersCpu: w.cpu,
          workers: w.count,
          rssBytes: process.memoryUsage().rss + w.rssBytes,
          mainRssBytes: process.memoryUsage().rss,
          ...mem,
        },
      };
      if (t.local) {
        t.nodes.forEach((n, i) => {
          if (n.pid) proc[`node${i}`] = this.cpuOf([n.pid], dt);
        });
        // Our database's backends + background processes when the sampler knows them; else every postgres process.
        if (t.pgProcesses) proc.postgres = this.cpuOf(this.pg?.pids.length ? this.pg.pids : pidsByComm(['postgres']), dt);
        if (t.redisProcesses) proc.redis = this.cpuOf(pidsByComm(['redis-server']), dt);
      }
      // Whole machine (% of one core, all cores summed); the hypervisor's steal apart (CPU this VM
      // wanted and another guest got); what is left is processes outside this run.
      const m = machineCpu();
      if (m && this.prevMachine && m.total > this.prevMachine.total) {
        const cores = Math.max(1, (await import('node:os')).cpus().length);
        const busy = ((m.busy - this.prevMachine.busy) / (m.total - this.prevMachine.total)) * cores * 100;
        const steal = stealPercent(this.prevMachine, m, cores);
        let ours = (proc.generator as { cpu: number }).cpu;
        for (const [k, v] of Object.entries(proc))
          if (k !== 'generator' && k !== 'ts' && v && typeof v === 'object') ours += (v as { cpu: number }).cpu ?? 0;
        const r1 = (x: number) => Math.round(x * 10) / 10;
        proc.machine = { cpu: r1(busy), others: Math.max(0, r1(busy - steal - ours)), steal: r1(steal), cores };
      }
      this.prevMachine = m;
      this.prevUptime = uptime;
      proc.dtMs = Math.round(dt * 1000);
      this.push('process', proc);
      if (t.iface) {
        const net = netDev();
        const a = net[t.iface];
        const b = this.prevNet[t.iface];
        if (a && b)
          this.push('network', {
            ts,
            iface: t.iface,
            rxBytesPerSec: (a.rxBytes - b.rxBytes) / dt,
            txBytesPerSec: (a.txBytes - b.txBytes) / dt,
            rxPacketsPerSec: (a.rxPackets - b.rxPackets) / dt,
            txPacketsPerSec: (a.txPackets - b.txPackets) / dt,
          });
        this.prevNet = net;
      }
      if (t.local) {
        const disk = diskStats();
        let r = 0,
          w = 0,
          rs = 0,
          ws = 0;
        for (const [name, d] of Object.entries(disk)) {
          const p = this.prevDisk[name];
          if (!p) continue;
          r += d.reads - p.reads;
          w += d.writes - p.writes;
          rs += d.readSectors - p.readSectors;
          ws += d.writeSectors - p.writeSectors;
        }
        this.prevDisk = disk;
        this.push('disk', {
          ts,
          devices: Object.keys(disk),
          readIops: r / dt,
          writeIops: w / dt,
          readBytesPerSec: (rs * 512) / dt,
          writeBytesPerSec: (ws * 512) / dt,
        });
      }
      await this.scrapeNodes(ts);
      if (this.pg) {
        try {
          const s = await this.pg.sample();
          if (s) this.push('postgres', { ts, ...s });
        } catch (e) {
          this.push('postgres', { ts, error: (e as Error).message });
        }
      }
      if (this.redis) {
        try {
          const s = await this.redis.sample();
          if (s) this.push('redis', { ts, ...s });
        } catch (e) {
          this.push('redis', { ts, error: (e as Error).message });
        }
      }
    } finally {
      this.busy = false;
    }
  }

  /**
   * Scrapes every node's /metrics. The server's event-loop figures cover the time since its
   * previous scrape (prom-client resets them on each), so each row carries `sinceMs`, the length
   * of the interval it describes; the first scrape (at start) only opens the first interval.
   */
  private async scrapeNodes(ts: number, record = true): Promise<void> {
    await Promise.all(
      this.targets.nodes.map(async (n, i) => {
        const at = performance.now();
        const prev = this.lastScrape.get(i);
        try {
          const res = await request(`${n.origin}/metrics`, {
            headersTimeout: 2000,
            bodyTimeout: 2000,
            headers: this.targets.metricsToken ? { authorization: `Bearer ${this.targets.metricsToken}` } : {},
          });
          const text = await res.body.text();
          if (res.statusCode === 200) {
            this.lastScrape.set(i, at);
            if (record)
              this.push('node_metrics', {
                ts,
                node: i,
                ...(prev !== undefined ? { sinceMs: Math.round(at - prev) } : {}),
                ...scrapeValues(text, NODE_METRICS),
                // GC time since the node started, by kind (prom-client's default gc histogram's _sum, perf_hooks 'gc' entries).
                gcSecondsTotal: scrapeByLabel(text, 'nodejs_gc_duration_seconds_sum', 'kind'),
                // Store time of sends since start (the timer layer's messages.create histogram): with
                // the previous row, the mean store time per send in the interval (loadtest/trends.ts).
                ...storeSendTotals(text),
              });
          } else if (record) this.push('node_metrics', { ts, node: i, error: `HTTP ${res.statusCode}` });
        } catch (e) {
          if (record) this.push('node_metrics', { ts, node: i, error: (e as Error).message });
        }
      }),
    );
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.gen.stop();
    while (this.busy) await new Promise((r) => setTimeout(r, 20));
    if (this.pg) this.pgInfo = await this.pg.finish();
    if (this.redis) this.redisInfo = await this.redis.finish();
  }
}
