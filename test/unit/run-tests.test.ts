// scripts/run-tests.mjs (what `npm test` runs): CI cannot skip the type check, and a malformed
// per-file timeout is refused rather than replaced by a default. Both checks come before any
// test file runs; the file filter given matches nothing, so a missing check shows as exit 1
// ("no test files matched") instead of exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../scripts/run-tests.mjs', import.meta.url));
const run = (env: Record<string, string>) =>
  spawnSync(process.execPath, [script, 'no-test-file-path-contains-this'], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });

test('NCHAT_SKIP_TYPECHECK is refused under CI=true (exit 2, says why)', () => {
  const r = run({ CI: 'true', NCHAT_SKIP_TYPECHECK: '1' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /NCHAT_SKIP_TYPECHECK is refused under CI/);
  const local = run({ CI: 'false', NCHAT_SKIP_TYPECHECK: '1' });
  assert.equal(local.status, 1, 'outside CI the skip is allowed (and then no file matches)');
  assert.match(local.stderr, /no test files matched/);
});

test('a malformed NCHAT_TEST_TIMEOUT_MS is refused', () => {
  const r = run({ CI: 'false', NCHAT_TEST_TIMEOUT_MS: '5m' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /NCHAT_TEST_TIMEOUT_MS: expected a positive integer/);
});
