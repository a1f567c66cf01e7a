// The runner: target (given or spawned) → health → collectors → per scenario: prepare
// (bulk fixtures) → worker processes → summarize → run directory. Ctrl-C (signal) stops the
// scenario in progress, skips the rest and keeps everything measured so far.
import { calibrate, calibrationLine, type Calibration } from './calibrate.js';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadtestConfig } from './config.js';
import { SCENARIOS } from './registry.js';
import type { Plan, ScenarioSummary } from './scenario.js';
import { HttpClient } from './clients/http.js';
import { Setup } from './setup.js';
import { runWorkers, type TimelineRow } from './pool.js';
import { Collector } from './samplers/collector.js';
import { pidListeningOn, defaultInterface } from './samplers/proc.js';
import { spawnCluster, LOADTEST_ENV, type SpawnedCluster } from './spawn.js';
import { RunDir } from './output.js';
import { evaluateThresholds, gauge, type MetricSummary } from './metrics.js';
import { soakSeries, soakTrends, type SoakTrends } from './trends.js';
import { resourceSummary, resourcesByPhase, saturation, type Phase } from './summary.js';
import { markdown } from './markdown.js';
import { summarizeEncoded, reportClockErrors } from './hist.js';
import type { CachedSeed } from '../seed/cache.js';

export interface RunOptions {
  cfg: LoadtestConfig;
  target?: string[];
  spawn?: { store: 'sqlite' | 'postgres'; redis: boolean; nodes: number; postgresUrl: string; redisUrl: string; keep?: boolean };
  outDir: string;
  admin?: { login: string; password: string };
  /** For collectors on a --target run (the generator cannot know the server's backends otherwise). */
  databaseUrl?: string;
  redisUrl?: string;
  argv: string[];
  signal: AbortSignal;
  log: (m: string) => void;
  /** Print the live progress line (stderr). */
  progress: boolean;
}

export interface RunResult {
  exitCode: number;
  dir: string;
  summary: Record<string, unknown>;
}

function isLocal(origin: string): boolean {
  const h = new URL(origin).hostname;
  return (
    h === '127.0.0.1' ||
    h === 'localhost' ||
    h === '::1' ||
    h === '[::1]' ||
    (os.networkInterfaces() &&
      Object.values(os.networkInterfaces())
        .flat()
        .some((i) => i?.address === h))
  );
}

