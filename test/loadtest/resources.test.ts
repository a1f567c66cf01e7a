// What the samplers compute, with known inputs: CPU % from /proc tick counts (a new process's
// first interval counted, not dropped), event-loop delay merged into one histogram (not an
// average of per-scrape percentiles), and rows split into scenario phases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { parseStat, intervalCpuPercent, CLK_TCK } from '../../src/loadtest/samplers/proc.js';
import { Collector } from '../../src/loadtest/samplers/collector.js';
import { mergeLoopScrapes } from '../../src/loadtest/eventloop.js';
import { rowsIn, resourcesByPhase } from '../../src/loadtest/summary.js';

// A real /proc/<pid>/stat line (comm with a space and a parenthesis, as the kernel allows).
const stat = (utime: number, stime: number, start: number) =>
  `4242 (node (worker) 1) S 4000 4242 4000 0 -1 4194304 1234 0 0 0 ${utime} ${stime} 0 0 20 0 11 0 ${start} 1100000000 30000 18446744073709551615 1 1 0 0 0 0 0 4096 134234626 0 0 0 17 1 0 0 0 0 0`;

test('parseStat: comm, ppid, utime+stime and start time in ticks', () => {
  const s = parseStat(stat(250, 50, 123456))!;
  assert.equal(s.comm, 'node (worker) 1');
  assert.equal(s.ppid, 4000);
  assert.equal(s.cpuTicks, 300);
  assert.equal(s.startTicks, 123456);
  assert.equal(parseStat('garbage'), null);
});

test('CPU %: known tick deltas over a known interval', () => {
  const sec = (ticks: number) => ticks / CLK_TCK;
  const start = sec(100_000);
  // 150 ticks (1.5 s of CPU) in 2 s = 75% of one core.
  assert.equal(intervalCpuPercent({ cpuSec: sec(1000), startSec: start }, { cpuSec: sec(1150), startSec: start }, 2000, 2), 75);
  // Two cores' worth: 400 ticks in 2 s = 200%.
  assert.equal(intervalCpuPercent({ cpuSec: sec(0), startSec: start }, { cpuSec: sec(400), startSec: start }, 2000, 2), 200);
  // First seen, started after the previous tick (uptime 1000 s, started at 1000.4 s): its 30 ticks all fall in this 1 s interval.
  assert.equal(intervalCpuPercent(undefined, { cpuSec: sec(30), startSec: 1000.4 }, 1000, 1), 30);
  // First seen but older than the interval: its share cannot be known → null, never a guess.
  assert.equal(intervalCpuPercent(undefined, { cpuSec: sec(30), startSec: 900 }, 1000, 1), null);
  // A reused pid (different start time) that started inside the interval counts from its start.
  assert.equal(intervalCpuPercent({ cpuSec: sec(5000), startSec: 10 }, { cpuSec: sec(20), startSec: 1000.5 }, 1000, 1), 20);
  assert.equal(intervalCpuPercent({ cpuSec: 1, startSec: 1 }, { cpuSec: 2, startSec: 1 }, 1000, 0), null, 'no interval, no figure');
});

test('collector: a child process that appears mid-interval is counted in its first sample', async () => {
  const c = new Collector({ nodes: [], local: true, pgProcesses: false, redisProcesses: false, iface: null }, () => undefined, 1_000_000);
  await c.start();
  try {
    // A child that burns ≥ 300 ms of its own CPU, says so, then idles until killed.
    const child = spawn(
      process.execPath,
      [
        '-e',
        "const t=()=>{const u=process.cpuUsage();return (u.user+u.system)/1000};while(t()<300){}console.log('done');setInterval(()=>{},1000)",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) =>
      child.stdout!.on('data', (d) => {
        if (String(d).includes('done')) resolve();
      }),
    );
    await c.tick();
    child.kill();
    const row = c.rows.process.at(-1) as { generator: { workersCpu: number; workers: number }; dtMs: number };
    assert.ok(row.generator.workers >= 1, 'the child is seen');
    const min = (300 / row.dtMs) * 100 * 0.95; // ≥ 300 ms of CPU in dtMs (ticks are 10 ms)
    assert.ok(
      row.generator.workersCpu >= min,
      `child CPU ${row.generator.workersCpu}% ≥ ${min.toFixed(1)}% (was 0: dropped at first sight)`,
    );
  } finally {
    await c.stop();
  }
});

