// npm run bench:history [-- --messages 2000 --connections 100 --duration 10 --rounds 3 --limit 50]
//
// Issue 14's history-page target ("a history page of 50 messages at ≥ 3× today's rate, with p99
// under 20 ms"), measured in one run against one server: the compiled server (`nchat serve`,
// SQLite in a temp dir, spawned as `nchat loadtest --spawn` does) gets one channel of --messages
// messages (every 5th with a reaction), then --connections keep-alive connections ask for its
// newest page with no pause (closed model), for --duration s per phase, alternating
//   kept:     GET /api/channels/:id/messages?limit=50            (the newest page, kept serialized
//             while the channel is unchanged: services/history-pages.ts)
//   uncached: the same with ?before= past the last seq           (the same page, read from SQLite
//             and serialized on every request, as every page was before 9879701)
// for --rounds rounds. Per phase: req/s, p50/p95/p99/max, errors, server and generator CPU (from
// /proc). The ratio kept ÷ uncached of each round is the "× today's rate": both run on the same
// machine minutes apart, so the machine's speed of the day cancels out. The generator shares the
// machine's cores with the server; a phase where it used ≥ 90% of a core is labelled
// generator-bound.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'undici';
import { calibrate, calibrationLine } from '../src/loadtest/calibrate.js';
import { HttpClient, must } from '../src/loadtest/clients/http.js';
import { spawnCluster } from '../src/loadtest/spawn.js';
import { benchArgs } from './args.js';
import { cpuPercent, sampleProc } from './proc.js';

const { one } = benchArgs();
const MESSAGES = Number(one('messages', '2000'));
const CONNECTIONS = Number(one('connections', '100'));
const DURATION_S = Number(one('duration', '10'));
const ROUNDS = Number(one('rounds', '3'));
const LIMIT = Number(one('limit', '50'));
const TARGET = { ratio: 3, p99Ms: 20 };
const GENERATOR_BOUND_PCT = 90;
const log = (m: string) => process.stderr.write(`${m}\n`);

interface Phase {
  name: 'kept' | 'uncached';
  reqs: number;
  errors: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  serverCpu: number;
  generatorCpu: number;
}

const pct = (sorted: Float64Array, p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;

/**
 * One GET, body discarded as it arrives: undici's dispatch with a bare handler, so the generator
 * spends less of the shared cores than with a response stream per request (pool.request).
 */
function status(pool: Pool, path: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let code = 0;
    pool.dispatch(
      { method: 'GET', path, headers: { authorization: `Bearer ${token}` } },
      {
        // undici calls every one of these: a missing one fails the request.
        onRequestStart() {},
        onResponseStart(_c, statusCode) {
          code = statusCode;
        },
        onResponseData() {},
        onResponseEnd() {
          resolve(code);
        },
        onResponseError(_c, err) {
          reject(err);
        },
      },
    );
  });
}

