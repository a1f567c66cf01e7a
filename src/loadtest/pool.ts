// Main-process side of the generator workers (child processes, see worker.ts for why not
// threads): starts one worker per payload, releases them
// together once all are ready (common start), merges their per-second ticks into a
// timeline and their totals into an Aggregate. Stop (Ctrl-C) is forwarded; what was
// measured until then is kept.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mergeEncoded, quantilesOf, decodeHist, newHist, encodeHist, type Histogram, type Quantiles } from './hist.js';
import type { Aggregate, Scenario, Plan } from './scenario.js';
import type { LoadtestConfig } from './config.js';
import type { Tick, WorkerInit } from './worker.js';
import { forgetWorker, reportWorker } from './samplers/generator.js';

export interface TimelineRow {
  t: number;
  counters: Record<string, number>;
  gauges: Record<string, number>;
  /** Per-second latency percentiles (ms) of each histogram with samples in that second. */
  latency: Record<string, Quantiles>;
  /** Per-worker process CPU (fraction of one core) and event-loop utilization. */
  workers: { cpu: number | null; elu: number }[];
}

export interface PoolResult {
  /** Epoch ms of the common start (t = 0 of the timeline); null when no worker got ready. */
  startAtEpoch: number | null;
  aggregate: Aggregate;
  timeline: TimelineRow[];
  errors: string[];
}