export async function runLoadtest(o: RunOptions): Promise<RunResult> {
  const { cfg, log } = o;
  const started = new Date();
  const tag = started.getTime().toString(36).slice(-6);
  const dir = new RunDir(o.outDir);
  dir.json('config.json', { argv: o.argv, config: cfg, target: o.target ?? null, spawn: o.spawn ?? null, tag });
  const notices: string[] = [];
  let cluster: SpawnedCluster | null = null;
  let seeded: CachedSeed | undefined;
  const summaries: Record<string, ScenarioSummary> = {};
  const timelines: Record<string, TimelineRow[]> = {};
  /** Epoch ms of each scenario's common start (t = 0 of its timeline). */
  const starts: Record<string, number> = {};
  // Wall-clock stretches of each scenario's setup and load, for resources per phase.
  const phases: Phase[] = [];
  const notRun: Record<string, string> = {};
  const runErrors: string[] = [];
  let collector: Collector | null = null;
  let http: HttpClient | null = null;
  try {
    let nodes: string[];
    if (o.spawn) {
      // The search scenario searches a seeded workspace: seeded (or taken from the seed cache)
      // before the nodes start, so they start on it; its owner runs the setup.
      if (cfg.scenarios.includes('search')) {
        const { cachedSeed } = await import('../seed/cache.js');
        log(`search: seeding or reusing a workspace of ${cfg.search.seed.messages.toLocaleString('en-US')} messages`);
        seeded = await cachedSeed(o.spawn.store, cfg.search.seed, { postgresUrl: o.spawn.postgresUrl, log });
      }
      const seedFrom = seeded && { sqliteFile: seeded.sqliteFile, postgresTemplate: seeded.postgresTemplate };
      cluster = await spawnCluster({ ...o.spawn, seedFrom, logDir: dir.path('server-logs'), tag, log });
      nodes = cluster.origins;
      notices.push(...spawnNotices(o.spawn, nodes.length));
    } else {
      nodes = o.target!;
      notices.push(
        "rate limits: the target's configuration is not controlled by the generator; 429 answers are counted as errors and reported apart (api_rate_limited, connect errors by code). Start the target with NCHAT_LOADTEST_ALLOWANCE=1 to lift them for a load test.",
      );
    }
    http = new HttpClient(nodes[0], 16);
    const health = await healthOf(nodes);
    // Before any load: the machine's speed of the day, recorded beside the figures (calibrate.ts).
    // A failed probe is reported, not fatal: the load's own figures do not depend on it.
    const calibration = await calibrate().catch((e: unknown) => {
      notices.push(calibrationLine(undefined, `the probe failed: ${(e as Error).message}`));
      return null;
    });
    if (calibration)
      notices.push(`${calibrationLine(calibration)}${nodes.every(isLocal) ? '' : ' (the generator machine; the target is remote)'}`);
    collector = startCollector(o, dir, nodes, cluster, health, calibration);
    await collector.start();
    notices.push(...collector.serverNotices());

    const setup = new Setup(http, nodes, tag);
    await setup.init(o.admin ?? (seeded ? { login: seeded.result.info.admin, password: seeded.result.info.password } : undefined));
    notices.push(...setup.notes);
    const metricsToken = cluster?.metricsToken ?? process.env.NCHAT_METRICS_TOKEN;
    const ctx = { setup, nodes, tag, dir, phases, metricsToken, seeded };
    const record = (name: string, r: Awaited<ReturnType<typeof loadScenario>>) => {
      timelines[name] = r.timeline;
      if (r.startAtEpoch !== null) starts[name] = r.startAtEpoch;
      runErrors.push(...r.errors);
      notices.push(...r.notices);
      summaries[name] = r.summary;
    };
    if (cfg.parallel) {
      // Every setup first (one after another: they share the setup client), then all loads at once.
      const prepared: Prepared[] = [];
      for (const name of cfg.scenarios) {
        if (o.signal.aborted) notRun[name] = 'not run: interrupted (Ctrl-C)';
        else prepared.push(await prepareScenario(name, o, ctx));
      }
      if (o.signal.aborted) for (const p of prepared) notRun[p.name] = 'not run: interrupted (Ctrl-C) during setup';
      else {
        const results = await Promise.all(prepared.map((p) => loadScenario(p, o, ctx)));
        results.forEach((r, i) => record(prepared[i].name, r));
      }
    } else
      for (const name of cfg.scenarios) {
        if (o.signal.aborted) {
          notRun[name] = 'not run: interrupted (Ctrl-C)';
          continue;
        }
        record(name, await loadScenario(await prepareScenario(name, o, ctx), o, ctx));
      }
  } catch (e) {
    runErrors.push((e as Error).stack ?? String(e));
    log(`run error: ${(e as Error).message}`);
  } finally {
    await http?.close();
    if (collector) await collector.stop().catch((e) => runErrors.push(`collector: ${(e as Error).message}`));
    if (cluster) await cluster.stop().catch((e) => runErrors.push(`stopping spawned nodes: ${(e as Error).message}`));
  }
  const result = summaryOf(o, { started, tag, dir, cluster, collector, notices, summaries, timelines, starts, phases, notRun, runErrors });
  dir.json('summary.json', result);
  dir.text('summary.md', markdown(result as never));
  return { exitCode: (result.run as { status: string }).status === 'PASSED' ? 0 : 1, dir: dir.dir, summary: result };
}

function spawnNotices(spawn: NonNullable<RunOptions['spawn']>, nodeCount: number): string[] {
  const notices = [
    `rate limits: spawned nodes run with NCHAT_LOADTEST_ALLOWANCE=1 (sign-in/sign-up rate limits and per-connection WS frame limits lifted for this run)`,
    `password hashing: NCHAT_ARGON2_MEMORY_KIB=${LOADTEST_ENV.NCHAT_ARGON2_MEMORY_KIB} for fast bulk setup (production default 19456); NCHAT_ACCESS_TOKEN_TTL=${LOADTEST_ENV.NCHAT_ACCESS_TOKEN_TTL}`,
  ];
  if (nodeCount > 1)
    notices.push(
      `${nodeCount} nodes, no load balancer: the generator spreads accounts round-robin over the node URLs, so channel members sit on different nodes and every delivery crosses the Redis broker`,
    );
  if (spawn.redis)
    notices.push(
      'redis: the shared local Redis server, with a pub/sub prefix of this run (nchat-lt-<tag>:); not flushed, so its INFO figures include any other client of that server',
    );
  return notices;
}

