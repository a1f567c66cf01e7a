#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with Node's built-in test runner (through tsx),
// after Biome's format and lint check (`biome ci`: an unformatted file or a lint error fails the
// run; `npm run format` fixes formatting) and a type check of everything tsc sees (src/, test/, bench/, scripts/: a type error in a
// test fails the run too). Node 20's --test does not expand globs, so the file list is built here.
// Usage: npm test [-- substring-filter ...]   (a filtered run skips the lint and type checks)
//   NCHAT_SKIP_TYPECHECK=1   skip the type check locally; refused when CI=true (CI must type-check)
//   NCHAT_TEST_TIMEOUT_MS    timeout per test file (default 300000): a hung test fails its file instead of
//                            hanging CI. On Node 20, --test-timeout bounds each file's run as a whole (its
//                            tests do not inherit it), so the default covers the slowest file: the load-test
//                            smoke runs (two runs asserted under 90 s each, plus the Ctrl-C run).
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const ci = !!process.env.CI && !['false', '0'].includes(process.env.CI);
if (process.env.NCHAT_SKIP_TYPECHECK && ci) {
  console.error('NCHAT_SKIP_TYPECHECK is refused under CI: CI runs the type check');
  process.exit(2);
}
const timeoutMs = Number(process.env.NCHAT_TEST_TIMEOUT_MS ?? 300_000);
if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
  console.error(`NCHAT_TEST_TIMEOUT_MS: expected a positive integer of milliseconds, got "${process.env.NCHAT_TEST_TIMEOUT_MS}"`);
  process.exit(2);
}
const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}
const files = ['src', 'test']
  .flatMap((d) => {
    try {
      return walk(join(root, d));
    } catch {
      return [];
    }
  })
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
if (filters.length === 0) {
  const lint = spawnSync('npx', ['biome', 'ci', '--colors=off', '.'], { cwd: root, stdio: 'inherit' });
  if (lint.status !== 0) {
    console.error('biome ci failed: run `npm run format` for formatting, `npm run lint` for the findings');
    process.exit(lint.status ?? 1);
  }
}
if (!process.env.NCHAT_SKIP_TYPECHECK && filters.length === 0) {
  const tc = spawnSync('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'], { cwd: root, stdio: 'inherit' });
  if (tc.status !== 0) {
    console.error('type check failed');
    process.exit(tc.status ?? 1);
  }
  // The web client has its own tsconfig (DOM, bundler resolution); vite build does not type-check.
  const tcWeb = spawnSync('npx', ['tsc', '-p', 'web/tsconfig.json'], { cwd: root, stdio: 'inherit' });
  if (tcWeb.status !== 0) {
    console.error('web client type check failed (npx tsc -p web/tsconfig.json)');
    process.exit(tcWeb.status ?? 1);
  }
}
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', `--test-timeout=${timeoutMs}`, '--test-reporter=spec', ...files],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NCHAT_LOG_LEVEL: process.env.NCHAT_LOG_LEVEL ?? 'silent' },
  },
);
// The web client's component tests (vitest + jsdom, web/src/**/*.test.tsx) after the node tests;
// a filtered run includes them only when a filter names "web".
let webStatus = 0;
if (filters.length === 0 || filters.some((s) => s.includes('web'))) {
  const w = spawnSync('npx', ['vitest', 'run', '--root', 'web'], { cwd: root, stdio: 'inherit' });
  webStatus = w.status ?? 1;
  if (webStatus !== 0) console.error('web component tests failed (npx vitest run --root web)');
}
process.exit(r.status || webStatus);