/** Workers are TypeScript run through tsx, whichever way the CLI itself was started. */
/** NCHAT_LOADTEST_WORKER_NODE_ARGS: extra node flags for the generator's workers (e.g. --cpu-prof to profile the generator). */
function workerExecArgv(): string[] {
  const extra = (process.env.NCHAT_LOADTEST_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return ['--import', import.meta.resolve('tsx'), ...extra];
}

export async function runWorkers(opts: {
  scenario: Scenario;
  plan: Plan;
  cfg: LoadtestConfig;
  tag: string;
  signal: AbortSignal;
  onSecond?: (row: TimelineRow) => void;
  log: (m: string) => void;
}): Promise<PoolResult> {
  const { scenario, plan, cfg, tag, signal } = opts;
  const rows = new Map<
    number,
    {
      counters: Record<string, number>;
      gauges: Map<number, Record<string, number>>;
      hists: Map<string, Histogram>;
      workers: { cpu: number | null; elu: number }[];
      seen: number;
    }
  >();
  const done: {
    counters: Record<string, number>;
    gauges: Record<string, number>;
    hists: Record<string, string>;
    seconds: number;
    extra: unknown;
    error?: string;
  }[] = [];
  const workers: ChildProcess[] = [];
  const n = plan.payloads.length;
  let ready = 0;
  let startedAt: number | null = null;
  let lastEmitted = -1;
  // A second's row holds one merged histogram per latency name (~70 KB each) until every worker
  // has ticked past it; then it is summarized into `finished` and its histograms are dropped.
  // Keeping them all to the end (as before) grew the generator by ~10 MB a minute in a soak
  // (heap snapshots: Int32Histogram buffers, one per name per second).
  const finished = new Map<number, TimelineRow>();
  /** Last second each worker ticked (-1 before its first tick); an exited worker ticks no more. */
  const lastSec: number[] = plan.payloads.map(() => -1);
  const exited = new Set<number>();
  const rowOf = (s: number): TimelineRow | null => finished.get(s) ?? (rows.has(s) ? toRow(s) : null);
  const finalize = () => {
    let bound = Number.POSITIVE_INFINITY;
    lastSec.forEach((sec, i) => {
      if (!exited.has(i)) bound = Math.min(bound, sec);
    });
    for (const s of [...rows.keys()]) {
      if (s > bound) continue;
      finished.set(s, toRow(s));
      rows.delete(s);
    }
  };
  const emitUpTo = (sec: number) => {
    for (let s = lastEmitted + 1; s <= sec; s++) {
      const row = rowOf(s);
      if (row) opts.onSecond?.(row);
      lastEmitted = s;
    }
  };
  const toRow = (s: number): TimelineRow => {
    const r = rows.get(s)!;
    const gauges: Record<string, number> = {};
    for (const g of r.gauges.values()) for (const [k, v] of Object.entries(g)) gauges[k] = (gauges[k] ?? 0) + v;
    const latency: TimelineRow['latency'] = {};
    for (const [k, h] of r.hists) latency[k] = quantilesOf(h);
    return { t: s, counters: r.counters, gauges, latency, workers: r.workers };
  };

  await new Promise<void>((resolve) => {
    let finished = 0;
    const send = (w: ChildProcess, m: unknown) => {
      if (w.connected) w.send(m as never);
    };
    const onStop = () => {
      for (const w of workers) send(w, { type: 'stop' });
    };
    signal.addEventListener('abort', onStop, { once: true });
    // A worker that dies before its barrier must not hold the others back.
    const readySet = new Set<number>();
    const markReady = (i: number) => {
      if (readySet.has(i)) return;
      readySet.add(i);
      if (++ready === n) {
        const startAtEpoch = Date.now() + 100;
        startedAt = startAtEpoch;
        for (const x of workers) send(x, { type: 'go', startAtEpoch });
        // Stopped before the start (Ctrl-C during setup): the abort event has already fired, so
        // the workers are released and stopped at once instead of running their full load.
        if (signal.aborted) onStop();
      }
    };
    plan.payloads.forEach((payload, i) => {
      const init: WorkerInit = { scenario: scenario.name, payload, cfg, workerIndex: i, tag };
      const w = fork(fileURLToPath(new URL('./worker.ts', import.meta.url)), [], {
        execArgv: workerExecArgv(),
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      workers.push(w);

      w.on(
        'message',
        (m: Tick | { type: 'ready' } | { type: 'hello' } | { type: 'log'; msg: string } | ((typeof done)[number] & { type: 'done' })) => {
          if (m.type === 'hello') {
            send(w, { type: 'init', init });
          } else if (m.type === 'ready') {
            markReady(i);
          } else if (m.type === 'log') {
            opts.log(`[${scenario.name}#${i}] ${m.msg}`);
          } else if (m.type === 'tick') {
            let r = rows.get(m.sec);
            if (!r) rows.set(m.sec, (r = { counters: {}, gauges: new Map(), hists: new Map(), workers: [], seen: 0 }));
            for (const [k, v] of Object.entries(m.counters)) r.counters[k] = (r.counters[k] ?? 0) + v;
            r.gauges.set(i, m.gauges);
            for (const [k, b] of Object.entries(m.hists)) {
              let h = r.hists.get(k);
              if (!h) r.hists.set(k, (h = newHist()));
              h.add(decodeHist(b));
            }
            r.workers[i] = { cpu: m.cpu, elu: m.elu };
            r.seen++;
            if (m.mem)
              reportWorker(w.pid, {
                rssBytes: m.mem.rssBytes,
                heapUsedBytes: m.mem.heapUsedBytes,
                loopP99Ms: m.loop?.p99Ms ?? null,
                loopMaxMs: m.loop?.maxMs ?? null,
              });
            lastSec[i] = Math.max(lastSec[i], m.sec);
            if (r.seen >= n) emitUpTo(m.sec);
            finalize();
          } else if (m.type === 'done') {
            done.push(m);
          }
        },
      );
      let gotDone = false;
      w.on('message', (m: { type: string }) => {
        if (m.type === 'done') gotDone = true;
      });
      w.on('error', (e) => {
        done.push({ counters: {}, gauges: {}, hists: {}, seconds: 0, extra: undefined, error: e.stack ?? String(e) });
      });
      w.on('exit', (code, sig) => {
        forgetWorker(w.pid);
        exited.add(i);
        if (!gotDone)
          done.push({
            counters: {},
            gauges: {},
            hists: {},
            seconds: 0,
            extra: undefined,
            error: `worker ${i} exited (${code ?? sig}) without its results`,
          });
        markReady(i);
        if (++finished === n) {
          signal.removeEventListener('abort', onStop);
          resolve();
        }
      });
    });
  });
  emitUpTo(Math.max(-1, ...rows.keys(), ...finished.keys()));

  const counters: Record<string, number> = {};
  const gauges: Record<string, number> = {};
  const histLists = new Map<string, string[]>();
  for (const d of done) {
    for (const [k, v] of Object.entries(d.counters)) counters[k] = (counters[k] ?? 0) + v;
    for (const [k, v] of Object.entries(d.gauges)) gauges[k] = (gauges[k] ?? 0) + v;
    for (const [k, b] of Object.entries(d.hists)) {
      const l = histLists.get(k) ?? [];
      l.push(b);
      histLists.set(k, l);
    }
  }
  const hists: Record<string, string> = {};
  for (const [k, l] of histLists) hists[k] = encodeHist(mergeEncoded(l));
  const timeline = [...new Set([...rows.keys(), ...finished.keys()])].sort((a, b) => a - b).map((s) => rowOf(s)!);
  const gaugeMax: Record<string, number> = {};
  for (const row of timeline) for (const [k, v] of Object.entries(row.gauges)) gaugeMax[k] = Math.max(gaugeMax[k] ?? 0, v);
  return {
    startAtEpoch: startedAt,
    aggregate: {
      counters,
      gauges,
      gaugeMax,
      hists,
      seconds: Math.max(0, ...done.map((d) => d.seconds)),
      extras: done.map((d) => d.extra),
      interrupted: signal.aborted,
    },
    timeline,
    errors: done.filter((d) => d.error).map((d) => d.error!),
  };
}