/** GET /api/health on every node; throws when one is not healthy. */
async function healthOf(nodes: string[]): Promise<Record<string, unknown>[]> {
  const health: Record<string, unknown>[] = [];
  for (const n of nodes) {
    const hc = new HttpClient(n, 1);
    const h = await hc.request<Record<string, unknown>>('GET', '/api/health');
    await hc.close();
    if (!h.ok) throw new Error(`target ${n} is not healthy: GET /api/health → ${h.status} ${h.error ?? ''}`);
    health.push({ node: n, ...h.body });
  }
  return health;
}

/** Writes environment.json and builds the resource collector for the target's processes and backends. */
function startCollector(
  o: RunOptions,
  dir: RunDir,
  nodes: string[],
  cluster: SpawnedCluster | null,
  health: Record<string, unknown>[],
  calibration: Calibration | null,
): Collector {
  const { cfg } = o;
  const local = nodes.every(isLocal);
  const cpus = os.cpus();
  const pids = cluster ? cluster.pids : nodes.map((n) => (local ? pidListeningOn(Number(new URL(n).port || 80)) : null));
  const environment = {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()}`,
    platform: os.platform(),
    arch: os.arch(),
    node: process.version,
    hostname: os.hostname(),
    loadavgAtStart: os.loadavg(),
    nchat: health,
    generator: {
      workers: cfg.workers,
      pid: process.pid,
      sharedMachine: local ? `generator and server share this machine's ${cpus.length} cores` : 'remote target',
    },
    spawnedEnv: cluster?.env ?? null,
    calibration,
  };
  dir.json('environment.json', environment);
  const store = String(health[0].store ?? '');
  const broker = String(health[0].broker ?? '');
  const databaseUrl = cluster?.databaseUrl ?? o.databaseUrl;
  const redisUrl = cluster?.redisUrl ?? o.redisUrl;
  const collector = new Collector(
    {
      nodes: nodes.map((n, i) => ({ origin: n, pid: pids[i] ?? null })),
      metricsToken: cluster?.metricsToken ?? process.env.NCHAT_METRICS_TOKEN,
      local,
      databaseUrl: store === 'postgres' ? databaseUrl : undefined,
      redisUrl: broker === 'redis' ? redisUrl : undefined,
      pgProcesses: store === 'postgres',
      redisProcesses: broker === 'redis',
      iface: local ? 'lo' : defaultInterface(),
    },
    (stream, row) => dir.ndjson(join('samples', `${stream}.ndjson`), row),
    cfg.sampleIntervalMs,
  );
  if (store === 'postgres' && !databaseUrl)
    collector.notApplicable.postgres = 'not collected: target runs PostgreSQL but no --database-url was given to the generator';
  if (broker === 'redis' && !redisUrl)
    collector.notApplicable.redis = 'not collected: target uses Redis but no --redis-url was given to the generator';
  return collector;
}

interface ScenarioCtx {
  setup: Setup;
  nodes: string[];
  tag: string;
  dir: RunDir;
  phases: Phase[];
  metricsToken?: string;
  seeded?: CachedSeed;
}

interface Prepared {
  name: string;
  plan: Plan;
  setupSec: number;
  setupBreakdown: Record<string, unknown>;
}

