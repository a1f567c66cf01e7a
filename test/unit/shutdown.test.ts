// docs/OPERATIONS.md "Shutdown": SIGTERM drains (health 503, sockets closed with 1012, then
// HTTP, broker and store close) and exits 0; a second signal exits at once. Checked on the real
// command, `node bin/nchat.js serve`, with a temporary SQLite data dir. The drain is held open on
// purpose, so that "at once" is measured against a drain still running: a WebSocket client that
// never answers the close handshake (held until the node terminates it, ~2 s) and an HTTP request
// whose body never finishes (held until NCHAT_SHUTDOWN_GRACE, set to 8 s here). The margins are
// wide (a drain of 5 s or more against an exit within 2.5 s) because on a loaded machine a
// process needs a second just to be scheduled: CI once saw the earlier 1 s margins fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mute } from '../realtime/raw-ws.js';

const bin = fileURLToPath(new URL('../../bin/nchat.js', import.meta.url));

async function serve(): Promise<{
  child: ChildProcess;
  url: string;
  port: number;
  exited: Promise<{ code: number | null; at: number }>;
  cleanup(): void;
  /** What the server logged (debug level), for failure messages. */
  logs(): string;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'nchat-sigterm-'));
  const child = spawn(process.execPath, [bin, 'serve'], {
    env: {
      ...process.env,
      NCHAT_PORT: '0',
      NCHAT_HOST: '127.0.0.1',
      NCHAT_DATA_DIR: dir,
      NCHAT_LOG_LEVEL: 'debug',
      NCHAT_ARGON2_MEMORY_KIB: '1024',
      NCHAT_SHUTDOWN_GRACE: '8000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; at: number }>((r) => child.once('exit', (code) => r({ code, at: Date.now() })));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no "listening on" within 30 s: ${out}`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
    child.stderr!.on('data', (d) => (out += d));
    void exited.then(({ code }) => reject(new Error(`exited ${code} before listening: ${out}`)));
  });
  return {
    child,
    url,
    port: Number(new URL(url).port),
    exited,
    logs: () => out.slice(-4000),
    cleanup: () => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Holds a drain open: a mute WebSocket and a request whose body never completes. */
async function heldDrain(url: string, port: number): Promise<{ destroy(): void }> {
  const r = await fetch(url + '/api/auth/signup', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'o@example.test', username: 'owner', password: 'correct horse battery' }),
  });
  assert.equal(r.status, 201);
  const { accessToken } = (await r.json()) as { accessToken: string };
  const ws = await mute(port, accessToken);
  const body = net.connect(port, '127.0.0.1');
  await new Promise((res) => body.once('connect', res));
  body.on('error', () => undefined);
  body.write(
    `POST /api/auth/signin HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"email":`,
  );
  return {
    destroy() {
      ws.destroy();
      body.destroy();
    },
  };
}

test('one SIGTERM drains (health 503 meanwhile) and exits 0; a second SIGTERM exits at once with 130', { timeout: 180_000 }, async () => {
  const one = await serve();
  const two = await serve();
  try {
    const heldOne = await heldDrain(one.url, one.port);
    const heldTwo = await heldDrain(two.url, two.port);
    const t1 = Date.now();
    one.child.kill('SIGTERM');
    two.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(one.child.exitCode, null, 'still draining 400 ms after the first SIGTERM');
    assert.equal((await fetch(one.url + '/api/health')).status, 503);
    assert.equal(two.child.exitCode, null);
    const t2 = Date.now();
    two.child.kill('SIGTERM');
    const second = await two.exited;
    assert.equal(second.code, 130);
    assert.ok(second.at - t2 < 2500, `second SIGTERM: exited ${second.at - t2} ms after it`);
    const first = await one.exited;
    assert.equal(first.code, 0, 'a single SIGTERM finishes the drain and exits 0');
    assert.ok(
      first.at - t1 >= 5000,
      `the single SIGTERM run drained for ${first.at - t1} ms (held by the silent client and the unfinished request); its log:\n${one.logs()}`,
    );
    assert.ok(first.at > second.at, 'the second signal cut the drain short');
    heldOne.destroy();
    heldTwo.destroy();
  } finally {
    one.cleanup();
    two.cleanup();
  }
});
