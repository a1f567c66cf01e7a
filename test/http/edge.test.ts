// The HTTP edge against slow, anonymous and proxied clients, on a real server over raw sockets:
// request/headers timeouts (and WebSockets unaffected by them), 401 before a body is read,
// trusted proxies and per-IP budgets, /metrics not public, owner-only data files.
// SQLite only: nothing here touches the store beyond what every suite already covers on both.
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo } from 'node:net';
import { mkdtemp, rm, stat, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestServer, startTestServerWithMetrics, unique, type TestServer } from '../helpers/server.js';
import { freePort } from '../helpers/redis.js';
import { Client } from '../realtime/harness.js';
import { assertError, createChannel, send } from './util.js';

type Srv = TestServer & { stop(): Promise<void> };

/** Opens a raw TCP connection, writes `head`, then one byte of `trickle` every `everyMs`; resolves when the server closes it. */
function rawExchange(
  port: number,
  head: string,
  trickle = '',
  everyMs = 200,
): Promise<{ text: string; ms: number; firstByteMs: number | undefined }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const s = connect(port, '127.0.0.1');
    let text = '';
    let firstByteMs: number | undefined;
    let i = 0;
    const timer = setInterval(() => {
      if (i < trickle.length && !s.destroyed) s.write(trickle[i++]);
    }, everyMs);
    s.on('data', (d) => {
      firstByteMs ??= Date.now() - t0;
      text += d.toString('latin1');
    });
    s.on('error', () => undefined); // a reset after the answer is the server closing: fine
    s.on('close', () => {
      clearInterval(timer);
      resolve({ text, ms: Date.now() - t0, firstByteMs });
    });
    s.write(head);
    setTimeout(() => {
      clearInterval(timer);
      s.destroy();
      reject(new Error(`server kept the connection open for 10 s; got: ${text.slice(0, 200)}`));
    }, 10_000).unref();
  });
}

const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
/** The JSON body of the first response in `raw` (a 408 for the unfinished body may follow it). */
function bodyOf(raw: string): any {
  const start = raw.indexOf('\r\n\r\n') + 4;
  const len = Number(/\r\ncontent-length: (\d+)/i.exec(raw)?.[1]);
  return JSON.parse(raw.slice(start, start + len));
}