/** A scenario's setup (timed, with its breakdown); its setup phase is added to `phases`. */
async function prepareScenario(name: string, o: RunOptions, r: ScenarioCtx): Promise<Prepared> {
  const { cfg, log } = o;
  const { setup, nodes, tag, phases } = r;
  const sc = SCENARIOS[name];
  const t0 = performance.now();
  const setupFrom = Date.now();
  const before = { ...setup.timings };
  const plan = await sc.prepare({ cfg, setup, nodes, tag, log, metricsToken: r.metricsToken, seeded: r.seeded });
  const setupSec = (performance.now() - t0) / 1000;
  const setupBreakdown = {
    accounts: setup.timings.users - before.users,
    accountsSec: Math.round(setup.timings.usersMs - before.usersMs) / 1000,
    channels: setup.timings.channels - before.channels,
    channelCallsSec: Math.round(setup.timings.channelsMs - before.channelsMs) / 1000,
    mode: setup.mode,
  };
  log(`${name}: setup ${setupSec.toFixed(1)} s${cfg.parallel ? '' : '; running'}`);
  phases.push({ name: `${name} setup`, from: setupFrom, to: Date.now() });
  return { name, plan, setupSec, setupBreakdown };
}

/** A prepared scenario's load: workers, summarize; its load phase is added to `phases` as it ends. */
async function loadScenario(p: Prepared, o: RunOptions, r: ScenarioCtx) {
  const { cfg, log } = o;
  const { tag, dir, phases } = r;
  const { name, plan, setupSec, setupBreakdown } = p;
  const sc = SCENARIOS[name];
  if (cfg.parallel) log(`${name}: running`);
  const runFrom = Date.now();
  const res = await runWorkers({
    scenario: sc,
    plan,
    cfg,
    tag,
    signal: o.signal,
    log,
    onSecond: (row) => {
      dir.ndjson(join('timelines', `${name}.ndjson`), row);
      if (!o.progress) return;
      const errs = sc.progress.errors.reduce((s, k) => s + (row.counters[k] ?? 0), 0);
      const lat = row.latency[sc.progress.hist];
      const cpu = row.workers.map((w) => (w?.cpu === null || w?.cpu === undefined ? '?' : `${Math.round(w.cpu * 100)}%`)).join('/');
      process.stderr.write(
        `[${name}] ${String(row.t + 1).padStart(4)}s  ${sc.progress.gauge}=${row.gauges[sc.progress.gauge] ?? 0}  p95(${sc.progress.hist})=${lat?.p95 ?? '-'}ms  errors=${errs}  gen-cpu=${cpu}\n`,
      );
    },
  });
  phases.push({ name, from: runFrom, to: Date.now() });
  dir.histograms(name, res.aggregate.hists);
  const summary = sc.summarize(res.aggregate, plan, cfg);
  summary.info.setupSeconds = Math.round(setupSec * 10) / 10;
  // channelCallsSec sums concurrent calls (8 at a time), so it can exceed the wall time.
  summary.info.setup = setupBreakdown;
  summary.info.histogramCounts = Object.fromEntries(Object.entries(res.aggregate.hists).map(([k, b]) => [k, summarizeEncoded(b).count]));
  summary.info.counters = res.aggregate.counters;
  const notices = reportClockErrors(name, res.aggregate.counters, summary.metrics);
  if (res.aggregate.interrupted) summary.notes.push('interrupted (Ctrl-C): figures cover the time until the stop');
  return { summary, timeline: res.timeline, startAtEpoch: res.startAtEpoch, notices, errors: res.errors.map((e) => `${name}: ${e}`) };
}

