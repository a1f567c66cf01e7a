// npm run bench:store [-- --messages N --concurrency K --backends sqlite,postgres --send-slots S]
//
// For each backend: messages persisted per second through the full service send path
// (validation, authorization, seq, mention resolution, notifications, publish), first one at a
// time, then with K sends in flight (the store groups what arrives in one turn into one
// transaction); then history page reads per second with p50/p95/p99.
// Not a test: it prints figures for docs/PERFORMANCE.md. PostgreSQL runs on a fresh database.
import { calibrate, calibrationLine } from '../src/loadtest/calibrate.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { MemoryBroker } from '../src/server/broker/memory-broker.js';
import { buildServices } from '../src/server/services/index.js';
import { nobodyOnline, type Actor } from '../src/server/services/context.js';
import { openPostgresStore } from '../src/server/store/postgres/index.js';
import { openSqliteStore } from '../src/server/store/sqlite/index.js';
import type { Store } from '../src/server/store/store.js';
import pg from 'pg';
import { freshPostgres } from '../test/helpers/postgres.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const N = Number(args.get('messages') ?? 20000);
const K = Number(args.get('concurrency') ?? 64);
const backends = (args.get('backends') ?? 'sqlite,postgres').split(',');
/** PostgreSQL: group-commit batches in flight (openPostgresStore sendSlots); unset = the store's default. */
const sendSlots = args.has('send-slots') ? Number(args.get('send-slots')) : undefined;
const CHANNELS = 100;
const MEMBERS = 10;

/** Busy CPU seconds of the whole machine so far (all cores), from /proc/stat. */
function machineBusySec(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  return (f.reduce((a, b) => a + b, 0) - idle) / 100;
}

/**
 * PostgreSQL side of the in-flight phase: statements sent by this process (every pg Client.query,
 * pooled or not, counted by the statement's name or first words) and the CPU time of the database's
 * own backends (utime+stime from /proc/<pid>/stat, pids from pg_stat_activity; needs the server on
 * this host and /proc readable). Unlike "rest of machine", other processes on the box do not count.
 * Background processes (WAL writer, checkpointer) are shared with other databases and not counted.
 */
const statements = new Map<string, number>();
let counting = false;
{
  const q = pg.Client.prototype.query as (...a: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
    if (counting) {
      const c = a[0] as string | { name?: string; text?: string };
      const key = typeof c === 'string' ? c : (c?.name ?? c?.text ?? '?');
      const k = key.replace(/\s+/g, ' ').trim().slice(0, 60);
      statements.set(k, (statements.get(k) ?? 0) + 1);
    }
    return q.apply(this, a);
  } as typeof pg.Client.prototype.query;
}

