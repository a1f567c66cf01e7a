// npm run bench:fanout [-- --users 10000 --channel-size 10 --rate 1000[,2000,...] --duration 10
//                         --connect-concurrency 200 --database-url postgres://… --redis-url redis://…
//                         --skip-baseline --sequential --p95-bound 50]
// Saturation search: npm run bench:fanout -- --sweep [--sweep-start 500 --sweep-factor 2
//   --sweep-max 20000 --sweep-resolution 0.1 --sweep-min-step 50] [--backend postgres --redis --nodes 2]
//   steps the rate up by --sweep-factor until one fails, then bisects between the last rate that
//   held and the first that failed (saturation.ts, nextSweepRate) until they are within
//   --sweep-resolution of each other; every step is a full run (p95/p99, delivered/expected,
//   server and generator CPU, generator-bound label). Targets are swept one after the other.
// Backends: --backend sqlite (default; temp dir) or postgres (a throw-away database
//   nchat_rt_<run> on NCHAT_TEST_PG_URL or postgres://postgres@127.0.0.1:5432/test, dropped at
//   the end, unless --database-url names one); --redis (redis://127.0.0.1:6379, or --redis-url)
//   with its own key/channel prefix per run; --nodes N (PostgreSQL + Redis only) spawns N servers
//   and puts client i on node i mod N, so a channel's members sit on different nodes and every
//   delivery crosses Redis; server CPU and RSS are the sum over the nodes.
//
// Server and generator in separate processes. The ɳChat server (`nchat serve`, SQLite in a temp
// dir unless --database-url) is spawned with the load-test allowance (NCHAT_LOADTEST_ALLOWANCE=1:
// frame limits lifted) and cheap argon2 (NCHAT_ARGON2_MEMORY_KIB=1024) so setting up 10,000
// accounts takes seconds; the output says so. Then the same load runs against a bare `ws`
// broadcast server (bench/bare-ws-server.ts: no persistence, no auth) as the baseline, both up
// at once and measured interleaved per rate (ɳChat at r, bare at r, next rate; --sequential for
// all of ɳChat first). Per target and rate: every outcome (sent/skipped; acked/refused/
// unanswered; deliveries expected/received/lost; sockets closed unexpectedly), end-to-end
// latency from each message's intended send time with the generator's schedule lag beside it,
// server CPU and RSS (from /proc), memory per idle connection, generator CPU. Then what can be
// compared: server CPU per delivery at equal load, and each server's own saturation point
// (highest rate with e2e p95 under --p95-bound and nothing lost), labelled generator-bound
// when the generator used ≥ 90% of a core there.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Load, type Histogram, type RunResult, type Target } from './fanout-load.js';
import pg from 'pg';
import { cpuPercent, sampleProcs, type ProcSample } from './proc.js';
import { ensureServerBuild } from '../src/loadtest/spawn.js';
import { machineCpu, stealPercent } from '../src/loadtest/samplers/proc.js';
import { calibrate, calibrationLine, type Calibration } from '../src/loadtest/calibrate.js';
import { bracket, holdsAt, nextSweepRate, SERVER_BUSY_PCT, saturation, whyNotAt, type SweepOptions } from './saturation.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (!a.startsWith('--')) continue;
  const next = process.argv[i + 1];
  if (next === undefined || next.startsWith('--')) args.set(a.slice(2), 'true');
  else {
    args.set(a.slice(2), next);
    i++;
  }
}
const USERS = Number(args.get('users') ?? 10_000);
const SIZE = Number(args.get('channel-size') ?? 10);
const RATES = (args.get('rate') ?? '1000').split(',').map(Number);
const DURATION = Number(args.get('duration') ?? 10);
const CONC = Number(args.get('connect-concurrency') ?? 200);
const RUN_ID = Date.now().toString(36);
const BACKEND = args.get('backend') ?? (args.has('database-url') ? 'postgres' : 'sqlite');
if (BACKEND !== 'sqlite' && BACKEND !== 'postgres') throw new Error(`--backend must be sqlite or postgres, not ${BACKEND}`);
/** A throw-away database this run creates (and drops) when --backend postgres has no --database-url. */
const OWN_DB = BACKEND === 'postgres' && !args.has('database-url') ? `nchat_rt_${RUN_ID}` : undefined;
const PG_ADMIN = process.env.NCHAT_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
const DB = args.get('database-url') ?? (OWN_DB ? withDatabase(PG_ADMIN, OWN_DB) : undefined);
const REDIS = withPrefix(args.get('redis-url') ?? (args.has('redis') ? 'redis://127.0.0.1:6379' : undefined));
const NODES = Number(args.get('nodes') ?? 1);
if (!(NODES >= 1) || (NODES > 1 && (!DB || !REDIS))) throw new Error('--nodes N > 1 needs --backend postgres and --redis');
const SWEEP = args.has('sweep');
const SWEEP_OPTS: SweepOptions = {
  start: Number(args.get('sweep-start') ?? 500),
  factor: Number(args.get('sweep-factor') ?? 2),
  max: Number(args.get('sweep-max') ?? 20_000),
  resolution: Number(args.get('sweep-resolution') ?? 0.1),
  minStep: Number(args.get('sweep-min-step') ?? 50),
};
const SKIP_BASELINE = args.has('skip-baseline');

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** The run's own Redis prefix (channels and keys), unless the URL names one: the shared Redis may serve others. */
function withPrefix(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const u = new URL(url);
  if (!u.searchParams.has('prefix')) u.searchParams.set('prefix', `nchat_rt_${RUN_ID}:`);
  return u.toString();
}

