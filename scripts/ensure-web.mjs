#!/usr/bin/env node
// Builds the web client (vite build → web/dist) when web/dist is missing or older than any file
// under web/src, web/index.html, web/vite.config.ts or src/protocol (whose types the client
// uses). `npm start` runs this first (prestart), so a fresh clone's `npm install && npm start`
// serves the client; the tests run it too. A directory lock keeps concurrent callers from
// building over each other: a second caller waits for the first.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const web = join(root, 'web');
const index = join(web, 'dist', 'index.html');
const lock = join(web, '.build-lock');

function newest(p) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = 0;
  for (const n of readdirSync(p)) if (n !== 'node_modules') t = Math.max(t, newest(join(p, n)));
  return t;
}

export function webIsStale() {
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  const sources = [join(web, 'src'), join(web, 'index.html'), join(web, 'vite.config.ts'), join(root, 'src', 'protocol')];
  return sources.some((s) => existsSync(s) && newest(s) > built);
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

export function ensureWeb({ quiet = false } = {}) {
  if (!webIsStale()) return 0;
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Someone else is building; a lock older than 2 minutes is a crashed build.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      if (i > 600) throw new Error('web build lock held for too long');
      sleep(200);
    }
  }
  try {
    if (!webIsStale()) return 0;
    if (!quiet) console.log('building the web client (web/dist)…');
    const r = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules', 'vite', 'bin', 'vite.js'),
        'build',
        '--config',
        join(web, 'vite.config.ts'),
        '--logLevel',
        quiet ? 'error' : 'warn',
      ],
      {
        cwd: root,
        stdio: 'inherit',
      },
    );
    return r.status ?? 1;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(ensureWeb());
