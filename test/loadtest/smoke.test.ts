// CI: the smoke profile against a spawned server — SQLite, then PostgreSQL + Redis with two
// nodes — checking the run's data, not only its exit status (see check-run.ts). Latency
// thresholds depend on the machine and are reported, not asserted; correctness is asserted on
// the counts themselves (a threshold such as count<100 or rate<0.01 would let failures through):
// no run error, no failed connection (steady, churn, reconnect, setup), no failed API request
// (429 included), every message delivered to every online recipient with nothing dropped and no
// recipient disconnected, chat messages actually sent and received in the ws part, histogram
// counts equal to request counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profileConfig } from '../../src/loadtest/config.js';
import { runLoadtest } from '../../src/loadtest/runner.js';
import { checkRun } from './check-run.js';
import { pgSkipReason, adminUrl } from '../helpers/postgres.js';
import { redisSkip, TEST_REDIS_URL } from '../helpers/redis.js';

const SCENARIOS = ['ws', 'messages', 'api'];
const CORRECTNESS = new Set([
  'ws_connect_errors',
  'ws_connect_success',
  'ws_msgs_missing',
  'msg_delivery_success',
  'msg_rate_achieved',
  'msg_ws_disconnects_unexpected',
  'api_req_failed',
]);

/** The header's claims, on the measured counts. */
function assertCorrect(s: any) {
  const count = (sc: string, k: string): number => {
    const m = s.scenarios[sc]?.metrics?.[k];
    assert.ok(m && typeof m.count === 'number', `${sc}.${k} is reported with a count`);
    return m.count;
  };
  // No failed connection.
  assert.ok(count('ws', 'ws_sessions') > 0, 'ws: sessions opened');
  for (const k of ['ws_connect_errors', 'ws_churn_errors', 'ws_reconnect_errors', 'ws_server_errors'])
    assert.equal(count('ws', k), 0, `ws: ${k}`);
  assert.ok(count('ws', 'ws_churn_connects') > 0, 'ws: churn connections opened');
  assert.equal(count('messages', 'msg_setup_connect_errors'), 0, 'messages: every member connected');
  assert.equal(count('messages', 'msg_ws_disconnects_unexpected'), 0, 'messages: no recipient socket closed by the server');
  // No failed API request (429s are counted among the errors).
  assert.ok(count('api', 'api_reqs') > 0, 'api: requests made');
  assert.equal(count('api', 'api_errors'), 0, `api: failed requests ${JSON.stringify(s.scenarios.api.tables.errors)}`);
  assert.equal(count('api', 'api_rate_limited'), 0, 'api: no 429');
  // Every message delivered: accepted = attempted, nothing failed or dropped, every receipt arrived.
  const sent = count('messages', 'msg_sent');
  assert.ok(sent > 0, 'messages: sent');
  assert.equal(sent, count('messages', 'msg_attempted'), 'messages: every attempted send accepted');
  for (const k of ['msg_send_failed', 'msg_dropped_iterations', 'msg_delivery_failed', 'msg_receipts_missing'])
    assert.equal(count('messages', k), 0, `messages: ${k}`);
  assert.equal(count('messages', 'msg_delivered'), sent, 'messages: every accepted message reached every online member');
  // The ws part's chat really ran: messages sent, acknowledged and received, none lost.
  const chat = count('ws', 'ws_msgs_sent');
  assert.ok(chat > 0, 'ws: chat messages sent');
  assert.ok(count('ws', 'ws_msgs_acked') > 0 && count('ws', 'ws_msgs_acked') <= chat, 'ws: chat messages acknowledged by the server');
  assert.ok(count('ws', 'ws_msgs_expected') >= chat, 'ws: each chat message expected by at least its sender');
  assert.ok(count('ws', 'ws_msgs_received') > 0, 'ws: chat messages received');
  assert.equal(count('ws', 'ws_msgs_missing'), 0, 'ws: no chat message lost');
}