describe('HTTP edge: timeouts, early 401, default /metrics, per-IP keys without a trusted proxy', () => {
  let srv: Srv;
  before(async () => {
    srv = await startTestServer('sqlite', {
      NCHAT_REQUEST_TIMEOUT_MS: '1500',
      NCHAT_HEADERS_TIMEOUT_MS: '700',
      NCHAT_SIGNIN_LIMIT_IP: '3',
    });
  });
  after(() => srv.stop());

  it('headers trickled one byte per 200 ms: 408 and closed within the headers timeout, while others are served', async () => {
    const slow = rawExchange(srv.running.port, 'GET /api/health HTTP/1.1\r\nHost: x\r\n', 'X-Slow: ' + 'a'.repeat(100));
    const health = await srv.api.get('/api/health');
    assert.equal(health.status, 200, 'another client is served meanwhile');
    const r = await slow;
    assert.equal(statusOf(r.text), 408, r.text);
    assert.ok(r.ms < 700 + 250 + 2500, `closed after ${r.ms} ms`);
  });

  it('a body trickled one byte per 200 ms: 408 and closed within the request timeout; nothing is signed in', async () => {
    const body = JSON.stringify({ login: 'nobody', password: 'x'.repeat(40) });
    const head = `POST /api/auth/signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const slow = rawExchange(srv.running.port, head, body);
    assert.equal((await srv.api.get('/api/health')).status, 200, 'another client is served meanwhile');
    const r = await slow;
    assert.equal(statusOf(r.text), 408, r.text);
    assert.ok(r.ms >= 1000, `not before the request timeout (${r.ms} ms)`);
    assert.ok(r.ms < 1500 + 375 + 2500, `closed after ${r.ms} ms`);
  });

  it('a WebSocket outlives the HTTP timeouts once upgraded and still gets events', async () => {
    const ann = await srv.user('ann');
    const ch = await createChannel(ann.api, unique('edge'));
    const c = await Client.open({ url: srv.running.url }, ann.token);
    await new Promise((r) => setTimeout(r, 2500)); // > request timeout + check interval
    await send(ann.api, ch.id, 'still there');
    const e = await c.waitFor((x) => x.type === 'message.created' && x.message.text === 'still there');
    assert.equal(e.channelId, ch.id);
    c.ws.close();
  });

  it('anonymous or badly authenticated POST with a 200 KB body that never finishes: 401 at once, body not read', async () => {
    for (const [auth, code] of [
      ['', 'UNAUTHENTICATED'],
      ['Authorization: Bearer not.a.token\r\n', 'TOKEN_INVALID'],
      ['Authorization: Basic YTpi\r\n', 'UNAUTHENTICATED'],
    ] as const) {
      const head = `POST /api/channels/${'0'.repeat(26)}/messages HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 200000\r\n\r\n{"text":"`;
      const r = await rawExchange(srv.running.port, head, 'x'.repeat(50), 50);
      assert.equal(statusOf(r.text), 401, r.text);
      assert.equal(bodyOf(r.text).error.code, code);
      assert.ok(r.firstByteMs !== undefined && r.firstByteMs < 1000, `401 after ${r.firstByteMs} ms, before the body (200 KB never sent)`);
    }
  });

  it('/metrics is not served on the public port by default', async () => {
    assertError(await srv.api.get('/metrics'), 404, 'NOT_FOUND');
    assertError(await srv.owner.api.get('/metrics'), 404, 'NOT_FOUND', 'not for a signed-in owner either');
  });

  it('without a trusted proxy X-Forwarded-For is ignored: every "client" shares the peer\'s budget', async () => {
    // The budget is 3 per peer (sign-ups of this suite's users spent part of it): each attempt
    // claims another forwarded client, yet 429 comes within 3 attempts.
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await srv.api.req(
        'POST',
        '/api/auth/signin',
        { login: unique('nobody'), password: 'wrong password' },
        { headers: { 'x-forwarded-for': `198.51.100.${i}` } },
      );
      codes.push(r.status);
      if (r.status === 429) {
        assertError(r, 429, 'RATE_LIMITED');
        break;
      }
      assertError(r, 401, 'INVALID_CREDENTIALS', `attempt ${i}`);
    }
    assert.equal(codes.at(-1), 429, `codes ${codes}`);
    assert.ok(codes.length <= 3, `codes ${codes}`);
  });
});

describe('HTTP edge: behind a trusted proxy (NCHAT_TRUST_PROXY=127.0.0.1)', () => {
  let srv: Srv;
  before(async () => {
    srv = await startTestServer('sqlite', { NCHAT_TRUST_PROXY: '127.0.0.1', NCHAT_SIGNIN_LIMIT_IP: '3' });
  });
  after(() => srv.stop());

  const signin = (xff: string) =>
    srv.api.req(
      'POST',
      '/api/auth/signin',
      { login: unique('nobody'), password: 'wrong password' },
      { headers: { 'x-forwarded-for': xff } },
    );
  const signup = (xff: string) => {
    const username = unique('px');
    return srv.api.req(
      'POST',
      '/api/auth/signup',
      { username, email: `${username}@example.test`, password: 'correct horse battery' },
      { headers: { 'x-forwarded-for': xff } },
    );
  };

  it('two forwarded clients have separate sign-in/sign-up budgets', async () => {
    for (let i = 0; i < 3; i++) assertError(await signin('203.0.113.7'), 401, 'INVALID_CREDENTIALS', `client A attempt ${i}`);
    assertError(await signin('203.0.113.7'), 429, 'RATE_LIMITED', 'client A over its budget');
    assertError(await signup('203.0.113.7'), 429, 'RATE_LIMITED', "sign-up shares client A's budget");
    assertError(await signin('203.0.113.8'), 401, 'INVALID_CREDENTIALS', 'client B is not limited by A');
    assert.equal((await signup('203.0.113.8')).status, 201, 'client B can still sign up');
    // The proxy appends the peer it saw; only the right-most untrusted address counts.
    assertError(await signin('203.0.113.8, 203.0.113.7'), 429, 'RATE_LIMITED', 'a spoofed left-most entry does not escape');
  });

  it('IPv6 clients count by /64', async () => {
    for (let i = 1; i <= 3; i++) assertError(await signin(`2001:db8:1:2::${i}`), 401, 'INVALID_CREDENTIALS', `attempt ${i}`);
    assertError(await signin('2001:db8:1:2:ffff:ffff:ffff:ffff'), 429, 'RATE_LIMITED', 'another address of the same /64');
    assertError(await signin('2001:db8:1:3::1'), 401, 'INVALID_CREDENTIALS', 'the next /64 has its own budget');
  });
});

