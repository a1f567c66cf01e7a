// npm run bench:fanout [-- --users 10000 --channel-size 10 --rate 1000[,2000,...] --duration 10
//                         --connect-concurrency 200 --database-url postgres://… --redis-url redis://…
//                         --skip-baseline --sequential --p95-bound 50]
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
import { cpuPercent, sampleProc, type ProcSample } from './proc.js';
import { holdsAt, whyNotAt, saturation } from './saturation.js';

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
const DB = args.get('database-url');
const REDIS = args.get('redis-url');
const SKIP_BASELINE = args.has('skip-baseline');
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
const SEQUENTIAL = args.has('sequential') || FD_FORCES_SEQUENTIAL;

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

/** Spawns a server script; resolves with its URL once it prints `listening on <url>`. */
async function spawnServer(script: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  // NCHAT_BENCH_SERVER_NODE_ARGS: extra node flags for the servers (e.g. --cpu-prof for profiling).
  const extra = (process.env.NCHAT_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...extra, '--import', 'tsx', ...script], {
    cwd: root,
    env: { ...process.env, ...env },
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

type Run = RunResult & { serverCpuPct: number; serverRssMB: number; serverCpuUsPerDelivery: number };
interface TargetResult {
  name: string;
  connect: { p50: number; p95: number; p99: number; max: number; failed: number; wallMs: number };
  idleRss?: number;
  perConnKB?: number;
  runs: Run[];
}
interface Measured {
  result: TargetResult;
  load: Load;
  pid: number;
}

/** Connects every client of one target; memory per idle connection from the second half. */
async function connect(name: string, pid: number, target: Target): Promise<Measured> {
  const load = new Load(target);
  log(`${name}: connecting ${USERS} clients (${CONC} at a time)`);
  // Two halves: memory per idle connection = RSS growth over the second half / its size, so
  // garbage left by setup (collected at some point during the first half) does not skew it.
  const half = Math.floor(USERS / 2);
  const c = await load.connectAll(CONC, 0, half);
  await new Promise((r) => setTimeout(r, 2000));
  const before = sampleProc(pid);
  const c2 = await load.connectAll(CONC, half, USERS);
  c.connectMs.add(c2.connectMs);
  c.failed += c2.failed;
  c.wallMs += c2.wallMs;
  const ms = (h: Histogram, p: number) => h.getValueAtPercentile(p) / 1000;
  log(`${name}: connected in ${(c.wallMs / 1000).toFixed(1)} s, ${c.failed} failed`);
  await new Promise((r) => setTimeout(r, 2000));
  const idle = sampleProc(pid);
  return {
    load,
    pid,
    result: {
      name,
      connect: {
        p50: ms(c.connectMs, 50),
        p95: ms(c.connectMs, 95),
        p99: ms(c.connectMs, 99),
        max: c.connectMs.maxValue / 1000,
        failed: c.failed,
        wallMs: c.wallMs,
      },
      idleRss: idle?.rssBytes,
      perConnKB: before && idle ? (idle.rssBytes - before.rssBytes) / 1024 / (USERS - half - c2.failed) : undefined,
      runs: [],
    },
  };
}

async function runRate(m: Measured, rate: number): Promise<void> {
  log(`${m.result.name}: ${rate} msg/s for ${DURATION} s`);
  const s0: ProcSample | undefined = sampleProc(m.pid);
  const r = await m.load.run(rate, DURATION);
  const s1 = sampleProc(m.pid);
  // CPU per delivery holds up on a shared machine better than latency does: it does not
  // depend on how much of a core the scheduler happened to give the server.
  const cpuUs = s0 && s1 ? ((s1.cpuSec - s0.cpuSec) * 1e6) / Math.max(1, r.deliveries) : NaN;
  m.result.runs.push({
    ...r,
    serverCpuPct: cpuPercent(s0, s1),
    serverRssMB: (s1?.rssBytes ?? NaN) / 1048576,
    serverCpuUsPerDelivery: cpuUs,
  });
}

const f = (n: number | undefined, d = 1) => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(d));

const holds = (r: Run) => holdsAt(r, P95_BOUND);
const whyNot = (r: Run) => whyNotAt(r, P95_BOUND);
const genBound = (r: Run) => r.generatorCpuPct >= GEN_BOUND_PCT;
const saturationOf = (runs: Run[]) => saturation(runs, P95_BOUND, GEN_BOUND_PCT);

function print(results: TargetResult[]): void {
  const lines: string[] = [];
  lines.push(
    `bench:fanout — ${USERS} users, channels of ${SIZE} (${CHANNELS} channels), ${DURATION} s per rate, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
  );
  lines.push(
    `nChat server: nchat serve, ${DB ? 'PostgreSQL' : 'SQLite (temp dir)'}, ${REDIS ? 'Redis broker' : 'memory broker'}, NCHAT_LOADTEST_ALLOWANCE=1 (frame limits lifted), NCHAT_ARGON2_MEMORY_KIB=1024 (cheap hashing for setup only)`,
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
    lines.push(`idle server RSS ${f((t.idleRss ?? NaN) / 1048576)} MB; memory per idle connection ${f(t.perConnKB)} KB`);
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
      '| rate msg/s | deliveries/s | e2e p50 ms | p95 ms | p99 ms | max ms | e2e p95 from send ms | lag p50 ms | lag p95 | lag p99 | lag max | server CPU % | server CPU µs/delivery | server RSS MB | generator CPU % |',
    );
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of t.runs) {
      lines.push(
        `| ${r.rate} | ${f(r.deliveriesPerSec, 0)} | ${f(r.p50, 2)} | ${f(r.p95, 2)} | ${f(r.p99, 2)} | ${f(r.max, 1)} | ${f(r.fromSend.p95, 2)} | ${f(r.lag.p50, 2)} | ${f(r.lag.p95, 2)} | ${f(r.lag.p99, 2)} | ${f(r.lag.max, 1)} | ${f(r.serverCpuPct)} | ${f(r.serverCpuUsPerDelivery)} | ${f(r.serverRssMB)} | ${f(r.generatorCpuPct)}${genBound(r) ? ' (generator-bound)' : ''} |`,
      );
    }
    lines.push('');
  }
  lines.push(
    `## Saturation point per server (highest rate of --rate with e2e p95 < ${P95_BOUND} ms and nothing lost, unanswered, refused, skipped or closed)`,
  );
  lines.push(
    '| server | holds up to msg/s | e2e p95 there ms | generator CPU there % | first rate that fails | why | generator CPU there % | verdict |',
  );
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const t of results) {
    const s = saturationOf(t.runs);
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

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nchat-bench-'));
  const env: Record<string, string> = {
    NCHAT_PORT: '0',
    NCHAT_HOST: '127.0.0.1',
    NCHAT_DATA_DIR: dir,
    NCHAT_LOADTEST_ALLOWANCE: '1',
    NCHAT_ARGON2_MEMORY_KIB: '1024',
    NCHAT_LOG_LEVEL: 'warn',
    ...(DB ? { NCHAT_DATABASE_URL: DB } : {}),
    ...(REDIS ? { NCHAT_REDIS_URL: REDIS } : {}),
  };
  const nchat = await spawnServer(['src/cli.ts', 'serve'], env);
  let bare: { child: ChildProcess; url: string } | undefined;
  const measured: Measured[] = [];
  try {
    log(`nChat server pid ${nchat.child.pid} at ${nchat.url}`);
    const { tokens, channelIds } = await setupNchat(nchat.url);
    const ws = nchat.url.replace(/^http/, 'ws') + '/ws';
    const n = await connect('nChat (nchat serve)', nchat.child.pid!, {
      name: 'nchat',
      users: USERS,
      channelIds,
      channelOf,
      membersOf,
      url: () => ws,
      protocols: (i) => ['nchat.v1', `bearer.${tokens[i]}`],
    });
    measured.push(n);
    if (SKIP_BASELINE || SEQUENTIAL) for (const rate of RATES) await runRate(n, rate);
    if (!SKIP_BASELINE) {
      if (SEQUENTIAL) {
        n.load.closeAll();
        await stopServer(nchat.child);
      }
      bare = await spawnServer(['bench/bare-ws-server.ts'], {});
      const bws = bare.url.replace(/^http/, 'ws');
      const bareIds = Array.from({ length: CHANNELS }, (_, c) => `c${c}`);
      const b = await connect('bare ws broadcast (baseline)', bare.child.pid!, {
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
      for (const rate of RATES) {
        if (!SEQUENTIAL) await runRate(n, rate);
        await runRate(b, rate);
      }
    }
  } finally {
    for (const m of measured) m.load.closeAll();
    await stopServer(nchat.child);
    if (bare) await stopServer(bare.child);
    await rm(dir, { recursive: true, force: true });
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
