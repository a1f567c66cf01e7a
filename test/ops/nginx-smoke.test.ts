// CI: `nchat loadtest --target <nginx> --profile smoke` (the CLI, as an operator runs it) through
// Debian's nginx with ops/nginx/nchat.conf in front of two nodes on PostgreSQL + Redis. Checks the
// run's data (test/loadtest/check-run.ts) and the correctness counts: every connection made,
// every chat message delivered to every online recipient, no failed API request. Latency
// thresholds depend on the (shared) machine: printed, not asserted. The short functional check
// through nginx is nginx.test.ts.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pgSkipReason } from '../helpers/postgres.js';
import { freshRedis, redisSkip } from '../helpers/redis.js';
import { checkRun } from '../loadtest/check-run.js';
import { runCleanups, twoNodes } from '../faults/cluster.js';
import { type Nginx, nginxSkip, startNginx } from './nginx.js';

const skip = nginxSkip() || (await pgSkipReason()) || (await redisSkip());
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const METRICS_TOKEN = 'nginx-smoke-metrics-token-0123';
const SCENARIOS = ['ws', 'messages', 'api'];

describe('ops: the smoke load test through nginx in front of two nodes', { skip: skip || false }, () => {
  let ngx: Nginx | undefined;
  const out = mkdtempSync(join(tmpdir(), 'lt-nginx-'));
  after(async () => {
    await ngx?.stop();
    await runCleanups();
    rmSync(out, { recursive: true, force: true });
  });

  test('nchat loadtest --target <nginx> --profile smoke: the data adds up, nothing lost', async () => {
    const [a, b] = await twoNodes('nginxsmoke', freshRedis(), { NCHAT_TRUST_PROXY: '127.0.0.1', NCHAT_METRICS_TOKEN: METRICS_TOKEN });
    ngx = await startNginx([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]);
    const dir = join(out, 'run');
    const t0 = Date.now();
    const args = ['--import', 'tsx', 'src/cli.ts', 'loadtest', '--target', ngx.origin, '--profile', 'smoke'];
    args.push('--scenarios', SCENARIOS.join(','), '--out', dir, '--quiet');
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, NCHAT_METRICS_TOKEN: METRICS_TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    const seconds = (Date.now() - t0) / 1000;
    assert.ok(code === 0 || code === 1, `loadtest exit ${code} (0 pass, 1 a threshold failed); output:\n${log.slice(-3000)}`);
    const { problems, summary } = checkRun(dir, SCENARIOS);
    const verdicts = summary.thresholds as { metric: string; expression: string; actual: number | null; verdict: string }[];
    console.log(
      `smoke through nginx, 2 nodes (PostgreSQL + Redis): ${seconds.toFixed(1)} s, exit ${code}, status ${summary.run.status}\n` +
        verdicts.map((v) => `  ${v.metric} ${v.expression}: ${v.verdict} (${v.actual})`).join('\n'),
    );
    assert.deepEqual(problems, [], `run data problems (run dir ${dir})`);
    const count = (sc: string, k: string): number => {
      const m = summary.scenarios[sc]?.metrics?.[k];
      assert.ok(m && typeof m.count === 'number', `${sc}.${k} is reported with a count`);
      return m.count;
    };
    assert.ok(count('ws', 'ws_sessions') > 0);
    for (const k of ['ws_connect_errors', 'ws_reconnect_errors', 'ws_server_errors', 'ws_msgs_missing'])
      assert.equal(count('ws', k), 0, `ws: ${k}`);
    assert.ok(count('messages', 'msg_sent') > 0);
    for (const k of [
      'msg_setup_connect_errors',
      'msg_ws_disconnects_unexpected',
      'msg_send_failed',
      'msg_delivery_failed',
      'msg_receipts_missing',
    ])
      assert.equal(count('messages', k), 0, `messages: ${k}`);
    assert.ok(count('api', 'api_reqs') > 0);
    assert.equal(count('api', 'api_errors'), 0, `api: failed requests ${JSON.stringify(summary.scenarios.api.tables?.errors)}`);
    assert.equal(summary.target.health.length, 1, 'one target URL: nginx');
  });
});