describe('HTTP edge: /metrics on its own listener (NCHAT_METRICS_PORT)', () => {
  let srv: Srv;
  let port: number;
  before(async () => {
    ({ srv, metricsPort: port } = await startTestServerWithMetrics('sqlite'));
  });
  after(() => srv?.stop());

  it('serves Prometheus text on 127.0.0.1:<port>/metrics and nothing else; the public port still 404s', async () => {
    await srv.owner.api.get('/api/channels');
    assert.equal(srv.running.metricsUrl, `http://127.0.0.1:${port}/metrics`);
    const r = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(r.status, 200);
    assert.match(await r.text(), /nchat_http_requests_total\{method="GET",route="\/api\/channels",status="200"\} \d+/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/api/health`)).status, 404, 'only /metrics on the metrics listener');
    assertError(await srv.api.get('/metrics'), 404, 'NOT_FOUND');
  });

  it('a metrics port already in use fails the start with EADDRINUSE and leaves the API port closed', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const takenPort = (taken.address() as AddressInfo).port;
    try {
      const apiPort = await freePort();
      await assert.rejects(
        startTestServer('sqlite', { NCHAT_PORT: String(apiPort), NCHAT_METRICS_PORT: String(takenPort) }),
        (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE',
      );
      // The API listener bound first; the failed start must have closed it (and the store
      // and broker with it), or a process would hang instead of exiting on the error.
      const again = createServer();
      await new Promise<void>((resolve, reject) => {
        again.once('error', reject);
        again.listen(apiPort, '127.0.0.1', resolve);
      });
      await new Promise((r) => again.close(r));
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });
});

describe('storage hygiene: data dir and SQLite files are owner-only', () => {
  let base: string;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'nchat-perm-'));
  });
  after(() => rm(base, { recursive: true, force: true }));

  it('a fresh data dir is 0700 and nchat.db, -wal and -shm are 0600, also after a restart over 0644 files', async () => {
    const dir = join(base, 'fresh', 'data');
    const mode = async (p: string) => (await stat(p)).mode & 0o777;
    let srv = await startTestServer('sqlite', { NCHAT_DATA_DIR: dir });
    await send(srv.owner.api, (await createChannel(srv.owner.api, unique('perm'))).id, 'a write so the WAL exists');
    assert.equal((await mode(dir)).toString(8), '700');
    for (const f of ['nchat.db', 'nchat.db-wal', 'nchat.db-shm']) assert.equal((await mode(join(dir, f))).toString(8), '600', f);
    await srv.running.close();
    await chmod(join(dir, 'nchat.db'), 0o644); // as an older version left it
    srv = await startTestServer('sqlite', { NCHAT_DATA_DIR: dir });
    try {
      for (const f of ['nchat.db', 'nchat.db-wal', 'nchat.db-shm'])
        assert.equal((await mode(join(dir, f))).toString(8), '600', `${f} after restart`);
    } finally {
      await srv.running.close();
    }
  });
});
