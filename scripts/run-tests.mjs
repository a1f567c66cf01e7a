#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with Node's built-in test runner (through tsx),
// after a type check. Node 20's --test does not expand globs, so the file list is built here.
// Usage: npm test [-- substring-filter ...]
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

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
const files = ['src', 'test'].flatMap((d) => { try { return walk(join(root, d)); } catch { return []; } })
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
if (!process.env.NCHAT_SKIP_TYPECHECK && filters.length === 0) {
  const tc = spawnSync('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'], { cwd: root, stdio: 'inherit' });
  if (tc.status !== 0) {
    console.error('type check failed');
    process.exit(tc.status ?? 1);
  }
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NCHAT_LOG_LEVEL: process.env.NCHAT_LOG_LEVEL ?? 'silent' },
});
process.exit(r.status ?? 1);