/** --connections loops asking for `path` until the deadline; latencies of 200s, count of the rest. */
async function phase(pool: Pool, name: Phase['name'], path: string, token: string, serverPid: number): Promise<Phase> {
  const lat: number[] = [];
  let errors = 0;
  const s0 = sampleProc(serverPid);
  const g0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + DURATION_S * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        const a = performance.now();
        try {
          if ((await status(pool, path, token)) === 200) lat.push(performance.now() - a);
          else errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const s1 = sampleProc(serverPid);
  const g = process.cpuUsage(g0);
  const sorted = Float64Array.from(lat).sort();
  return {
    name,
    reqs: lat.length,
    errors,
    rps: lat.length / secs,
    p50: pct(sorted, 50),
    p95: pct(sorted, 95),
    p99: pct(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    serverCpu: cpuPercent(s0, s1),
    generatorCpu: (100 * (g.user + g.system)) / 1e6 / secs,
  };
}

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');

const logDir = mkdtempSync(join(tmpdir(), 'nchat-bench-history-'));
log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; server and generator share the cores`,
);
log(calibrationLine(await calibrate()));
const cluster = await spawnCluster({
  store: 'sqlite',
  redis: false,
  nodes: 1,
  postgresUrl: 'postgres://unused',
  redisUrl: 'redis://unused',
  logDir,
  tag: `hist${Date.now().toString(36)}`,
  log,
});
const origin = cluster.origins[0]!;
const serverPid = cluster.pids[0]!;
// The load generator's client (setup calls through it; the phases dispatch on its pool).
const http = new HttpClient(origin, CONNECTIONS);
const pool = http.pool;
try {
  const { accessToken: token } = must(
    await http.signup({ email: 'history@bench.test', username: 'historybench', password: 'a long bench passphrase' }),
    'signup',
  );
  const ch = must(
    await http.request<{ id: string }>('POST', '/api/channels', { token, body: { name: 'history-bench', type: 'public' } }),
    'create channel',
  );
  for (let i = 0; i < MESSAGES; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, MESSAGES - i) }, async (_, k) => {
        const n = i + k;
        const m = must(
          await http.sendMessage(token, ch.id, {
            text: `history bench message ${n} with some ordinary words in it, like a person would write`,
          }),
          'send',
        );
        if (n % 5 === 0) must(await http.request('PUT', `/api/messages/${m.id}/reactions/thumbsup`, { token }), 'react');
      }),
    );
  }
  const kept = `/api/channels/${ch.id}/messages?limit=${LIMIT}`;
  const uncached = `${kept}&before=${MESSAGES + 1_000_000}`;
  const a = await pool.request({ method: 'GET', path: kept, headers: { authorization: `Bearer ${token}` } });
  const b = await pool.request({ method: 'GET', path: uncached, headers: { authorization: `Bearer ${token}` } });
  const [ta, tb] = [await a.body.text(), await b.body.text()];
  if (ta !== tb) throw new Error('the kept page and the uncached page differ: the comparison would not be of the same page');
  log(
    `server ${origin} (pid ${serverPid}, compiled, SQLite, env ${JSON.stringify(cluster.env)}); one channel of ${MESSAGES} messages, a page of ${LIMIT} is ${(Buffer.byteLength(ta) / 1024).toFixed(1)} KB`,
  );
  log(`${CONNECTIONS} connections, no pause, ${DURATION_S} s per phase, ${ROUNDS} rounds alternating kept / uncached\n`);

  const rows: Phase[][] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const k = await phase(pool, 'kept', kept, token, serverPid);
    const u = await phase(pool, 'uncached', uncached, token, serverPid);
    rows.push([k, u]);
  }
  const lines = [
    '| round | page | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | server CPU % | generator CPU % |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  rows.forEach((pair, i) => {
    for (const p of pair) {
      const bound = p.generatorCpu >= GENERATOR_BOUND_PCT ? ' (generator-bound)' : '';
      lines.push(
        `| ${i + 1} | ${p.name} | ${f0(p.rps)}${bound} | ${f1(p.p50)} | ${f1(p.p95)} | ${f1(p.p99)} | ${f1(p.max)} | ${p.errors} | ${f0(p.serverCpu)} | ${f0(p.generatorCpu)} |`,
      );
    }
  });
  console.log(lines.join('\n'));
  const ratios = rows.map(([k, u]) => k.rps / u.rps);
  const p99s = rows.map(([k]) => k.p99);
  console.log(
    `\nkept ÷ uncached, per round: ${ratios.map((x) => `${x.toFixed(2)}×`).join(', ')} (target ≥ ${TARGET.ratio}×: ${ratios.every((x) => x >= TARGET.ratio) ? 'met in every round' : `met in ${ratios.filter((x) => x >= TARGET.ratio).length} of ${ratios.length}`})`,
  );
  console.log(
    `kept page p99: ${p99s.map((x) => `${f1(x)} ms`).join(', ')} (target < ${TARGET.p99Ms} ms: ${p99s.every((x) => x < TARGET.p99Ms) ? 'met in every round' : `met in ${p99s.filter((x) => x < TARGET.p99Ms).length} of ${p99s.length}`})`,
  );
  if (rows.some((pair) => pair.some((p) => p.errors > 0)))
    console.log('errors: some requests failed (see the table); the figures count 200s only');
} finally {
  await http.close();
  await cluster.stop();
  rmSync(logDir, { recursive: true, force: true });
}
