// Security matrix, cross-site WebSocket hijacking: a browser on another site can open a
// WebSocket to us carrying the user's credentials, so the upgrade checks Origin
// (src/server/realtime/gateway.ts): allowed when absent (non-browser clients: the load test, the
// CLI), equal to the request's own host, or listed in NCHAT_ALLOWED_ORIGINS; anything else is
// 403 FORBIDDEN before the token is even looked at. The check does not touch the store, so one
// backend (SQLite) shows it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { tryUpgrade } from './ws-util.js';

const LISTED = 'https://chat.example.test';

describe('security: WebSocket Origin', () => {
  let srv: TestServer & { stop(): Promise<void> };
  before(async () => {
    srv = await startTestServer('sqlite', { NCHAT_ALLOWED_ORIGINS: `${LISTED},https://other.example.test` });
  });
  after(async () => {
    await srv?.stop();
  });

  const self = () => `http://127.0.0.1:${srv.running.port}`;
  const ROWS: Array<[string, (() => string) | undefined, number, string | undefined]> = [
    ['no Origin (non-browser client)', undefined, 101, undefined],
    ["the server's own origin", () => self(), 101, undefined],
    ['a listed origin', () => LISTED, 101, undefined],
    ['a foreign origin', () => 'https://evil.example', 403, 'FORBIDDEN'],
    ['a foreign origin that starts with ours', () => `${self()}.evil.example`, 403, 'FORBIDDEN'],
    ['our host on another port', () => `http://127.0.0.1:${srv.running.port + 1}`, 403, 'FORBIDDEN'],
    ['a listed origin over plain http', () => LISTED.replace('https', 'http'), 403, 'FORBIDDEN'],
    ['a listed origin with a path suffix trick', () => `${LISTED}.evil.example`, 403, 'FORBIDDEN'],
    ["'null' (sandboxed frame, file://)", () => 'null', 403, 'FORBIDDEN'],
    ['garbage', () => '::not a url::', 403, 'FORBIDDEN'],
  ];
  for (const [what, origin, status, code] of ROWS)
    it(`upgrade with ${what} and a valid token → ${status}${code ? ` ${code}` : ''}`, async () => {
      const r = await tryUpgrade(srv.running.url, srv.owner.token, origin ? { origin: origin() } : {});
      r.ws?.terminate();
      assert.deepEqual({ status: r.status, code: r.code }, { status, code });
    });

  it('a foreign origin is refused before the token is checked (no token → still 403, not 401)', async () => {
    const r = await tryUpgrade(srv.running.url, undefined, { origin: 'https://evil.example' });
    assert.deepEqual({ status: r.status, code: r.code }, { status: 403, code: 'FORBIDDEN' });
  });

  it('default config (no NCHAT_ALLOWED_ORIGINS): the own origin and no Origin only', async () => {
    const plain = await startTestServer('sqlite');
    try {
      const own = await tryUpgrade(plain.running.url, plain.owner.token, { origin: `http://127.0.0.1:${plain.running.port}` });
      own.ws?.terminate();
      assert.equal(own.status, 101);
      const listedElsewhere = await tryUpgrade(plain.running.url, plain.owner.token, { origin: LISTED });
      assert.deepEqual({ status: listedElsewhere.status, code: listedElsewhere.code }, { status: 403, code: 'FORBIDDEN' });
    } finally {
      await plain.stop();
    }
  });
});
