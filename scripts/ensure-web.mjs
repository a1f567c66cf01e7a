#!/usr/bin/env node
// Builds the web client (vite build → web/dist) when web/dist is missing or older than any file
// under web/src, web/index.html, web/vite.config.ts or src/protocol (whose types the client
// uses). `npm start` runs this first (prestart), so a fresh clone's `npm install && npm start`
// serves the client; the tests run it too. A directory lock keeps concurrent callers from
// building over each other: a second caller waits for the first.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { newestMtime, withBuildLock } from './build-lock.mjs';

const root = new URL('..', import.meta.url).pathname;
const web = join(root, 'web');
const index = join(web, 'dist', 'index.html');
const lock = join(web, '.build-lock');

export function webIsStale() {
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  const sources = [join(web, 'src'), join(web, 'index.html'), join(web, 'vite.config.ts'), join(root, 'src', 'protocol')];
  return sources.some((s) => existsSync(s) && newestMtime(s) > built);
}

export function ensureWeb({ quiet = false } = {}) {
  if (!webIsStale()) return 0;
  return withBuildLock(lock, 'web', () => {
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
  });
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(ensureWeb());
