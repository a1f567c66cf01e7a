// What a load-test scenario is: the three parts every scenario module implements, and the
// contexts they get. Types only; registry.ts lists the scenarios, scenarios/*.ts implement them.
//   prepare()   main process: creates its accounts/channels in bulk and splits them into one payload per worker
//   run()       inside a worker process: drives the load, records into ctx (counters, gauges, histograms)
//   summarize() main process: turns the merged worker totals into summary.json metrics and tables
import type { LoadtestConfig } from './config.js';
import type { MetricSummary } from './metrics.js';
import type { Setup } from './setup.js';
import type { HistSet } from './hist.js';
import type { CachedSeed } from '../seed/cache.js';

export interface PrepareContext {
  cfg: LoadtestConfig;
  setup: Setup;
  /** Origins of every ɳChat node; clients are spread across them round-robin (no load balancer in between). */
  nodes: string[];
  tag: string;
  log: (msg: string) => void;
  /** Bearer token for the nodes' /metrics (spawned run, or NCHAT_METRICS_TOKEN); for scenarios that read server-side figures. Never written to the run directory. */
  metricsToken?: string;
  /** The seeded workspace the spawned nodes started on (search scenario), when the runner seeded one. */
  seeded?: CachedSeed;
}

export interface Plan {
  /** One payload per worker (structured-cloneable). */
  payloads: unknown[];
  /** Printed in summary.md and summary.json: sizes, fan-out, what was not measured and why. */
  notes: string[];
  info: Record<string, unknown>;
}

export interface WorkerContext {
  payload: unknown;
  cfg: LoadtestConfig;
  workerIndex: number;
  tag: string;
  signal: AbortSignal;
  hists: HistSet;
  count(name: string, n?: number): void;
  gauge(name: string, v: number): void;
  /** Tells the main process this worker is ready and waits for the common start; returns its time as performance.now(). */
  barrier(): Promise<number>;
  log(msg: string): void;
}

/** What the main process has after a scenario: sums over workers. */
export interface Aggregate {
  counters: Record<string, number>;
  /** Last value of each gauge, summed over workers, and its maximum over the timeline. */
  gauges: Record<string, number>;
  gaugeMax: Record<string, number>;
  /** Merged encoded histograms (base64) by name. */
  hists: Record<string, string>;
  /** Seconds from the common start to the last worker's end. */
  seconds: number;
  extras: unknown[];
  interrupted: boolean;
}

export interface ScenarioSummary {
  name: string;
  title: string;
  metrics: Record<string, MetricSummary>;
  /** Extra tables (e.g. per-endpoint rows) for the report. */
  tables: Record<string, Record<string, unknown>[]>;
  notes: string[];
  info: Record<string, unknown>;
}

export interface Scenario {
  name: string;
  title: string;
  /** Progress line: which gauge is "VUs or rate", which histogram gives the current p95, which counters are errors. */
  progress: { gauge: string; hist: string; errors: string[] };
  prepare(ctx: PrepareContext): Promise<Plan>;
  run(ctx: WorkerContext): Promise<unknown>;
  summarize(agg: Aggregate, plan: Plan, cfg: LoadtestConfig): ScenarioSummary;
}
