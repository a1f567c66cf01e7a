// The generator's own memory and event-loop delay, for the soak trends: the main process measures
// itself (process.memoryUsage, monitorEventLoopDelay); each worker process reports its own with
// every tick (worker.ts), and pool.ts leaves the latest report here, where the 1 s collector
// reads it. V8's heap of another process cannot be read from /proc, hence the reports.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface WorkerReport {
  rssBytes: number;
  heapUsedBytes: number;
  loopP99Ms: number | null;
  loopMaxMs: number | null;
}

/** Latest report of each live worker process, by pid (removed when the worker exits). */
const workers = new Map<number, WorkerReport>();

export function reportWorker(pid: number | undefined, r: WorkerReport): void {
  if (pid) workers.set(pid, r);
}

export function forgetWorker(pid: number | undefined): void {
  if (pid) workers.delete(pid);
}

export interface GeneratorMemory {
  /** Main process + every live worker's last report. */
  heapUsedBytes: number;
  mainHeapUsedBytes: number;
  workersHeapUsedBytes: number;
  /** Workers that reported (a worker reports from its first tick on). */
  workersReporting: number;
  /** Highest p99 / max event-loop delay of the main process and the workers over the interval (ms); null when none was measured. */
  loopP99Ms: number | null;
  loopMaxMs: number | null;
}

/** The main process's event-loop monitor: one per collector, read and reset every sample. */
export class GeneratorSampler {
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  start(): void {
    this.loop.enable();
  }

  stop(): void {
    this.loop.disable();
  }

  /** Only workers whose pid is in `live` count (a report of an exited worker is stale). */
  sample(live: number[]): GeneratorMemory {
    const main = process.memoryUsage().heapUsed;
    let wHeap = 0;
    let reporting = 0;
    let p99: number | null = this.loop.count > 0 ? this.loop.percentile(99) / 1e6 : null;
    let max: number | null = this.loop.count > 0 ? this.loop.max / 1e6 : null;
    this.loop.reset();
    for (const pid of live) {
      const r = workers.get(pid);
      if (!r) continue;
      reporting++;
      wHeap += r.heapUsedBytes;
      if (r.loopP99Ms !== null) p99 = Math.max(p99 ?? 0, r.loopP99Ms);
      if (r.loopMaxMs !== null) max = Math.max(max ?? 0, r.loopMaxMs);
    }
    const r2 = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);
    return {
      heapUsedBytes: main + wHeap,
      mainHeapUsedBytes: main,
      workersHeapUsedBytes: wHeap,
      workersReporting: reporting,
      loopP99Ms: r2(p99),
      loopMaxMs: r2(max),
    };
  }
}
