// Collectors against the real thing: this machine's /proc, the local PostgreSQL and Redis.
// PostgreSQL/Redis parts skip with a message when the service is unreachable, unless CI=true
// or NCHAT_REQUIRE_SERVICES=1 (then they fail).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import pg from 'pg';
import {
  readProc,
  pidListeningOn,
  netDev,
  diskStats,
  pidsByComm,
  childPids,
  machineCpu,
  parseProcStatCpu,
  stealPercent,
} from '../../src/loadtest/samplers/proc.js';
import { PostgresSampler } from '../../src/loadtest/samplers/postgres.js';
import { RedisSampler, parseInfo } from '../../src/loadtest/samplers/redis.js';
import { scrapeValues, Collector } from '../../src/loadtest/samplers/collector.js';
import { freshPostgres } from '../helpers/postgres.js';
import { redisSkip, TEST_REDIS_URL } from '../helpers/redis.js';

test('/proc: own CPU and RSS, the pid listening on a port, network and disk counters', async () => {
  const me = readProc(process.pid)!;
  assert.ok(me.cpuSec > 0);
  assert.ok(me.rssBytes > 10 * 1024 * 1024);
  assert.equal(readProc(2 ** 30), null, 'a missing pid is null, not a throw');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  assert.equal(pidListeningOn(port), process.pid);
  srv.close();
  const net = netDev();
  assert.ok(net.lo && net.lo.rxBytes >= 0, 'loopback counters');
  const disks = diskStats();
  for (const d of Object.values(disks)) assert.ok(d.reads >= 0 && d.writeSectors >= 0);
  assert.ok(Array.isArray(pidsByComm(['no-such-process'])));
  assert.deepEqual(childPids(2 ** 30), []);
});

test('Prometheus text: first value per metric name, labels ignored', () => {
  const text = '# HELP x\nnodejs_eventloop_lag_p99_seconds 0.012\nprocess_cpu_seconds_total{a="b"} 3.5\nother 1\n';
  assert.deepEqual(scrapeValues(text, ['nodejs_eventloop_lag_p99_seconds', 'process_cpu_seconds_total']), {
    nodejs_eventloop_lag_p99_seconds: 0.012,
    process_cpu_seconds_total: 3.5,
  });
});

test('Redis INFO parsing', () => {
  const i = parseInfo('# Server\r\nredis_version:7.0.15\r\nkeyspace_hits:10\r\n\r\n');
  assert.equal(i.redis_version, '7.0.15');
  assert.equal(i.keyspace_hits, '10');
});

test('PostgreSQL sampler: transactions, activity, locks; pg_stat_statements recorded or explained', async (t) => {
  const db = await freshPostgres(t);
  if (!db) return;
  const s = new PostgresSampler(db.url);
  try {
    await s.start();
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query('CREATE TABLE t (id int primary key, v text)');
    for (let i = 0; i < 50; i++) await c.query('INSERT INTO t VALUES ($1, $2)', [i, 'x']);
    const sample = await s.sample();
    assert.ok(sample, 'the second sample has deltas');
    assert.ok(sample!.xactPerSec > 0, 'commits counted');
    assert.ok(sample!.total >= 1, 'our other connection shows in pg_stat_activity');
    assert.ok(s.pids.length >= 1, 'backend pids known');
    assert.ok(sample!.cacheHitRatio === null || (sample!.cacheHitRatio >= 0 && sample!.cacheHitRatio <= 1));
    // autovacuum as the server has it, and a notice exactly when it is off.
    const av = (await c.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0]!.autovacuum;
    assert.equal(s.info.autovacuum, av);
    assert.equal(
      s.notices().some((n) => /autovacuum is off/.test(n)),
      av === 'off',
    );
    await c.end();
    const fin = await s.finish();
    assert.ok((fin.run as { commits: number }).commits >= 50);
    if (s.statementsAvailable) {
      const st = fin.statements as { top: { query: string; calls: number }[]; slow: unknown[]; totalCalls: number };
      const ins = st.top.find((q) => /INSERT INTO t/i.test(q.query));
      assert.ok(ins && ins.calls === 50, "the run's INSERTs are among the top statements, counted over the run only");
      assert.ok(Array.isArray(st.slow));
      assert.ok(sample!.queriesPerSec !== null, 'query rate from pg_stat_statements');
    } else assert.equal(fin.statements, 'not collected: pg_stat_statements not in shared_preload_libraries');
  } finally {
    await db.drop();
  }
});

test('Redis sampler: INFO deltas', async (t) => {
  const skip = await redisSkip();
  if (skip) return t.skip(skip);
  const s = new RedisSampler(TEST_REDIS_URL);
  await s.start();
  await new Promise((r) => setTimeout(r, 20));
  const x = await s.sample();
  assert.ok(x);
  assert.ok(x!.commandsPerSec > 0, 'our own INFO commands count');
  assert.ok(x!.usedMemoryBytes > 0);
  assert.ok(x!.connectedClients >= 1);
  const fin = await s.finish();
  assert.ok(typeof fin.version === 'string');
});

test('Collector: a sample of every stream, not-applicable reasons for what a target lacks', async () => {
  const rows: [string, unknown][] = [];
  const c = new Collector(
    { nodes: [], local: true, pgProcesses: false, redisProcesses: false, iface: 'lo' },
    (s, r) => rows.push([s, r]),
    100,
  );
  await c.start();
  await new Promise((r) => setTimeout(r, 350));
  await c.stop();
  const streams = new Set(rows.map(([s]) => s));
  assert.ok(streams.has('process') && streams.has('network') && streams.has('disk'));
  const proc = c.rows.process[0] as { generator: { cpu: number; rssBytes: number } };
  assert.ok(proc.generator.rssBytes > 0);
  assert.match(c.notApplicable.postgres, /not applicable/);
  assert.match(c.notApplicable.redis, /not applicable/);
});

test('/proc/stat: busy excludes idle and iowait, steal is read apart (part of busy); the live file parses', () => {
  // user nice system idle iowait irq softirq steal guest guest_nice
  const c = parseProcStatCpu('cpu  100 5 50 800 20 0 10 15 0 0');
  assert.deepEqual(c, { total: 1000, busy: 180, steal: 15 });
  assert.deepEqual(parseProcStatCpu('cpu  100 0 50 800'), { total: 950, busy: 150, steal: 0 }, 'old kernels: no steal field');
  assert.equal(stealPercent({ total: 1000, steal: 10 }, { total: 1200, steal: 30 }, 2), 20, '20 of 200 jiffies on 2 cores: 20% of a core');
  assert.ok(Number.isNaN(stealPercent(null, { total: 1, steal: 0 }, 2)), 'no first reading: not measured');
  const live = machineCpu();
  if (live) assert.ok(live.total > 0 && live.steal >= 0 && live.steal <= live.busy && live.busy <= live.total);
});