/** summary.json: thresholds, generator saturation, resources, status, from everything measured. */
function summaryOf(
  o: RunOptions,
  r: {
    started: Date;
    tag: string;
    dir: RunDir;
    cluster: SpawnedCluster | null;
    collector: Collector | null;
    notices: string[];
    summaries: Record<string, ScenarioSummary>;
    timelines: Record<string, TimelineRow[]>;
    starts: Record<string, number>;
    phases: Phase[];
    notRun: Record<string, string>;
    runErrors: string[];
  },
): Record<string, unknown> {
  const { cfg } = o;
  const { started, tag, dir, cluster, collector, summaries, runErrors } = r;
  const metrics: Record<string, MetricSummary> = {};
  for (const s of Object.values(summaries)) Object.assign(metrics, s.metrics);
  const nodeCount = cluster ? cluster.origins.length : (o.target?.length ?? 1);
  const soak = cfg.profile === 'soak' ? soakOf(cfg, collector?.rows ?? {}, r.timelines, r.starts, nodeCount) : undefined;
  if (soak && typeof soak !== 'string') for (const [k, v] of Object.entries(soak.metrics)) metrics[k] = gauge(v);
  const thresholds = evaluateThresholds(cfg.thresholds, metrics);
  const procRows = collector?.rows.process ?? [];
  const gen = saturation(r.timelines, procRows, os.cpus().length, nodeCount);
  // An open model only holds if sends leave on time: a late generator inflates the server's latency.
  const why = gen.saturated
    ? 'its workers were saturated'
    : gen.machineSaturated
      ? "its workers were not busy but the machine's CPUs were full (waiting to be scheduled)"
      : 'cause unknown';
  for (const [sc, metric, inside] of [
    ['messages', 'msg_schedule_lag', 'msg_e2e and msg_send'],
    ['ws', 'ws_msg_schedule_lag', 'ws_msg_e2e'],
  ] as const) {
    const lag = summaries[sc]?.metrics[metric];
    if (lag && lag.type === 'trend' && (lag.p99 ?? 0) > 20) {
      gen.warnings.push(
        `GENERATOR LATE: in ${sc}, sends left up to ${lag.p99} ms (p99) after their intended time (${why}); that delay is inside ${inside} and is not the server's`,
      );
      gen.saturated = true;
    }
  }
  if (!cluster) (collector?.notApplicable ?? {}).serverLogs = "not collected: --target run (the server's logs are wherever it was started)";
  const failed = thresholds.some((t) => t.verdict === 'fail') || runErrors.length > 0 || Object.keys(summaries).length === 0;
  const status = o.signal.aborted ? 'INTERRUPTED' : failed ? 'FAILED' : 'PASSED';
  const ended = new Date();
  let serverVersion: unknown = null;
  try {
    serverVersion = JSON.parse(readFileSync(dir.path('environment.json'), 'utf8')).nchat;
  } catch {
    /* no environment: the run failed before health */
  }
  return {
    schema: 'nchat-loadtest-summary/1',
    run: {
      id: `${started.toISOString()}-${tag}`,
      tag,
      profile: cfg.profile,
      startedAt: started.toISOString(),
      endedAt: ended.toISOString(),
      durationSec: Math.round((ended.getTime() - started.getTime()) / 100) / 10,
      status,
      interrupted: o.signal.aborted,
      errors: runErrors,
    },
    target: {
      nodes: cluster?.origins ?? o.target,
      spawned: o.spawn ? { store: o.spawn.store, redis: o.spawn.redis, nodes: cluster?.origins.length ?? o.spawn.nodes } : null,
      health: serverVersion,
    },
    notices: [...r.notices, ...gen.warnings],
    scenarios: summaries,
    notRun: r.notRun,
    thresholds,
    generator: gen,
    resources: {
      ...resourceSummary(collector?.rows ?? {}, nodeCount),
      byPhase: resourcesByPhase(collector?.rows ?? {}, nodeCount, r.phases, cfg.sampleIntervalMs),
    },
    phases: r.phases,
    starts: r.starts,
    ...(soak ? { soak } : {}),
    postgres: collector?.pgInfo ?? 'not collected',
    redis: collector?.redisInfo ?? 'not collected',
    notApplicable: collector?.notApplicable ?? {},
  };
}

/**
 * The soak's trends (trends.ts) over the hold after warm-up: from the ws scenario's start (the
 * first scenario's when ws did not run) + soak.rampUp + soak.warmup to the end of the hold, or to
 * the last sample when the run stopped early. A string says why there are none.
 */
function soakOf(
  cfg: LoadtestConfig,
  rows: Record<string, Record<string, unknown>[]>,
  timelines: Record<string, TimelineRow[]>,
  starts: Record<string, number>,
  nodeCount: number,
): SoakTrends | string {
  const start = starts.ws ?? starts[cfg.scenarios.find((n) => starts[n] !== undefined) ?? ''];
  if (start === undefined) return 'not measured: no scenario started';
  const lastTs = Math.max(0, ...(rows.process ?? []).map((x) => Number(x.ts) || 0));
  const w = cfg.soak;
  const window = {
    startEpoch: start,
    fromSec: w.rampUp + w.warmup,
    toSec: Math.min(w.rampUp + w.duration, Math.floor((lastTs - start) / 1000)),
    warmupSec: w.warmup,
    intervalSec: w.intervalSec,
  };
  return soakTrends(soakSeries(rows, timelines, start, nodeCount, starts.api), window);
}
