// scripts/build-server.mjs: the compiled server in dist/ that `npm start` and
// `nchat loadtest --spawn` run. Builds it (a no-op when fresh), then starts `node dist/cli.js
// serve` on a temporary SQLite data dir and goes through a message and a search: the search
// readers are worker threads whose boot file must find the compiled reader next to it, with no
// tsx loader in the process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Api, unique } from '../helpers/server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('dist/ is built, fresh afterwards, and serves chat and search without tsx', async (t) => {
  const built = spawnSync(process.execPath, [join(root, 'scripts', 'build-server.mjs')], { cwd: root, encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  assert.ok(existsSync(join(root, 'dist', 'cli.js')));
  assert.ok(existsSync(join(root, 'dist', 'server', 'store', 'sqlite', 'search-reader.js')));
  const stale = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', "const m = await import('./scripts/build-server.mjs'); process.stdout.write(String(m.serverIsStale()))"],
    { cwd: root, encoding: 'utf8' },
  );
  assert.equal(stale.stdout, 'false', stale.stderr);

  const dir = mkdtempSync(join(tmpdir(), 'nchat-dist-'));
  const child = spawn(process.execPath, [join(root, 'dist', 'cli.js'), 'serve'], {
    cwd: root,
    env: {
      ...process.env,
      NCHAT_PORT: '0',
      NCHAT_HOST: '127.0.0.1',
      NCHAT_DATA_DIR: dir,
      NCHAT_ARGON2_MEMORY_KIB: '1024',
      NCHAT_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on" within 30 s: ${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/+$/, ''));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d));
    child.once('exit', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
  });
  // No tsx in the compiled server's process (its loader is what dist/ saves).
  assert.doesNotMatch(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8'), /tsx/);

  const api = new Api(url);
  const username = unique('d');
  const signup = await api.post('/api/auth/signup', { email: `${username}@example.test`, username, password: 'correct horse battery' });
  assert.equal(signup.status, 201, JSON.stringify(signup.body));
  const me = api.as(signup.body.accessToken);
  const channel = await me.post('/api/channels', { name: unique('dist'), type: 'public' });
  assert.equal(channel.status, 201, JSON.stringify(channel.body));
  const word = `compiled${Date.now().toString(36)}`;
  const sent = await me.post(`/api/channels/${channel.body.id}/messages`, { text: `the ${word} server answers` });
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  // Indexing runs after the commit, in batches: poll until the reader thread finds it.
  let found: unknown[] = [];
  for (let i = 0; i < 100 && found.length === 0; i++) {
    const r = await me.get(`/api/search?q=${word}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    found = r.body.results;
    if (found.length === 0) await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(found.length, 1, `the search reader (a worker thread booted from dist/) found the message: ${out}`);
});
