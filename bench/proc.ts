// Process sampling from /proc (Linux) for the benches: CPU seconds (user+system) and resident
// memory of a pid, read with the load test's parser (src/loadtest/samplers/proc.ts).
import { readProc } from '../src/loadtest/samplers/proc.js';

export interface ProcSample {
  /** performance.now() when read. */
  at: number;
  cpuSec: number;
  rssBytes: number;
}

/** undefined when /proc is not available (not Linux) or the process is gone. */
export function sampleProc(pid: number): ProcSample | undefined {
  const s = readProc(pid);
  return s ? { at: performance.now(), cpuSec: s.cpuSec, rssBytes: s.rssBytes } : undefined;
}

/** CPU use between two samples as a percentage of one core. */
export function cpuPercent(a: ProcSample | undefined, b: ProcSample | undefined): number {
  if (!a || !b || b.at <= a.at) return NaN;
  return (100 * (b.cpuSec - a.cpuSec)) / ((b.at - a.at) / 1000);
}

/** The sum over several processes (the nodes of one target); undefined when any is unreadable. */
export function sampleProcs(pids: number[]): ProcSample | undefined {
  let cpuSec = 0;
  let rssBytes = 0;
  for (const pid of pids) {
    const s = sampleProc(pid);
    if (!s) return undefined;
    cpuSec += s.cpuSec;
    rssBytes += s.rssBytes;
  }
  return { at: performance.now(), cpuSec, rssBytes };
}
