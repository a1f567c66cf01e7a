// Shared by the build-when-stale scripts (ensure-web.mjs, build-server.mjs): the newest mtime
// under a path, and a directory lock so that concurrent callers (parallel test files, npm start
// beside a load test) never build over each other.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The newest mtime of the files under `p` (node_modules skipped). With `dirs`, directories' own
 * mtimes count too, so a deleted or renamed file makes the tree newer.
 */
export function newestMtime(p, { dirs = false } = {}) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = dirs ? st.mtimeMs : 0;
  for (const n of readdirSync(p)) if (n !== 'node_modules') t = Math.max(t, newestMtime(join(p, n), { dirs }));
  return t;
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const STALE_LOCK_MS = 120_000;

/**
 * Runs `fn` holding the lock directory `lock`; a second caller waits (polling every `pollMs`) for
 * up to 2 minutes. A lock older than 2 minutes is a crashed build and is taken over.
 */
export function withBuildLock(lock, what, fn, pollMs = 200) {
  const giveUp = Date.now() + STALE_LOCK_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > giveUp) throw new Error(`${what} build lock held for too long`);
      sleep(pollMs);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
