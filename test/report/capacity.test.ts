// nchat loadtest --find-capacity on a real spawned server: two short steps where the second is
// made to fail a threshold (msg_rate_achieved value<15 with 10 → 20 msg/s; latency thresholds are
// lifted so a busy machine cannot fail step 1 first), so the search must
// bracket the capacity at step 1, write capacity.json, a report per step, and the report's
// Current Capacity table must show that maximum and the headroom computed from it.
// Also: the step configs (pure) and the flags' usage errors.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { stepConfig } from '../../src/loadtest/capacity.js';
import { parseArgs } from '../../src/loadtest/cli.js';
import { profileConfig } from '../../src/loadtest/config.js';

const ROOT = join(import.meta.dirname, '..', '..');
const base = mkdtempSync(join(tmpdir(), 'nchat-capacity-test-'));
after(() => rmSync(base, { recursive: true, force: true }));

test('step i multiplies users (and stage targets) and rate by factor^i', () => {
  const c = profileConfig('smoke');
  const s2 = stepConfig(c, 2, 2);
  assert.equal(s2.ws.users, c.ws.users * 4);
  assert.equal(s2.messages.rate, c.messages.rate * 4);
  assert.deepEqual(
    s2.ws.stages.map((s) => s.target),
    c.ws.stages.map((s) => Math.min(s2.ws.users, s.target * 4)),
  );
  assert.deepEqual(stepConfig(c, 0, 3).ws, c.ws, 'step 0 is the base config');
});

test('capacity flags: usage errors', () => {
  const base = ['--spawn', 'sqlite'];
  assert.throws(() => parseArgs([...base, '--capacity-steps', '3']), /need --find-capacity/);
  assert.throws(() => parseArgs([...base, '--find-capacity', '--capacity-steps', '0']), /--capacity-steps: expected an integer 1–20/);
  assert.throws(() => parseArgs([...base, '--find-capacity', '--capacity-factor', '1']), /--capacity-factor/);
  assert.deepEqual(parseArgs([...base, '--find-capacity']).capacity, { steps: 5, factor: 2 });
});

test('--find-capacity brackets the capacity at the last step that held and the report shows it', async () => {
  const out = join(base, 'cap');
  const args = [
    '--import',
    'tsx',
    join(ROOT, 'src', 'cli.ts'),
    'loadtest',
    '--spawn',
    'sqlite',
    '--profile',
    'smoke',
    '--scenarios',
    'ws,messages',
    '--users',
    '10',
    '--rate',
    '10',
    '--duration',
    '2s',
    '--set',
    'ws.stages=[{"duration":1,"target":10},{"duration":1,"target":10},{"duration":1,"target":0}]',
    '--set',
    'messages.drainMs=2000',
    // Chat often enough that the short hold sends some (a ws part with no chat fails ws_msgs_missing as "not measured").
    '--set',
    'ws.msgPerUserPerMin=120',
    '--threshold',
    'msg_rate_achieved=value<15',
    // Latency thresholds out of reach of a loaded shared machine, so only the rate decides the steps.
    '--threshold',
    'msg_e2e=p(95)<60000,p(99)<60000,max<60000',
    '--threshold',
    'ws_msg_e2e=p(95)<60000',
    '--threshold',
    'ws_connecting=p(95)<60000,p(99)<60000',
    '--find-capacity',
    '--capacity-steps',
    '3',
    '--out',
    out,
    '--quiet',
  ];
  const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(process.execPath, args, { cwd: ROOT, timeout: 150_000 }, (err, _o, stderr) => resolve({ code: err ? 1 : 0, stderr })),
  );
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const cap = JSON.parse(readFileSync(join(out, 'capacity.json'), 'utf8'));
  assert.equal(cap.steps.length, 2, 'stopped at the first failing step');
  assert.deepEqual(
    cap.steps.map((s: { users: number; rate: number; status: string }) => [s.users, s.rate, s.status]),
    [
      [10, 10, 'PASSED'],
      [20, 20, 'FAILED'],
    ],
  );
  assert.deepEqual(
    cap.steps[1].failed.map((f: { metric: string }) => f.metric),
    ['msg_rate_achieved'],
  );
  assert.equal(cap.currentMax.users, 10);
  assert.equal(cap.bracketed, true);
  for (const s of ['step-1', 'step-2']) assert.ok(existsSync(join(out, s, 'report.md')), `${s} has its report`);
  const md = readFileSync(join(out, 'step-2', 'report.md'), 'utf8');
  const row = md.split('\n').find((l) => l.startsWith('| Concurrent Users |') && l.includes('failed'));
  assert.ok(row, 'Current Capacity row for users');
  assert.match(row, /\| 10 \(step 2 at 20 users \/ 20 msg\/s failed\) \| 20 \| -100(\.00)?% \|/, 'step 2 tested 20 against a max of 10');
  assert.doesNotMatch(md, /no --find-capacity run\) \|/, 'Current Max is measured');
});
