// Generator worker entry (a child process forked by pool.ts): runs one scenario's share of the
// load and streams a tick every second (counter deltas, gauges, interval histograms, this
// process's CPU and event-loop utilization) so the main process can build per-second
// timelines and spot a saturated generator.
// Why processes, not worker_threads: on Node 20, tsx's loader cannot be registered reliably in
// worker threads (with --import tsx in the parent the worker's hooks registration fails), while a
// forked process with `--import tsx` works in every way the CLI is started. A process per worker
// also gives an exact per-worker CPU figure.
import { setMaxListeners } from 'node:events';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { HistSet, CLOCK_ERROR_PREFIX } from './hist.js';
import { SCENARIOS } from './registry.js';
import type { WorkerContext } from './scenario.js';
import type { LoadtestConfig } from './config.js';

export interface WorkerInit {
  scenario: string;
  payload: unknown;
  cfg: LoadtestConfig;
  workerIndex: number;
  tag: string;
}
export interface Tick {
  type: 'tick';
  /** Whole seconds since the common start. */
  sec: number;
  counters: Record<string, number>;
  gauges: Record<string, number>;
  hists: Record<string, string>;
  /** This worker's CPU over the tick as a fraction of one core. */
  cpu: number | null;
  elu: number;
  /** This worker's memory at the tick (bytes) and its event-loop delay over the tick (ms, 10 ms resolution), for the soak trends. */
  mem?: { rssBytes: number; heapUsedBytes: number };
  loop?: { p99Ms: number | null; maxMs: number | null };
}

const cpuSec = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

interface Port {
  postMessage(m: unknown): void;
  on(fn: (m: { type: string; startAtEpoch?: number }) => void): void;
}

/** One Tick a second from the common start: counter deltas, gauges, histograms taken since the last, CPU and event-loop utilization. */
class SecondTicker {
  private lastCpu = cpuSec();
  private lastElu = performance.eventLoopUtilization();
  private lastTickAt = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private sec = 0;
  /** Event-loop delay of this worker, reset every tick (the same 10 ms resolution as the server's monitor). */
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });

  constructor(
    private readonly port: Port,
    private readonly hists: HistSet,
    /** Counter increments since the last tick (cleared by each tick). */
    private readonly delta: Map<string, number>,
    private readonly gauges: Map<string, number>,
  ) {}

  start(startPerf: number): void {
    this.loop.enable();
    const schedule = () => {
      const due = startPerf + (this.sec + 1) * 1000;
      this.timer = setTimeout(
        () => {
          this.tick(this.sec);
          this.sec++;
          schedule();
        },
        Math.max(0, due - performance.now()),
      );
    };
    schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.loop.disable();
  }

  tick(sec: number): void {
    const now = performance.now();
    const cpuNow = cpuSec();
    const cpu = (cpuNow - this.lastCpu) / ((now - this.lastTickAt) / 1000);
    const elu = performance.eventLoopUtilization(this.lastElu);
    this.lastCpu = cpuNow;
    this.lastElu = performance.eventLoopUtilization();
    this.lastTickAt = now;
    const m = process.memoryUsage();
    const loop = this.loop.count > 0 ? { p99Ms: this.loop.percentile(99) / 1e6, maxMs: this.loop.max / 1e6 } : { p99Ms: null, maxMs: null };
    this.loop.reset();
    const t: Tick = {
      type: 'tick',
      sec,
      counters: Object.fromEntries(this.delta),
      gauges: Object.fromEntries(this.gauges),
      hists: this.hists.take(),
      cpu,
      elu: elu.utilization,
      mem: { rssBytes: m.rss, heapUsedBytes: m.heapUsed },
      loop,
    };
    this.delta.clear();
    this.port.postMessage(t);
  }
}

async function main(): Promise<void> {
  const port: Port = {
    postMessage: (m) => {
      process.send?.(m);
    },
    on: (fn) => {
      process.on('message', fn as never);
    },
  };
  // Ctrl-C reaches the whole process group: the parent forwards a stop message instead.
  process.on('SIGINT', () => undefined);
  process.on('disconnect', () => process.exit(0));
  // Ask for the payload only once listening, so it cannot arrive before there is a listener.
  const initP = new Promise<WorkerInit>((resolve) => process.once('message', (m: { type: string; init: WorkerInit }) => resolve(m.init)));
  process.send?.({ type: 'hello' });
  const init = await initP;
  const scenario = SCENARIOS[init.scenario];
  const ac = new AbortController();
  // Every request in flight (undici) listens on this signal until it completes: one listener per
  // concurrent upload or API call is expected, not a leak (the default limit of 10 warned on
  // every files run with 50 uploads per worker).
  setMaxListeners(0, ac.signal);
  // A negative or non-finite duration is not recorded: it is counted as clock_errors:<histogram> (hist.ts).
  const hists = new HistSet((name) => ctx.count(`${CLOCK_ERROR_PREFIX}${name}`));
  const counters = new Map<string, number>();
  const delta = new Map<string, number>();
  const gauges = new Map<string, number>();
  let startPerf = -1;
  let goResolve: (t: number) => void = () => undefined;
  const go = new Promise<number>((r) => (goResolve = r));

  port.on((m) => {
    if (m.type === 'stop') ac.abort();
    if (m.type === 'go') {
      // The common start is given in epoch ms; convert to this thread's performance clock.
      const startAt = m.startAtEpoch! - performance.timeOrigin;
      const wait = Math.max(0, startAt - performance.now());
      setTimeout(() => goResolve(startAt), wait);
    }
  });

  const ticker = new SecondTicker(port, hists, delta, gauges);

  const ctx: WorkerContext = {
    payload: init.payload,
    cfg: init.cfg,
    workerIndex: init.workerIndex,
    tag: init.tag,
    signal: ac.signal,
    hists,
    count(name, n = 1) {
      counters.set(name, (counters.get(name) ?? 0) + n);
      delta.set(name, (delta.get(name) ?? 0) + n);
    },
    gauge(name, v) {
      gauges.set(name, v);
    },
    async barrier() {
      port.postMessage({ type: 'ready' });
      startPerf = await go;
      ticker.start(startPerf);
      return startPerf;
    },
    log(msg) {
      port.postMessage({ type: 'log', msg });
    },
  };
  let extra: unknown;
  let error: string | undefined;
  try {
    extra = await scenario.run(ctx);
  } catch (e) {
    error = (e as Error).stack ?? String(e);
  }
  ticker.stop();
  if (startPerf >= 0) ticker.tick(Math.max(0, Math.floor((performance.now() - startPerf) / 1000)));
  port.postMessage({
    type: 'done',
    counters: Object.fromEntries(counters),
    gauges: Object.fromEntries(gauges),
    hists: hists.totals(),
    seconds: startPerf >= 0 ? (performance.now() - startPerf) / 1000 : 0,
    extra,
    error,
  });
  // Let the IPC channel flush the final message, then leave.
  setTimeout(() => process.disconnect?.(), 50);
}

void main();