/** CPU ticks per backend of the database; `batch` marks backends whose last statement was a send batch. */
async function backendCpuTicks(url: string): Promise<Map<number, { ticks: number; batch: boolean }>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ pid: number; batch: boolean }>(
      `SELECT pid, query LIKE '%jsonb_to_recordset%' AS batch FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    const out = new Map<number, { ticks: number; batch: boolean }>();
    for (const { pid, batch } of r.rows) {
      try {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
        out.set(pid, { ticks: Number(rest[11]) + Number(rest[12]), batch }); // utime, stime (fields 14, 15)
      } catch {
        // not on this host / not readable
      }
    }
    return out;
  } finally {
    await c.end();
  }
}

interface PgProbe {
  start(): Promise<void>;
  stop(n: number): Promise<{ backendCpuUs: number | undefined; batchCpuUs: number; perMsg: number; top: [string, number][] }>;
}

function pgProbe(url: string): PgProbe {
  let before = new Map<number, { ticks: number; batch: boolean }>();
  return {
    async start() {
      before = await backendCpuTicks(url);
      statements.clear();
      counting = true;
    },
    async stop(n) {
      counting = false;
      const after = await backendCpuTicks(url);
      let ticks = 0;
      let batchTicks = 0;
      for (const [pid, t] of after) {
        const d = t.ticks - (before.get(pid)?.ticks ?? 0);
        ticks += d;
        if (t.batch) batchTicks += d;
      }
      const total = [...statements.values()].reduce((a, b) => a + b, 0);
      const top = [...statements.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
      return {
        backendCpuUs: after.size ? ((ticks / 100) * 1e6) / n : undefined,
        batchCpuUs: ((batchTicks / 100) * 1e6) / n,
        perMsg: total / n,
        top,
      };
    },
  };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function bench(kind: string, store: Store, probe?: PgProbe) {
  await store.migrate();
  const config = loadConfig(
    {},
    { NCHAT_ARGON2_MEMORY_KIB: '1024', NCHAT_LOG_LEVEL: 'silent', NCHAT_SIGNIN_LIMIT_IP: '10000000', NCHAT_SEND_LIMIT: '1000000' },
  );
  const services = buildServices(
    { config, store, broker: new MemoryBroker(), logger: pino({ level: 'silent' }), presence: nobodyOnline, now: () => new Date() },
    'x'.repeat(48),
  );

  // Setup: 100 channels of 10 members (1,000 users), as in the throughput scenario.
  const run = Date.now().toString(36);
  const users: { actor: Actor; username: string }[] = [];
  for (let i = 0; i < CHANNELS * MEMBERS; i++) {
    const s = await services.auth.signup(
      { username: `b${run}u${i}`, email: `b${run}u${i}@bench.test`, password: 'bench-password' },
      '127.0.0.1',
    );
    users.push({ actor: { userId: s.user.id, role: s.user.role }, username: s.user.username });
  }
  const channels: { id: string; members: typeof users }[] = [];
  for (let c = 0; c < CHANNELS; c++) {
    const members = users.slice(c * MEMBERS, (c + 1) * MEMBERS);
    const ch = await services.channels.create(members[0].actor, { name: `bench-${run}-${c}`, type: 'public' });
    await services.channels.addMembers(
      members[0].actor,
      ch.id,
      members.slice(1).map((m) => m.actor.userId),
    );
    channels.push({ id: ch.id, members });
  }

  // The template's mix: text 60%, mentions 20%, code 10%, (files 10% → plain text until uploads exist).
  let n = 0;
  const nextSend = () => {
    const i = n++;
    const ch = channels[i % CHANNELS];
    const author = ch.members[i % MEMBERS];
    const r = i % 10;
    const text =
      r < 6 || r === 9
        ? `message ${i} about the release plan`
        : r < 8
          ? `@${ch.members[(i + 1) % MEMBERS].username} can you look at ${i}?`
          : '```ts\nconst x = ' + i + ';\n```';
    return services.messages.send(author.actor, { channelId: ch.id, text, clientMsgId: `b-${i}` });
  };

  const oneAtATimeN = Math.max(1000, Math.floor(N / 4));
  let t0 = performance.now();
  for (let i = 0; i < oneAtATimeN; i++) await nextSend();
  // A store that indexes after commit (SQLite) indexes the last batch now, inside the timing.
  await store.search.flushIndex?.();
  const serialRate = oneAtATimeN / ((performance.now() - t0) / 1000);

  t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const busy0 = machineBusySec();
  await probe?.start();
  let started = 0;
  await Promise.all(
    Array.from({ length: K }, async () => {
      while (started++ < N) await nextSend();
    }),
  );
  await store.search.flushIndex?.();
  const concurrentRate = N / ((performance.now() - t0) / 1000);
  const cpu = process.cpuUsage(cpu0);
  const nodeCpuUs = (cpu.user + cpu.system) / N;
  const otherCpuUs = ((machineBusySec() - busy0) * 1e6 - (cpu.user + cpu.system)) / N;
  const pgSide = await probe?.stop(N);

  // History: newest page of 50 and a page in the middle, from random channels, as members.
  const lat: number[] = [];
  const pages = 5000;
  t0 = performance.now();
  for (let i = 0; i < pages; i++) {
    const ch = channels[i % CHANNELS];
    const q = i % 2 === 0 ? { limit: 50 } : { limit: 50, before: 100 };
    const s = performance.now();
    await services.messages.history(ch.members[i % MEMBERS].actor, ch.id, q);
    lat.push(performance.now() - s);
  }
  const histRate = pages / ((performance.now() - t0) / 1000);
  lat.sort((a, b) => a - b);
  return {
    kind,
    nodeCpuUs,
    otherCpuUs,
    serialN: oneAtATimeN,
    serialRate,
    concurrentN: N,
    concurrentRate,
    histRate,
    p50: pct(lat, 50),
    p95: pct(lat, 95),
    p99: pct(lat, 99),
    pgSide,
  };
}

// Before any load (src/loadtest/calibrate.ts): printed with the machine line below.
const calibration = await calibrate();
const rows = [];
for (const kind of backends) {
  if (kind === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'nchat-bench-'));
    const store = await openSqliteStore({ file: join(dir, 'bench.db'), sync: 'normal' });
    rows.push(await bench('sqlite (WAL, synchronous=NORMAL)', store));
    await store.close();
    await rm(dir, { recursive: true, force: true });
  } else if (kind === 'postgres') {
    const db = await freshPostgres();
    if (!db) {
      console.log('postgres: not measured (PostgreSQL not reachable)');
      continue;
    }
    const store = await openPostgresStore({ url: db.url, poolSize: 20, sendSlots });
    rows.push(await bench(`postgres (pool 20${sendSlots ? `, ${sendSlots} send slots` : ''}, same host)`, store, pgProbe(db.url)));
    await store.close();
    await db.drop();
  }
}

const f = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
console.log(
  `\nmachine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${f(totalmem() / 2 ** 30, 1)} GiB, Node ${process.version}; bench and database share the cores`,
);
console.log(calibrationLine(calibration));
console.log(
  'send path: validation + authorization + seq + mentions + notifications + publish (template mix: 60% text, 20% mention, 10% code, 10% text)\n',
);
console.log(
  '| backend | one at a time (msg/s) | ' +
    `${K} in flight (msg/s)` +
    ' | CPU µs/msg: node / rest of machine | history pages/s | page p50 ms | page p95 ms | page p99 ms |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.kind} | ${f(r.serialRate)} (n=${f(r.serialN)}) | ${f(r.concurrentRate)} (n=${f(r.concurrentN)}) | ${f(r.nodeCpuUs)} / ${f(r.otherCpuUs)} | ${f(r.histRate)} | ${f(r.p50, 2)} | ${f(r.p95, 2)} | ${f(r.p99, 2)} |`,
  );
}
for (const r of rows) {
  if (!r.pgSide) continue;
  const b = r.pgSide.backendCpuUs;
  console.log(
    `\n${r.kind}, in-flight phase: PostgreSQL backend CPU ${b === undefined ? 'not measured (backends not readable in /proc)' : `${f(b)} µs/msg (send-batch connections ${f(r.pgSide.batchCpuUs)})`}, ` +
      `${f(r.pgSide.perMsg, 2)} statements/msg sent; most frequent:`,
  );
  for (const [k, v] of r.pgSide.top) console.log(`  ${f(v / r.concurrentN, 3)}/msg  ${k}`);
}
console.log(
  '\n"rest of machine" is every other process during the in-flight phase: the database server for PostgreSQL, the WAL checkpoint thread is inside node for SQLite.',
);
