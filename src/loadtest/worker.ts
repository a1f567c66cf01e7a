// Worker-thread entry: runs one scenario's share of the load and streams a tick every
// second (counter deltas, gauges, interval histograms, this thread's CPU and event-loop
// utilization) so the main thread can build per-second timelines and spot a saturated generator.
import { parentPort, workerData } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { HistSet } from './hist.js';
import { SCENARIOS, type WorkerContext } from './registry.js';
import type { LoadtestConfig } from './config.js';

export interface WorkerInit { scenario: string; payload: unknown; cfg: LoadtestConfig; workerIndex: number; tag: string }
export interface Tick {
  type: 'tick';
  /** Whole seconds since the common start. */
  sec: number;
  counters: Record<string, number>;
  gauges: Record<string, number>;
  hists: Record<string, string>;
  /** This thread's CPU over the tick as a fraction of one core (from /proc/thread-self/stat), null if unreadable. */
  cpu: number | null;
  elu: number;
}

const CLK_TCK = 100;
/** utime+stime of the calling thread in seconds; readFileSync runs on this thread, so thread-self is this worker. */
function threadCpuSec(): number | null {
  try {
    const s = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const port = parentPort!;
  const init = workerData as WorkerInit;
  const scenario = SCENARIOS[init.scenario];
  const ac = new AbortController();
  const hists = new HistSet();
  const counters = new Map<string, number>();
  const delta = new Map<string, number>();
  const gauges = new Map<string, number>();
  let startPerf = -1;
  let goResolve: (t: number) => void = () => undefined;
  const go = new Promise<number>((r) => (goResolve = r));

  port.on('message', (m: { type: string; startAtEpoch?: number }) => {
    if (m.type === 'stop') ac.abort();
    if (m.type === 'go') {
      // The common start is given in epoch ms; convert to this thread's performance clock.
      const startAt = m.startAtEpoch! - performance.timeOrigin;
      const wait = Math.max(0, startAt - performance.now());
      setTimeout(() => goResolve(startAt), wait);
    }
  });

  let lastCpu = threadCpuSec();
  let lastElu = performance.eventLoopUtilization();
  let lastTickAt = performance.now();
  const tick = (sec: number) => {
    const now = performance.now();
    const cpuNow = threadCpuSec();
    const cpu = cpuNow !== null && lastCpu !== null ? (cpuNow - lastCpu) / ((now - lastTickAt) / 1000) : null;
    const elu = performance.eventLoopUtilization(lastElu);
    lastCpu = cpuNow;
    lastElu = performance.eventLoopUtilization();
    lastTickAt = now;
    const t: Tick = { type: 'tick', sec, counters: Object.fromEntries(delta), gauges: Object.fromEntries(gauges), hists: hists.take(), cpu, elu: elu.utilization };
    delta.clear();
    port.postMessage(t);
  };
  let timer: NodeJS.Timeout | undefined;
  let sec = 0;
  const schedule = () => {
    const due = startPerf + (sec + 1) * 1000;
    timer = setTimeout(() => { tick(sec); sec++; schedule(); }, Math.max(0, due - performance.now()));
  };

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
    gauge(name, v) { gauges.set(name, v); },
    async barrier() {
      port.postMessage({ type: 'ready' });
      startPerf = await go;
      schedule();
      return startPerf;
    },
    log(msg) { port.postMessage({ type: 'log', msg }); },
  };
  let extra: unknown;
  let error: string | undefined;
  try {
    extra = await scenario.run(ctx);
  } catch (e) {
    error = (e as Error).stack ?? String(e);
  }
  if (timer) clearTimeout(timer);
  if (startPerf >= 0) tick(Math.max(0, Math.floor((performance.now() - startPerf) / 1000)));
  port.postMessage({
    type: 'done',
    counters: Object.fromEntries(counters),
    gauges: Object.fromEntries(gauges),
    hists: hists.totals(),
    seconds: startPerf >= 0 ? (performance.now() - startPerf) / 1000 : 0,
    extra,
    error,
  });
}

void main();
