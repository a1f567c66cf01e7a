// A JSON body over NCHAT_BODY_LIMIT gets 413 PAYLOAD_TOO_LARGE, and the node reads the rest of
// the body instead of closing the socket under the sender: a close with unread bytes resets the
// connection, and a proxy that was still forwarding the body (nginx) then answers 502 in place of
// the node's 413 (src/server/app.ts, drainInsteadOfClose). Shown over a raw socket: the client
// sends the headers and the first bytes, reads the 413, only then sends the rest of the body, and
// asks again on the same connection. A body declared far over the bound still gets the close.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer, type TestUser } from '../helpers/server.js';

const LIMIT = 16 * 1024;

/** Collects everything the server sends; `until` resolves when the text so far matches. */
function reader(sock: Socket) {
  let text = '';
  let closed = false;
  const waiters: Array<() => void> = [];
  sock.on('data', (d) => {
    text += d.toString('latin1');
    for (const w of waiters.splice(0)) w();
  });
  sock.on('close', () => {
    closed = true;
    for (const w of waiters.splice(0)) w();
  });
  sock.on('error', () => {});
  return {
    get text() {
      return text;
    },
    get closed() {
      return closed;
    },
    async until(re: RegExp, ms = 5000): Promise<boolean> {
      const end = Date.now() + ms;
      while (!re.test(text) && !closed && Date.now() < end) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, Math.max(1, end - Date.now()));
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
      return re.test(text);
    },
  };
}

describe('a JSON body over the limit: 413, then the body is drained and the connection kept', () => {
  let srv: TestServer & { stop(): Promise<void> };
  let ann: TestUser;
  let channelId: string;
  before(async () => {
    srv = await startTestServer('sqlite', { NCHAT_BODY_LIMIT: String(LIMIT) });
    ann = await srv.user('drain');
    const r = await ann.api.post('/api/channels', { name: `drain${Date.now().toString(36)}`, type: 'public' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    channelId = r.body.id;
  });
  after(async () => srv?.stop());

  const open = async () => {
    const { port } = new URL(srv.running.url);
    const sock = connect(Number(port), '127.0.0.1');
    await new Promise<void>((r, j) => sock.once('connect', r).once('error', j));
    return sock;
  };
  const head = (len: number) =>
    `POST /api/channels/${channelId}/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ann.token}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${len}\r\n\r\n`;

  test('the rest of a 4× body is read after the 413 and the same connection answers the next request', async () => {
    const body = Buffer.from(`{"text":"${'a'.repeat(4 * LIMIT)}"}`);
    const sock = await open();
    const got = reader(sock);
    sock.write(head(body.length) + body.subarray(0, 100).toString('latin1'));
    assert.ok(await got.until(/\r\n\r\n[\s\S]*PAYLOAD_TOO_LARGE/), `413 before the body was sent: ${got.text.slice(0, 300)}`);
    assert.match(got.text, /^HTTP\/1\.1 413 /);
    assert.doesNotMatch(got.text, /connection: close/i, 'the reply does not announce a close');
    sock.write(body.subarray(100));
    sock.write(`GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.ok(await got.until(/HTTP\/1\.1 200 /), `the next request on the connection is answered: ${got.text.slice(-300)}`);
    assert.equal(got.closed, false);
    sock.destroy();
    const h = await ann.api.get(`/api/channels/${channelId}/messages?limit=10`);
    assert.equal(h.body.messages.length, 0, 'nothing was written');
  });

  test('a body declared far over the bound still gets Connection: close', async () => {
    const sock = await open();
    const got = reader(sock);
    sock.write(head(100 * LIMIT) + '{"text":"');
    assert.ok(await got.until(/PAYLOAD_TOO_LARGE/), got.text.slice(0, 300));
    assert.match(got.text, /^HTTP\/1\.1 413 /);
    assert.match(got.text, /connection: close/i);
    sock.destroy();
  });
});