async function adminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_ADMIN, connectionTimeoutMillis: 15_000 });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end().catch(() => {});
  }
}
// Run every rate on ɳChat first, then on the baseline (the pre-interleaving order).
/**
 * Interleaving keeps both targets' clients open in this one process: 2 × users sockets plus a
 * margin must fit under its open-files limit (20,000 on the development machine, and not
 * raisable there). Past it, connects fail with EMFILE and /proc reads too (CPU shows n/a), so the
 * run falls back to the sequential order and says why.
 */
const FD_LIMIT = openFilesLimit();
const FD_FORCES_SEQUENTIAL =
  !args.has('sequential') &&
  !args.has('skip-baseline') &&
  FD_LIMIT !== undefined &&
  2 * Number(args.get('users') ?? 10_000) + 1000 > FD_LIMIT;
// A sweep runs each target's search to its end before the next target's.
const SEQUENTIAL = args.has('sequential') || FD_FORCES_SEQUENTIAL || SWEEP;

function openFilesLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
// Saturation: the highest rate with e2e p95 under this bound (ms) and nothing lost.
const P95_BOUND = Number(args.get('p95-bound') ?? 50);
// A run where the generator used at least this much of one core is labelled generator-bound.
const GEN_BOUND_PCT = 90;
const CHANNELS = Math.ceil(USERS / SIZE);
const root = new URL('..', import.meta.url).pathname;

const channelOf = (i: number) => Math.floor(i / SIZE);
const membersOf = (() => {
  const cache: number[][] = [];
  return (c: number) => (cache[c] ??= Array.from({ length: Math.min(SIZE, USERS - c * SIZE) }, (_, k) => c * SIZE + k));
})();

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

/**
 * Spawns a server; resolves with its URL once it prints `listening on <url>`. `script` is a
 * compiled file run as it is (ɳChat: dist/cli.js, as `npm start` and `nchat loadtest --spawn`
 * run it) or a .ts file run under tsx (the bare ws baseline).
 */
