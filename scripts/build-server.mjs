#!/usr/bin/env node
// Compiles the server's TypeScript (src/**/*.ts, tests excluded) to plain JavaScript in dist/,
// one file per source file (the sources already import with `.js` specifiers), when dist/ is
// missing or older than any file under src/. `npm start` runs this first (prestart), and
// `nchat loadtest --spawn` before it starts nodes, so both run what operators run.
//
// Why: running the server through tsx's loader costs ~36 MB of RSS for the life of the process
// (the loader's hooks thread and its caches: idle server 190 MB under tsx, 154 MB from dist/,
// docs/PERFORMANCE.md), and every start transpiles again. Types are not checked here (that is
// `npm run typecheck`); esbuild only strips them, as tsx does.
//
// dist/ is rebuilt whole into a temporary directory and swapped in under a lock, so a concurrent
// caller never runs a half-written tree; a lock older than 2 minutes is a crashed build.
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { newestMtime, withBuildLock } from './build-lock.mjs';
import { dirname, join, relative } from 'node:path';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
const src = join(root, 'src');
const dist = join(root, 'dist');
const stamp = join(dist, '.built');
const lock = join(root, '.dist-build-lock');

/** Every file under dir, recursively. */
function walk(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

export function serverIsStale() {
  if (!existsSync(stamp)) return true;
  // Directories too: a deleted or renamed source changes its directory's mtime.
  return newestMtime(src, { dirs: true }) > statSync(stamp).mtimeMs;
}

function build() {
  const tmp = join(root, `.dist-tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  // The stamp carries the time the sources were read, so an edit made during the build is newer.
  const started = new Date();
  const files = walk(src);
  const entryPoints = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'));
  // Loaded here only: bin/nchat.js reads serverIsStale() on every start.
  const { buildSync } = createRequire(import.meta.url)('esbuild');
  buildSync({ entryPoints, outdir: tmp, outbase: src, format: 'esm', platform: 'node', target: 'node20', logLevel: 'error' });
  // Plain modules (the worker threads' boot files) are copied as they are.
  for (const f of files.filter((f) => f.endsWith('.mjs'))) {
    const to = join(tmp, relative(src, f));
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(f, to);
  }
  writeFileSync(join(tmp, '.built'), `${started.toISOString()}\n`);
  utimesSync(join(tmp, '.built'), started, started);
  rmSync(dist, { recursive: true, force: true });
  renameSync(tmp, dist);
}

/** Builds dist/ when stale; returns true when it built. Throws when the build fails. */
export function ensureServer({ quiet = false } = {}) {
  if (!serverIsStale()) return false;
  return withBuildLock(
    lock,
    'server',
    () => {
      if (!serverIsStale()) return false;
      if (!quiet) console.log('compiling the server (src → dist)…');
      build();
      return true;
    },
    100,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) ensureServer();