async function smoke(spawn: { store: 'sqlite' | 'postgres'; redis: boolean; nodes: number }) {
  const out = mkdtempSync(join(tmpdir(), `lt-smoke-${spawn.store}-`));
  const logs: string[] = [];
  const t0 = Date.now();
  // The three chat scenarios; files has its own test (files.test.ts).
  const cfg = profileConfig('smoke');
  cfg.scenarios = SCENARIOS;
  const r = await runLoadtest({
    cfg,
    spawn: { ...spawn, postgresUrl: adminUrl(), redisUrl: TEST_REDIS_URL },
    outDir: out,
    argv: ['(test)'],
    signal: new AbortController().signal,
    log: (m) => logs.push(m),
    progress: false,
  });
  const seconds = (Date.now() - t0) / 1000;
  const { problems, summary } = checkRun(r.dir, SCENARIOS);
  const verdicts = summary.thresholds as { metric: string; expression: string; actual: number | null; verdict: string }[];
  // Printed so a CI log shows the figures whichever way the run went.
  console.log(
    `smoke ${spawn.store}${spawn.redis ? '+redis' : ''} x${spawn.nodes}: ${seconds.toFixed(1)} s, status ${summary.run.status}\n` +
      verdicts.map((v) => `  ${v.metric} ${v.expression}: ${v.verdict} (${v.actual})`).join('\n') +
      `\n  notices: ${summary.notices.join(' | ')}`,
  );
  assert.deepEqual(problems, [], `data problems (run dir ${r.dir}); log:\n${logs.join('\n')}`);
  for (const v of verdicts)
    if (CORRECTNESS.has(v.metric)) assert.equal(v.verdict, 'pass', `${v.metric} ${v.expression}: actual ${v.actual}`);
  for (const m of CORRECTNESS)
    assert.ok(
      verdicts.some((v) => v.metric === m),
      `the smoke profile has a threshold on ${m}`,
    );
  assertCorrect(summary);
  assert.ok(
    summary.notices.some((n: string) => /NCHAT_LOADTEST_ALLOWANCE=1/.test(n)),
    'rate-limit handling is stated',
  );
  assert.equal(summary.target.health[0].store, spawn.store);
  assert.ok(seconds < 90, `smoke profile took ${seconds} s (must stay under 90 s)`);
  rmSync(out, { recursive: true, force: true });
  return summary;
}

test('smoke profile, spawned SQLite server: the data adds up', async () => {
  await smoke({ store: 'sqlite', redis: false, nodes: 1 });
});

test('smoke profile, spawned PostgreSQL + Redis, two nodes: the data adds up', async (t) => {
  const pgSkip = await pgSkipReason();
  if (pgSkip) return t.skip(pgSkip);
  const rSkip = await redisSkip();
  if (rSkip) return t.skip(rSkip);
  const s = await smoke({ store: 'postgres', redis: true, nodes: 2 });
  assert.equal(s.target.health.length, 2);
  assert.equal(s.target.health[0].broker, 'redis');
  assert.ok(typeof s.postgres === 'object', 'PostgreSQL statistics collected');
  assert.ok(typeof s.redis === 'object', 'Redis INFO collected');
});

test('Ctrl-C (abort) stops cleanly and keeps what was measured', async () => {
  const out = mkdtempSync(join(tmpdir(), 'lt-abort-'));
  const ac = new AbortController();
  const cfg = profileConfig('smoke');
  cfg.scenarios = SCENARIOS;
  cfg.ws.stages = [
    { duration: 3, target: 20 },
    { duration: 60, target: 20 },
  ];
  const timer = setInterval(() => {
    // Abort once the ws scenario has run a few seconds (its timeline has rows).
    try {
      if (readFileSync(join(out, 'timelines', 'ws.ndjson'), 'utf8').split('\n').length > 4) {
        ac.abort();
        clearInterval(timer);
      }
    } catch {
      /* not yet */
    }
  }, 200);
  const r = await runLoadtest({
    cfg,
    spawn: { store: 'sqlite', redis: false, nodes: 1, postgresUrl: adminUrl(), redisUrl: TEST_REDIS_URL },
    outDir: out,
    argv: ['(test)'],
    signal: ac.signal,
    log: () => undefined,
    progress: false,
  });
  clearInterval(timer);
  assert.equal(r.exitCode, 1);
  const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  assert.equal(s.run.status, 'INTERRUPTED');
  assert.deepEqual(Object.keys(s.notRun).sort(), ['api', 'messages']);
  assert.ok(s.scenarios.ws.metrics.ws_sessions.count > 0, 'what was measured before the stop is kept');
  assert.ok(s.scenarios.ws.info.seconds < 30, 'stopped well before the 63 s of stages');
  const { problems } = checkRun(out, ['ws']);
  assert.deepEqual(problems, []);
  rmSync(out, { recursive: true, force: true });
});
