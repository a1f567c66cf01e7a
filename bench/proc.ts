// Process sampling from /proc (Linux): CPU seconds (user+system) and resident memory of a pid.
import { readFileSync } from 'node:fs';

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux x86-64/arm64

export interface ProcSample {
  at: number;
  cpuSec: number;
  rssBytes: number;
}

/** undefined when /proc is not available (not Linux) or the process is gone. */
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" that closes the command name: state is field 3; utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    return { at: performance.now(), cpuSec: (utime + stime) / CLK_TCK, rssBytes: rss ? Number(rss[1]) * 1024 : NaN };
  } catch {
    return undefined;
  }
}

/** CPU use between two samples as a percentage of one core. */
export function cpuPercent(a: ProcSample | undefined, b: ProcSample | undefined): number {
  if (!a || !b || b.at <= a.at) return NaN;
  return (100 * (b.cpuSec - a.cpuSec)) / ((b.at - a.at) / 1000);
}
