// Resumable uploads (tus 1.0.0, http/files-tus.ts) on both backends: a file sent in pieces, a
// PATCH cut off by a dropped connection and resumed from the offset the server kept, the
// protocol's refusals, and that nobody else can see or touch an upload.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { it } from 'node:test';
import { getBytes, sha256 } from '../helpers/files.js';
import { forEachBackend } from '../helpers/server.js';

const MiB = 1024 * 1024;
const b64 = (s: string) => Buffer.from(s).toString('base64');

async function tus(url: string, token: string, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer) {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const create = (url: string, token: string, length: number, meta = `filename ${b64('big.bin')}`) =>
  tus(url, token, 'POST', '/api/files/tus', { 'upload-length': String(length), 'upload-metadata': meta });

const patch = (url: string, token: string, loc: string, offset: number, bytes: Buffer) =>
  tus(url, token, 'PATCH', loc, { 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }, bytes);

/** A PATCH over a raw socket that announces `declared` bytes, sends `sent` of them, then drops the connection. */
function droppedPatch(port: number, token: string, loc: string, offset: number, declared: number, data: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.on('close', () => resolve());
    s.write(
      `PATCH ${loc} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nTus-Resumable: 1.0.0\r\n` +
        `Upload-Offset: ${offset}\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: ${declared}\r\n\r\n`,
    );
    s.write(data, () => setTimeout(() => s.destroy(), 300));
  });
}

await forEachBackend(
  'files: resumable uploads (tus)',
  (ctx) => {
    it('create, send in two pieces, HEAD shows the offset; the last byte stores the file (hash checked)', async () => {
      const srv = ctx.server();
      const u = await srv.user('tu');
      const data = randomBytes(3 * MiB + 5);
      const c = await create(srv.running.url, u.token, data.length);
      assert.equal(c.status, 201, JSON.stringify(c.body));
      assert.equal(c.headers.get('tus-resumable'), '1.0.0');
      const loc = c.headers.get('location')!;
      assert.match(loc, /^\/api\/files\/tus\/[0-9a-z]{22}$/);
      assert.ok(c.headers.get('upload-expires'));
      assert.equal((await tus(srv.running.url, u.token, 'HEAD', loc)).headers.get('upload-offset'), '0');

      const p1 = await patch(srv.running.url, u.token, loc, 0, data.subarray(0, MiB));
      assert.equal(p1.status, 204);
      assert.equal(p1.headers.get('upload-offset'), String(MiB));
      assert.equal(p1.headers.get('nchat-file-id'), null);
      const h = await tus(srv.running.url, u.token, 'HEAD', loc);
      assert.deepEqual([h.headers.get('upload-offset'), h.headers.get('upload-length')], [String(MiB), String(data.length)]);

      const p2 = await patch(srv.running.url, u.token, loc, MiB, data.subarray(MiB));
      assert.equal(p2.status, 204);
      const fileId = p2.headers.get('nchat-file-id')!;
      const info = await u.api.get(`/api/files/${fileId}/info`);
      assert.equal(info.body.name, 'big.bin');
      assert.equal(info.body.sha256, sha256(data));
      assert.equal(sha256((await getBytes(srv.running.url, u, info.body.url)).bytes), sha256(data));
      assert.equal((await tus(srv.running.url, u.token, 'HEAD', loc)).status, 404, 'the finished upload is gone');
    });

    it('a PATCH cut off by a dropped connection keeps what arrived; the client resumes from the offset', async () => {
      const srv = ctx.server();
      const u = await srv.user('td');
      const data = randomBytes(2 * MiB);
      const loc = (await create(srv.running.url, u.token, data.length)).headers.get('location')!;
      await droppedPatch(srv.running.port, u.token, loc, 0, data.length, data.subarray(0, 700_000));
      const offset = Number((await tus(srv.running.url, u.token, 'HEAD', loc)).headers.get('upload-offset'));
      assert.ok(offset > 0 && offset <= 700_000, `kept ${offset} bytes`);
      const rest = await patch(srv.running.url, u.token, loc, offset, data.subarray(offset));
      assert.equal(rest.status, 204);
      const info = await u.api.get(`/api/files/${rest.headers.get('nchat-file-id')}/info`);
      assert.equal(info.body.sha256, sha256(data));
    });

    it('refusals: no Tus-Resumable, bad lengths, over the limit, a wrong offset, a wrong type, too many bytes, too many unfinished uploads', async () => {
      const srv = ctx.server();
      const u = await srv.user('tr');
      const url = srv.running.url;
      const noVersion = await fetch(`${url}/api/files/tus`, {
        method: 'POST',
        headers: { authorization: `Bearer ${u.token}`, 'upload-length': '5' },
      });
      assert.equal(noVersion.status, 400);
      for (const len of ['', '-1', '1e3', 'abc'])
        assert.equal((await tus(url, u.token, 'POST', '/api/files/tus', { 'upload-length': len })).status, 400, len);
      assert.equal((await create(url, u.token, 2 * MiB, 'filename !!notbase64')).status, 400);
      assert.equal((await create(url, u.token, 2 * MiB, `channelId ${b64('../x')}`)).status, 400);
      const big = await create(url, u.token, 60 * MiB);
      assert.equal(big.status, 413);
      const body = await tus(
        url,
        u.token,
        'POST',
        '/api/files/tus',
        { 'upload-length': '3', 'content-type': 'application/offset+octet-stream' },
        Buffer.from('abc'),
      );
      assert.equal(body.status, 400, 'creation-with-upload is not offered');

      const loc = (await create(url, u.token, 10)).headers.get('location')!;
      const wrong = await patch(url, u.token, loc, 3, Buffer.from('abc'));
      assert.equal(wrong.status, 409);
      assert.equal(wrong.headers.get('upload-offset'), '0');
      const type = await tus(url, u.token, 'PATCH', loc, { 'upload-offset': '0', 'content-type': 'text/plain' }, Buffer.from('abc'));
      assert.equal(type.status, 415);
      const tooMany = await patch(url, u.token, loc, 0, Buffer.alloc(11));
      assert.equal(tooMany.status, 413);

      const v = await srv.user('tv');
      for (let i = 0; i < 10; i++) assert.equal((await create(url, v.token, 100)).status, 201);
      const eleventh = await create(url, v.token, 100);
      assert.equal(eleventh.status, 409);
      assert.equal(eleventh.body.error.code, 'LIMIT_REACHED');
    });

    it('only the creator sees, appends to or deletes an upload; DELETE removes it', async () => {
      const srv = ctx.server();
      const [a, b] = [await srv.user('ta'), await srv.user('tb')];
      const url = srv.running.url;
      const loc = (await create(url, a.token, 10)).headers.get('location')!;
      assert.equal((await tus(url, b.token, 'HEAD', loc)).status, 404);
      assert.equal((await patch(url, b.token, loc, 0, Buffer.from('x'))).status, 404);
      assert.equal((await tus(url, b.token, 'DELETE', loc)).status, 404);
      assert.equal((await tus(url, a.token, 'DELETE', loc)).status, 204);
      assert.equal((await tus(url, a.token, 'HEAD', loc)).status, 404);
      assert.equal((await tus(url, a.token, 'HEAD', '/api/files/tus/not-an-id')).status, 400);
    });
  },
  { NCHAT_UPLOAD_MAX_BYTES: String(50 * MiB) },
);