async function spawnServer(script: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  // NCHAT_BENCH_SERVER_NODE_ARGS: extra node flags for the servers (e.g. --cpu-prof for profiling).
  const extra = (process.env.NCHAT_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const loader = script[0].endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...extra, ...loader, ...script], {
    cwd: root,
    // MALLOC_ARENA_MAX as `npm start` sets it (docs/OPERATIONS.md, "Memory").
    env: { MALLOC_ARENA_MAX: '2', ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  // NCHAT_BENCH_SERVER_LOG=<file>: keep the server's log (stderr) for a look afterwards.
  const logTo = process.env.NCHAT_BENCH_SERVER_LOG ? createWriteStream(process.env.NCHAT_BENCH_SERVER_LOG, { flags: 'a' }) : undefined;
  child.stderr!.on('data', (d) => {
    err = (err + d.toString()).slice(-4000);
    logTo?.write(d);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${err}`)));
  });
  child.stdout!.resume();
  return { child, url };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

async function http(url: string, method: string, path: string, body?: unknown, token?: string): Promise<any> {
  const res = await fetch(url + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

async function pool<T>(n: number, conc: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

/** Accounts and channels through the public API: owner signup, bulk users, channels + members. */
async function setupNchat(url: string): Promise<{ tokens: string[]; channelIds: string[] }> {
  const run = Date.now().toString(36);
  const owner = await http(url, 'POST', '/api/auth/signup', {
    username: `owner${run}`,
    email: `owner${run}@bench.test`,
    password: 'bench-password',
  });
  const batches = Math.ceil(USERS / 1000);
  const t0 = performance.now();
  const created = await pool(batches, 2, (b) =>
    http(
      url,
      'POST',
      '/api/admin/users/bulk',
      {
        users: Array.from({ length: Math.min(1000, USERS - b * 1000) }, (_, k) => {
          const i = b * 1000 + k;
          return { username: `f${run}u${i}`, email: `f${run}u${i}@bench.test`, password: 'bench-password' };
        }),
      },
      owner.accessToken,
    ),
  );
  const sessions = created.flatMap((r) => r.users);
  log(`${sessions.length} accounts in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const t1 = performance.now();
  const channelIds = await pool(CHANNELS, 16, async (c) => {
    const ch = await http(url, 'POST', '/api/channels', { name: `f${run}c${c}`, type: 'public' }, owner.accessToken);
    await http(url, 'POST', `/api/channels/${ch.id}/members`, { userIds: membersOf(c).map((i) => sessions[i].user.id) }, owner.accessToken);
    return ch.id as string;
  });
  log(`${CHANNELS} channels of ${SIZE} in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  return { tokens: sessions.map((s: any) => s.accessToken), channelIds };
}

type Run = RunResult & {
  serverCpuPct: number;
  serverRssMB: number;
  serverCpuUsPerDelivery: number;
  /** How the rate was chosen: from --rate, or a step of the --sweep search. */
  phase: 'rate list' | 'step up' | 'step down' | 'bisect';
  /** 1-minute load average at the end of the step (/proc/loadavg). */
  loadAvg: number;
  /** Hypervisor steal over the step, % of one core summed over all cores (/proc/stat; NaN off Linux). */
  stealPct: number;
};
interface TargetResult {
  name: string;
  /** Server processes of this target (their CPU and RSS are summed). */
  nodes: number;
  connect: { p50: number; p95: number; p99: number; max: number; failed: number; wallMs: number };
  idleRss?: number;
  /** Least-squares slope of RSS over the second half's connections, KB per connection. */
  perConnKB?: number;
  /** The median of the steps' growth per connection (shown beside the slope). */
  perConnMedianStepKB?: number;
  runs: Run[];
}
interface Measured {
  result: TargetResult;
  load: Load;
  pids: number[];
}

/** Least-squares slope of y over x; undefined with fewer than 3 points. */
function leastSquaresSlope(points: [number, number][]): number | undefined {
  if (points.length < 3) return undefined;
  const n = points.length;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : undefined;
}

/** Steps the second half of the connections is opened in, for memory per idle connection. */
const MEM_STEPS = 10;

/**
 * Connects every client of one target. Memory per idle connection: the second half is opened in
 * MEM_STEPS steps, RSS read after each (after a short settle), and the figure is the least-squares
 * slope of RSS over connections opened (the median step is printed beside it). Why not one
 * before/after difference: a garbage collection during the half shrinks RSS by more than the
 * connections add, and the heap grows in chunks (on the same build that difference read -1.4 to
 * 5.8 KB, 2026-12-01); the slope spreads both over eleven readings.
 * The first half absorbs setup garbage and the first-use allocations.
 */
async function connect(name: string, pids: number[], target: Target): Promise<Measured> {
  const load = new Load(target);
  log(`${name}: connecting ${USERS} clients (${CONC} at a time)`);
  const half = Math.floor(USERS / 2);
  const c = await load.connectAll(CONC, 0, half);
  await new Promise((r) => setTimeout(r, 2000));
  // (connections opened in the second half, RSS KB): before the half and after each step.
  const first = sampleProcs(pids);
  const points: [number, number][] = first ? [[0, first.rssBytes / 1024]] : [];
  let opened = 0;
  for (let k = 0; k < MEM_STEPS; k++) {
    const from = half + Math.floor(((USERS - half) * k) / MEM_STEPS);
    const to = half + Math.floor(((USERS - half) * (k + 1)) / MEM_STEPS);
    const ck = await load.connectAll(CONC, from, to);
    c.connectMs.add(ck.connectMs);
    c.failed += ck.failed;
    c.wallMs += ck.wallMs;
    await new Promise((r) => setTimeout(r, 300));
    const now = sampleProcs(pids);
    opened += to - from - ck.failed;
    if (now) points.push([opened, now.rssBytes / 1024]);
  }
  // Each step's growth per connection, from consecutive readings.
  const stepKB = points
    .slice(1)
    .flatMap(([n, kb], i) => (n > points[i][0] ? [(kb - points[i][1]) / (n - points[i][0])] : []))
    .sort((a, b) => a - b);
  const slopeKB = leastSquaresSlope(points);
  const ms = (h: Histogram, p: number) => h.getValueAtPercentile(p) / 1000;
  log(`${name}: connected in ${(c.wallMs / 1000).toFixed(1)} s, ${c.failed} failed`);
  await new Promise((r) => setTimeout(r, 2000));
  const idle = sampleProcs(pids);
  return {
    load,
    pids,
    result: {
      name,
      nodes: pids.length,
      connect: {
        p50: ms(c.connectMs, 50),
        p95: ms(c.connectMs, 95),
        p99: ms(c.connectMs, 99),
        max: c.connectMs.maxValue / 1000,
        failed: c.failed,
        wallMs: c.wallMs,
      },
      idleRss: idle?.rssBytes,
      perConnKB: slopeKB,
      perConnMedianStepKB: stepKB.length ? stepKB[Math.floor(stepKB.length / 2)] : undefined,
      runs: [],
    },
  };
}

async function runRate(m: Measured, rate: number, phase: Run['phase'] = 'rate list'): Promise<Run> {
  log(`${m.result.name}: ${rate} msg/s for ${DURATION} s${phase === 'rate list' ? '' : ` (${phase})`}`);
  const s0: ProcSample | undefined = sampleProcs(m.pids);
  const c0 = machineCpu();
  const r = await m.load.run(rate, DURATION);
  const s1 = sampleProcs(m.pids);
  const c1 = machineCpu();
  // CPU per delivery holds up on a shared machine better than latency does: it does not
  // depend on how much of a core the scheduler happened to give the server.
  const cpuUs = s0 && s1 ? ((s1.cpuSec - s0.cpuSec) * 1e6) / Math.max(1, r.deliveries) : NaN;
  const run: Run = {
    ...r,
    serverCpuPct: cpuPercent(s0, s1),
    serverRssMB: (s1?.rssBytes ?? NaN) / 1048576,
    serverCpuUsPerDelivery: cpuUs,
    phase,
    loadAvg: loadAvg(),
    stealPct: stealPercent(c0, c1, cpus().length),
  };
  m.result.runs.push(run);
  log(
    `${m.result.name}: ${rate} msg/s → ${holds(run) ? 'holds' : `fails (${whyNot(run)})`}; p95 ${f(run.p95, 2)} ms, p99 ${f(run.p99, 2)} ms, ${run.received}/${run.expected} delivered (${run.repeats} repeats from repairs not counted), server CPU ${f(run.serverCpuPct)}%, generator CPU ${f(run.generatorCpuPct)}%`,
  );
  return run;
}

function loadAvg(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

/**
 * A failing step where neither the generator (≥ 90% of a core) nor the server (≥ 80% of a core
 * per node) was busy: the server was waiting for a CPU other processes held, so the failure says
 * how contended the machine was, not where the server saturates.
 */
const machineBound = (r: Run, nodes: number) => !genBound(r) && r.serverCpuPct < SERVER_BUSY_PCT * nodes;

/** After a step, waits (≤ 20 s) until the servers are nearly idle, so a backlog does not spill into the next step. */
async function settle(m: Measured): Promise<void> {
  const end = performance.now() + 20_000;
  while (performance.now() < end) {
    const a = sampleProcs(m.pids);
    await new Promise((r) => setTimeout(r, 500));
    const pct = cpuPercent(a, sampleProcs(m.pids));
    if (!(pct >= 20 * m.pids.length)) return;
  }
}

/** The saturation search (saturation.ts nextSweepRate): step up, then bisect. */
async function sweep(m: Measured): Promise<void> {
  let prev: Run | undefined;
  for (;;) {
    const rate = nextSweepRate(m.result.runs, P95_BOUND, SWEEP_OPTS);
    if (rate === undefined) return;
    const { pass, fail } = bracket(m.result.runs, P95_BOUND);
    const phase: Run['phase'] = pass && fail ? 'bisect' : fail ? 'step down' : 'step up';
    if (prev) await settle(m);
    prev = await runRate(m, rate, phase);
  }
}

const f = (n: number | undefined, d = 1) => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(d));

const holds = (r: Run) => holdsAt(r, P95_BOUND);
const whyNot = (r: Run) => whyNotAt(r, P95_BOUND);
const genBound = (r: Run) => r.generatorCpuPct >= GEN_BOUND_PCT;
const saturationOf = (t: TargetResult) => saturation(t.runs, P95_BOUND, GEN_BOUND_PCT, t.nodes);

function print(results: TargetResult[]): void {
  const lines: string[] = [];
  lines.push(
    `bench:fanout — ${USERS} users, channels of ${SIZE} (${CHANNELS} channels), ${DURATION} s per rate, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
  );
  lines.push(calibrationLine(calibration));
  lines.push(
    `nChat server: ${NODES > 1 ? `${NODES} nodes of nchat serve (client i on node i mod ${NODES}; CPU and RSS summed)` : 'nchat serve'}, ${DB ? 'PostgreSQL' : 'SQLite (temp dir)'}, ${REDIS ? 'Redis broker' : 'memory broker'}, NCHAT_LOADTEST_ALLOWANCE=1 (frame limits lifted), NCHAT_ARGON2_MEMORY_KIB=1024 (cheap hashing for setup only)`,
  );
  lines.push(
    SKIP_BASELINE
      ? 'order: ɳChat only (--skip-baseline)'
      : SEQUENTIAL
        ? FD_FORCES_SEQUENTIAL
          ? `order: every rate on ɳChat, then every rate on the bare baseline — sequential because interleaving needs 2 × ${USERS} client sockets in the generator and its open-files limit is ${FD_LIMIT}`
          : 'order: every rate on ɳChat, then every rate on the bare baseline (--sequential)'
        : 'order: interleaved per rate (ɳChat at r, then bare at r, then the next rate), both servers up and connected throughout, so both see the same machine conditions at each rate',
  );
  lines.push(
    `e2e = intended send time (the message's slot in the fixed-rate schedule) → receipt at each recipient; lag = actual send − intended; "from send" = the old method (from the actual send), shown for comparison`,
  );
  lines.push('');
  for (const t of results) {
    lines.push(`## ${t.name}`);
    lines.push(
      `connect (to hello): p50 ${f(t.connect.p50)} ms, p95 ${f(t.connect.p95)} ms, p99 ${f(t.connect.p99)} ms, max ${f(t.connect.max)} ms; ${t.connect.failed} failed; all in ${f(t.connect.wallMs / 1000)} s`,
    );
    lines.push(
      `idle server RSS ${f((t.idleRss ?? NaN) / 1048576)} MB; memory per idle connection ${f(t.perConnKB)} KB (slope of RSS over ${MEM_STEPS} steps of the second half; median step ${f(t.perConnMedianStepKB)} KB)`,
    );
    lines.push('');
    lines.push(
      'Outcomes: every slot is sent or skipped (sender not connected); every sent message is acked, refused (error event naming it; codes) or unanswered at the end of the drain. Deliveries are expected for acked and unanswered messages, to every member connected at send time (the sender included).',
    );
    lines.push(
      '| rate msg/s | slots | sent | skipped | acked | refused | unanswered | deliveries expected | received | lost (of acked / of unanswered) | closed unexpectedly |',
    );
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of t.runs) {
      const codes = Object.keys(r.errorCodes).length ? ' ' + JSON.stringify(r.errorCodes) : '';
      const unmatched = r.errorsUnmatched ? ` (+${r.errorsUnmatched} error events naming no message)` : '';
      lines.push(
        `| ${r.rate} | ${r.slots} | ${r.sent} | ${r.skipped} | ${r.acked} | ${r.refused}${codes}${unmatched} | ${r.unanswered} | ${r.expected} | ${r.received} | ${r.lost} (${r.lostOfAcked} / ${r.lostOfUnanswered}) | ${r.closedUnexpectedly} |`,
      );
    }
    lines.push('');
    lines.push(
      '| rate msg/s | deliveries/s | e2e p50 ms | p95 ms | p99 ms | max ms | e2e p95 from send ms | lag p50 ms | lag p95 | lag p99 | lag max | server CPU % | server CPU µs/delivery | server RSS MB | generator CPU % | hypervisor steal % |',
    );
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of t.runs) {
      lines.push(
        `| ${r.rate} | ${f(r.deliveriesPerSec, 0)} | ${f(r.p50, 2)} | ${f(r.p95, 2)} | ${f(r.p99, 2)} | ${f(r.max, 1)} | ${f(r.fromSend.p95, 2)} | ${f(r.lag.p50, 2)} | ${f(r.lag.p95, 2)} | ${f(r.lag.p99, 2)} | ${f(r.lag.max, 1)} | ${f(r.serverCpuPct)} | ${f(r.serverCpuUsPerDelivery)} | ${f(r.serverRssMB)} | ${f(r.generatorCpuPct)}${genBound(r) ? ' (generator-bound)' : ''} | ${f(r.stealPct)} |`,
      );
    }
    lines.push('');
  }
  if (SWEEP) {
    lines.push(
      `## Saturation search (--sweep: start ${SWEEP_OPTS.start} msg/s, ×${SWEEP_OPTS.factor} up to ${SWEEP_OPTS.max}, then bisection to within ${SWEEP_OPTS.resolution * 100}% / ${SWEEP_OPTS.minStep} msg/s; a step holds when e2e p95 < ${P95_BOUND} ms and nothing is lost, unanswered, refused, skipped or closed)`,
    );
    lines.push(
      '| server | step | phase | rate msg/s | deliveries/s | e2e p95 ms | p99 ms | delivered / expected | server CPU % | server µs/delivery | generator CPU % | load avg | hypervisor steal % | verdict |',
    );
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const t of results)
      t.runs.forEach((r, k) =>
        lines.push(
          `| ${t.name} | ${k + 1} | ${r.phase} | ${r.rate} | ${f(r.deliveriesPerSec, 0)} | ${f(r.p95, 2)} | ${f(r.p99, 2)} | ${r.received} / ${r.expected} | ${f(r.serverCpuPct)} | ${f(r.serverCpuUsPerDelivery)} | ${f(r.generatorCpuPct)}${genBound(r) ? ' (generator-bound)' : ''} | ${f(r.loadAvg)} | ${f(r.stealPct)} | ${holds(r) ? 'holds' : `fails: ${whyNot(r)}${machineBound(r, t.nodes) ? ' (contended: server not CPU-bound)' : ''}`} |`,
        ),
      );
    lines.push('');
    for (const t of results) {
      const { pass, fail } = bracket(t.runs, P95_BOUND);
      lines.push(
        `- **${t.name}: ${pass ? `${pass.rate} msg/s = ${f(pass.deliveriesPerSec, 0)} deliveries/s` : 'no rate held'}** (the highest rate that held${fail ? `; ${fail.rate} msg/s failed: ${whyNot(fail)}` : '; none failed up to --sweep-max'})${fail && genBound(fail) ? ` — generator-bound: the generator used ${f(fail.generatorCpuPct, 0)}% of a core at ${fail.rate} msg/s, so the limit found may be the generator's` : pass && !fail && genBound(pass) ? ' — generator-bound at the top rate' : fail && machineBound(fail, t.nodes) ? ` — machine-bound: at ${fail.rate} msg/s the server used only ${f(fail.serverCpuPct, 0)}% of a core${t.nodes > 1 ? ` over ${t.nodes} nodes` : ''} and the generator ${f(fail.generatorCpuPct, 0)}% (load average ${f(fail.loadAvg)}, hypervisor steal ${f(fail.stealPct)}% of a core): other processes or other guests of the host held the CPUs, so this is not the server's saturation point` : fail ? ` — server-bound (server ${f(fail.serverCpuPct, 0)}% of a core, generator ${f(fail.generatorCpuPct, 0)}% at the failing rate)` : ''}`,
      );
    }
    lines.push('');
  }
  lines.push(
    `## Saturation point per server (highest rate ${SWEEP ? 'run' : 'of --rate'} with e2e p95 < ${P95_BOUND} ms and nothing lost, unanswered, refused, skipped or closed)`,
  );
  lines.push(
    '| server | holds up to msg/s | e2e p95 there ms | generator CPU there % | first rate that fails | why | generator CPU there % | verdict |',
  );
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const t of results) {
    const s = saturationOf(t);
    lines.push(
      `| ${t.name} | ${s.holds ? s.holds.rate : 'none (the lowest rate fails)'} | ${f(s.holds?.p95, 2)} | ${f(s.holds?.generatorCpuPct, 0)} | ${s.fails?.rate ?? '-'} | ${s.fails ? whyNot(s.fails) : '-'} | ${f(s.fails?.generatorCpuPct, 0)} | ${s.label} |`,
    );
  }
  lines.push('');
  const [n, b] = results;
  if (n && b) {
    lines.push('## ɳChat vs bare ws at equal load: server CPU per delivery');
    lines.push(
      'Only rows where both servers hold the rate (nothing lost, p95 under the bound) compare like with like; a saturated row compares a server at its limit with one that is not. Deliveries/s is not a ratio worth taking below saturation: it is the offered load on both.',
    );
    lines.push('| rate msg/s | ɳChat µs/delivery | bare µs/delivery | ratio | ɳChat server CPU % | bare server CPU % | comparable |');
    lines.push('|---|---|---|---|---|---|---|');
    for (const r of n.runs) {
      const base = b.runs.find((x) => x.rate === r.rate);
      if (!base) continue;
      const why = [
        !holds(r) ? `ɳChat does not hold (${whyNot(r)})` : '',
        !holds(base) ? `bare does not hold (${whyNot(base)})` : '',
        genBound(r) || genBound(base) ? 'generator-bound' : '',
      ]
        .filter(Boolean)
        .join('; ');
      lines.push(
        `| ${r.rate} | ${f(r.serverCpuUsPerDelivery)} | ${f(base.serverCpuUsPerDelivery)} | ${f(r.serverCpuUsPerDelivery / base.serverCpuUsPerDelivery, 2)} | ${f(r.serverCpuPct)} | ${f(base.serverCpuPct)} | ${why || 'yes'} |`,
      );
    }
    lines.push(
      `memory per idle connection: ɳChat ${f(n.perConnKB)} KB, bare ${f(b.perConnKB)} KB, ratio ${f((n.perConnKB ?? NaN) / (b.perConnKB ?? NaN), 2)}`,
    );
  } else if (SKIP_BASELINE) lines.push('baseline: not measured (--skip-baseline)');
  process.stdout.write(lines.join('\n') + '\n');
}

