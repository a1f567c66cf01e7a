// Readers of Linux /proc: per-process CPU and RSS, processes by name or by listening port,
// network interface counters and block-device counters. Each returns null/empty when the
// file is unreadable (another OS, a process that just exited) instead of throwing.
import { readFileSync, readdirSync, readlinkSync, existsSync } from 'node:fs';

export const CLK_TCK = 100;

export interface ProcSample {
  pid: number;
  comm: string;
  cpuSec: number;
  rssBytes: number /** Start time, seconds after boot. */;
  startSec: number;
}

/** /proc/<pid>/stat → comm, ppid, utime + stime and start time (both in clock ticks). null when malformed. */
export function parseStat(stat: string): { comm: string; ppid: number; cpuTicks: number; startTicks: number } | null {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  // Fields after the comm, 0-based: state(0) ppid(1) … utime(11) stime(12) … starttime(19).
  const f = stat.slice(close + 2).split(' ');
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  const start = Number(f[19]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || !Number.isFinite(start)) return null;
  return { comm: stat.slice(open + 1, close), ppid: Number(f[1]), cpuTicks: utime + stime, startTicks: start };
}

export function readProc(pid: number): ProcSample | null {
  try {
    const st = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    if (!st) return null;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return { pid, comm: st.comm, cpuSec: st.cpuTicks / CLK_TCK, rssBytes: m ? Number(m[1]) * 1024 : 0, startSec: st.startTicks / CLK_TCK };
  } catch {
    return null;
  }
}

/** Seconds since boot (/proc/uptime), the clock of ProcSample.startSec; null off Linux. */
export function uptimeSec(): number | null {
  try {
    return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

/**
 * CPU of one process over a sampling interval, in % of one core. `prev` is its previous sample
 * (undefined when first seen). A process first seen that started inside this interval (its
 * start time is after the previous tick) spent all of its CPU time in it, so that counts in full
 * instead of being lost; one first seen that is older (it existed unseen) cannot be attributed:
 * null. A pid whose start time changed is a new process under a reused pid.
 */
export function intervalCpuPercent(
  prev: { cpuSec: number; startSec: number } | undefined,
  cur: { cpuSec: number; startSec: number },
  prevTickUptimeSec: number | null,
  dtSec: number,
): number | null {
  if (!(dtSec > 0)) return null;
  if (prev && prev.startSec === cur.startSec) return (100 * Math.max(0, cur.cpuSec - prev.cpuSec)) / dtSec;
  // Start times have clock-tick resolution: allow one tick of slack.
  if (prevTickUptimeSec !== null && cur.startSec >= prevTickUptimeSec - 1 / CLK_TCK) return (100 * cur.cpuSec) / dtSec;
  return null;
}

export function allPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  } catch {
    return [];
  }
}

/** Pids whose comm (the kernel's 15-char process name) is one of `names`. */
export function pidsByComm(names: string[]): number[] {
  const out: number[] = [];
  for (const pid of allPids()) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      if (names.includes(comm)) out.push(pid);
    } catch {
      /* exited */
    }
  }
  return out;
}

/** The pid listening on a local TCP port (IPv4 or IPv6), via the socket inode; null if not found or not visible. */
export function pidListeningOn(port: number): number | null {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const localPort = parseInt(f[1].split(':')[1], 16);
      if (localPort === port && f[3] === '0A') inodes.add(f[9]);
    }
  }
  if (inodes.size === 0) return null;
  for (const pid of allPids()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const l = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const m = /^socket:\[(\d+)\]$/.exec(l);
        if (m && inodes.has(m[1])) return pid;
      } catch {
        /* closed meanwhile */
      }
    }
  }
  return null;
}

export interface NetCounters {
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
}

export function netDev(): Record<string, NetCounters> {
  const out: Record<string, NetCounters> = {};
  try {
    for (const line of readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2)) {
      const [name, rest] = line.split(':');
      if (!rest) continue;
      const f = rest.trim().split(/\s+/).map(Number);
      out[name.trim()] = { rxBytes: f[0], rxPackets: f[1], txBytes: f[8], txPackets: f[9] };
    }
  } catch {
    /* not Linux */
  }
  return out;
}

/** The interface of the default route (for a remote target); loopback targets use "lo". */
export function defaultInterface(): string | null {
  try {
    for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1] === '00000000') return f[0];
    }
  } catch {
    /* not Linux */
  }
  return null;
}

export interface DiskCounters {
  reads: number;
  readSectors: number;
  writes: number;
  writeSectors: number;
}

/** Whole block devices (those under /sys/block), without loop and ram devices. Sectors are 512 bytes. */
export function diskStats(): Record<string, DiskCounters> {
  const out: Record<string, DiskCounters> = {};
  try {
    for (const line of readFileSync('/proc/diskstats', 'utf8').split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f.length < 14) continue;
      const name = f[2];
      if (/^(loop|ram|zram)/.test(name) || !existsSync(`/sys/block/${name}`)) continue;
      out[name] = { reads: Number(f[3]), readSectors: Number(f[5]), writes: Number(f[7]), writeSectors: Number(f[9]) };
    }
  } catch {
    /* not Linux */
  }
  return out;
}

/** Pids of the direct children of `ppid` (the generator's worker processes and any spawned nodes). */
export function childPids(ppid: number): number[] {
  const out: number[] = [];
  for (const pid of allPids()) {
    try {
      if (parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.ppid === ppid) out.push(pid);
    } catch {
      /* exited */
    }
  }
  return out;
}

/**
 * The aggregate `cpu` line of /proc/stat in jiffies over all cores: total, busy (total − idle −
 * iowait) and steal (the 8th field: time the hypervisor ran something else while this guest
 * wanted the CPU; part of busy, and no process of this machine's).
 */
export function parseProcStatCpu(line: string): { busy: number; total: number; steal: number } {
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] ?? 0);
  const total = f.slice(0, 8).reduce((a, b) => a + (b || 0), 0);
  return { busy: total - idle, total, steal: f[7] || 0 };
}

/** Steal between two machineCpu() readings, % of one core summed over `cores` (NaN without both or no time between). */
export function stealPercent(
  a: { total: number; steal: number } | null | undefined,
  b: { total: number; steal: number } | null | undefined,
  cores: number,
): number {
  if (!a || !b || b.total <= a.total) return Number.NaN;
  return (Math.max(0, b.steal - a.steal) / (b.total - a.total)) * cores * 100;
}

/** Machine-wide CPU time from /proc/stat (parseProcStatCpu; null off Linux). */
export function machineCpu(): { busy: number; total: number; steal: number } | null {
  try {
    return parseProcStatCpu(readFileSync('/proc/stat', 'utf8').split('\n')[0]);
  } catch {
    return null;
  }
}