const quiet = {
  sinceMs: 1000,
  nodejs_eventloop_lag_mean_seconds: 0.01,
  nodejs_eventloop_lag_p50_seconds: 0.01,
  nodejs_eventloop_lag_p90_seconds: 0.011,
  nodejs_eventloop_lag_p99_seconds: 0.012,
  nodejs_eventloop_lag_max_seconds: 0.014,
};

test('event-loop delay: scrapes merged into one histogram weighted by their delay counts; max exact', () => {
  const bad = { ...quiet, nodejs_eventloop_lag_p99_seconds: 0.08, nodejs_eventloop_lag_max_seconds: 0.3 };
  const m = mergeLoopScrapes([...Array.from({ length: 99 }, () => quiet), bad]);
  assert.equal(m.scrapes, 100);
  assert.equal(m.count, 10_000, '100 delays per 1 s scrape at a 10 ms mean');
  // Ascending: 5000 @10, 4000 @11, 891 @12, 99 @14, 9 @80, 1 @300 → the 9,900th is 14 ms.
  assert.ok(Math.abs(m.p99! - 14) < 0.05, `p99 ${m.p99}`);
  assert.ok(Math.abs(m.p50! - 10) < 0.05, `p50 ${m.p50}`);
  assert.equal(m.max, 300);
  // A blocked loop samples rarely (mean 500 ms → 2 delays in 1 s): it weighs 2, not 100.
  const blocked = {
    sinceMs: 1000,
    nodejs_eventloop_lag_mean_seconds: 0.5,
    nodejs_eventloop_lag_p50_seconds: 0.5,
    nodejs_eventloop_lag_p90_seconds: 0.9,
    nodejs_eventloop_lag_p99_seconds: 0.9,
    nodejs_eventloop_lag_max_seconds: 0.9,
  };
  const w = mergeLoopScrapes([quiet, blocked]);
  assert.ok(w.count >= 102 && w.count <= 103, `count ${w.count}`);
  assert.equal(w.max, 900);
  const none = mergeLoopScrapes([{ sinceMs: 1000 }]);
  assert.equal(none.scrapes, 0);
  assert.equal(none.p99, null, 'nothing scraped is not measured, not 0');
});

test('phases: a row belongs to the phase holding the middle of its interval; figures per phase', () => {
  const proc = [1000, 2000, 3000, 4000, 5000].map((ts, i) => ({
    ts,
    dtMs: 1000,
    node0: { cpu: [10, 20, 90, 95, 30][i], rssBytes: 100 * 1048576 },
    generator: { cpu: 5, rssBytes: 0 },
  }));
  const nm = [
    { ts: 2000, node: 0, ...quiet },
    { ts: 4000, node: 0, ...quiet, nodejs_eventloop_lag_max_seconds: 0.05 },
  ];
  const rows = { process: proc, node_metrics: nm };
  const phases = [
    { name: 'ws setup', from: 0, to: 2000 },
    { name: 'ws', from: 2000, to: 4200 },
  ];
  assert.deepEqual(
    rowsIn(rows, phases[1]).process.map((r) => r.ts),
    [3000, 4000],
    'midpoints 2500 and 3500; 4500 is after the phase',
  );
  const by = resourcesByPhase(rows, 1, phases) as Record<string, any>;
  assert.equal(by['ws setup'].node0.cpu.avg, 15);
  assert.equal(by.ws.node0.cpu.avg, 92.5);
  assert.equal(by.ws.seconds, 2.2);
  assert.equal(by.ws.eventLoop.node0.delayMs.max, 50);
  assert.equal(by['ws setup'].eventLoop.node0.delayMs.max, 14);
});