/** Measured in main() before any server starts (src/loadtest/calibrate.ts); printed in the header. */
let calibration: Calibration | undefined;

async function main(): Promise<void> {
  calibration = await calibrate();
  const dir = await mkdtemp(join(tmpdir(), 'nchat-bench-'));
  if (OWN_DB) {
    await adminQuery(`CREATE DATABASE ${OWN_DB}`);
    log(`PostgreSQL database ${OWN_DB} created (dropped at the end)`);
  }
  const env: Record<string, string> = {
    NCHAT_PORT: '0',
    NCHAT_HOST: '127.0.0.1',
    NCHAT_LOADTEST_ALLOWANCE: '1',
    NCHAT_ARGON2_MEMORY_KIB: '1024',
    NCHAT_LOG_LEVEL: 'warn',
    ...(DB ? { NCHAT_DATABASE_URL: DB } : {}),
    ...(REDIS ? { NCHAT_REDIS_URL: REDIS } : {}),
  };
  // Node 0 first (it runs the migrations), then the others.
  const nodes: { child: ChildProcess; url: string }[] = [];
  const stopNodes = () => Promise.all(nodes.map((x) => stopServer(x.child)));
  let bare: { child: ChildProcess; url: string } | undefined;
  const measured: Measured[] = [];
  try {
    ensureServerBuild(log);
    for (let k = 0; k < NODES; k++) {
      nodes.push(await spawnServer(['dist/cli.js', 'serve'], { ...env, NCHAT_DATA_DIR: NODES > 1 ? join(dir, `node${k}`) : dir }));
      log(`nChat node ${k}: pid ${nodes[k].child.pid} at ${nodes[k].url}`);
    }
    const { tokens, channelIds } = await setupNchat(nodes[0].url);
    const wsUrls = nodes.map((x) => x.url.replace(/^http/, 'ws') + '/ws');
    const n = await connect(
      NODES > 1 ? `nChat (${NODES} × nchat serve)` : 'nChat (nchat serve)',
      nodes.map((x) => x.child.pid!),
      {
        name: 'nchat',
        users: USERS,
        channelIds,
        channelOf,
        membersOf,
        url: (i) => wsUrls[i % NODES],
        protocols: (i) => ['nchat.v1', `bearer.${tokens[i]}`],
      },
    );
    measured.push(n);
    if (SWEEP) await sweep(n);
    else if (SKIP_BASELINE || SEQUENTIAL) for (const rate of RATES) await runRate(n, rate);
    if (!SKIP_BASELINE) {
      if (SEQUENTIAL) {
        n.load.closeAll();
        await stopNodes();
      }
      bare = await spawnServer(['bench/bare-ws-server.ts'], {});
      const bws = bare.url.replace(/^http/, 'ws');
      const bareIds = Array.from({ length: CHANNELS }, (_, c) => `c${c}`);
      const b = await connect('bare ws broadcast (baseline)', [bare.child.pid!], {
        name: 'bare',
        users: USERS,
        channelIds: bareIds,
        channelOf,
        membersOf,
        url: (i) => `${bws}/?u=${i}&c=c${channelOf(i)}`,
        protocols: () => undefined,
      });
      measured.push(b);
      // Interleaved: both servers see the same machine (other load, thermal state) at each rate.
      if (SWEEP) await sweep(b);
      else
        for (const rate of RATES) {
          if (!SEQUENTIAL) await runRate(n, rate);
          await runRate(b, rate);
        }
    }
  } finally {
    for (const m of measured) m.load.closeAll();
    await stopNodes();
    if (bare) await stopServer(bare.child);
    await rm(dir, { recursive: true, force: true });
    if (OWN_DB) await adminQuery(`DROP DATABASE IF EXISTS ${OWN_DB} WITH (FORCE)`).catch((err) => log(`drop ${OWN_DB}: ${err}`));
  }
  print(measured.map((m) => m.result));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
