// Bad input to the file routes, on both backends (issue 11): each case gets a clear 4xx or is
// stored safely as a generic file — never a 500, never a crash — and a refused upload leaves
// nothing behind (no temp file, no blob, no row). Limits are small here so the cases stay fast.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { it } from 'node:test';
import { deflateSync } from 'node:zlib';
import { getBytes, postRaw, rawMultipart, sha256, storedFiles, upload, waitThumbnail } from '../helpers/files.js';
import { forEachBackend, startTestServer, type TestServer, type TestUser } from '../helpers/server.js';

const MiB = 1024 * 1024;
const LIMITS = {
  NCHAT_UPLOAD_MAX_BYTES: String(MiB),
  NCHAT_UPLOAD_QUOTA_BYTES: String(2.5 * MiB),
  NCHAT_UPLOAD_LIMIT: '30',
};

// ---- hand-made PNGs ----------------------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** A valid 1-bit grey PNG of w×h pixels, all black: tiny on disk, `w*h` pixels decoded. */
function bombPng(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([1, 0, 0, 0, 0], 8);
  const raw = Buffer.alloc(h * (1 + Math.ceil(w / 8)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---- helpers ------------------------------------------------------------------------------------

/** Nothing of a refused upload remains: no temp file, no new blob, no row (the user's usage). */
async function assertNothingKept(srv: TestServer, user: TestUser, blobsBefore: number) {
  const s = await storedFiles(srv);
  assert.deepEqual(s.temp, [], 'no temp file');
  assert.equal(s.blobs.length, blobsBefore, 'no new blob');
  assert.equal(await srv.running.store.files.usage(user.id), 0, 'no row');
}

const codeOf = (r: { body: any }) => r.body?.error?.code;

/** Sends the start of a multipart upload that claims 2 MB, then drops the connection. */
function abandonUpload(url: string, token: string): Promise<void> {
  return new Promise((resolve) => {
    const head = Buffer.from('--b0\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n');
    const req = request(`${url}/api/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/form-data; boundary=b0', 'content-length': String(2 * MiB) },
    });
    req.on('error', () => resolve());
    req.write(head);
    req.write(randomBytes(300_000), () => {
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 100);
    });
  });
}

await forEachBackend(
  'files: bad input',
  (ctx) => {
    it('over the size limit → 413 PAYLOAD_TOO_LARGE and nothing kept; exactly the limit is fine', async () => {
      const srv = ctx.server();
      const u = await srv.user('bl');
      const before = (await storedFiles(srv)).blobs.length;
      const r = await upload(srv.running.url, u, randomBytes(MiB + 1));
      assert.equal(r.status, 413);
      assert.equal(codeOf(r), 'PAYLOAD_TOO_LARGE');
      await assertNothingKept(srv, u, before);
      assert.equal((await upload(srv.running.url, u, randomBytes(MiB))).status, 201);
    });

    it('quota exceeded → 413 QUOTA_EXCEEDED and nothing kept (also when it is only found mid-stream)', async () => {
      const srv = ctx.server();
      const u = await srv.user('bq');
      assert.equal((await upload(srv.running.url, u, randomBytes(MiB))).status, 201);
      assert.equal((await upload(srv.running.url, u, randomBytes(MiB))).status, 201);
      const blobs = (await storedFiles(srv)).blobs.length;
      const over = await upload(srv.running.url, u, randomBytes(0.75 * MiB));
      assert.equal(over.status, 413);
      assert.equal(codeOf(over), 'QUOTA_EXCEEDED');
      assert.equal((await storedFiles(srv)).blobs.length, blobs);
      assert.equal(await srv.running.store.files.usage(u.id), 2 * MiB);
      assert.equal((await upload(srv.running.url, u, randomBytes(0.5 * MiB))).status, 201, 'what fits still fits');
      const full = await upload(srv.running.url, u, randomBytes(10));
      assert.equal(codeOf(full), 'QUOTA_EXCEEDED');
    });

    it('a client that disconnects mid-upload leaves no partial file and no row', async () => {
      const srv = ctx.server();
      const u = await srv.user('bd');
      const before = (await storedFiles(srv)).blobs.length;
      await abandonUpload(srv.running.url, u.token);
      await new Promise((r) => setTimeout(r, 300));
      await assertNothingKept(srv, u, before);
      assert.equal((await upload(srv.running.url, u, randomBytes(100))).status, 201, 'the server is fine');
    });

    it('filenames: path parts, NUL, control and bidi characters are removed; a 10 KB name is shortened keeping its extension', async () => {
      const srv = ctx.server();
      const u = await srv.user('bn');
      const cases: [string, string][] = [
        ['../../etc/passwd', 'passwd'],
        ['..\\..\\boot.ini', 'boot.ini'],
        ['a\u0001b\u001fc\u007f.txt', 'abc.txt'],
        ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
        ['\u2066evil\u2069.png', 'evil.png'],
        ['..', 'file'],
        ['', 'file'],
        ['résumé 2026.pdf', 'résumé 2026.pdf'],
      ];
      for (const [raw, want] of cases) {
        const r = await postRaw(
          srv.running.url,
          u,
          rawMultipart([{ name: 'file', filename: raw, data: 'x' }], 'bnd'),
          'multipart/form-data; boundary=bnd',
        );
        assert.equal(r.status, 201, JSON.stringify(raw));
        assert.equal(r.body.name, want, JSON.stringify(raw));
      }
      const nul = await postRaw(
        srv.running.url,
        u,
        rawMultipart([{ name: 'file', filename: 'a\u0000b.txt', data: 'x' }], 'bnd'),
        'multipart/form-data; boundary=bnd',
      );
      assert.ok(nul.status === 201 ? !nul.body.name.includes('\u0000') : nul.status === 400, `NUL: ${nul.status}`);
      const long = await upload(srv.running.url, u, Buffer.from('x'), { name: `${'n'.repeat(10 * 1024)}.txt` });
      assert.equal(long.status, 201);
      assert.equal(long.body.name.length, 255);
      assert.ok(long.body.name.endsWith('n.txt'));
      // A non-ASCII name downloads with an ASCII fallback and the exact name in filename*.
      const accented = await upload(srv.running.url, u, Buffer.from('x'), { name: "naïve 'quote' (1)%.bin" });
      const d = await getBytes(srv.running.url, u, accented.body.url);
      assert.equal(
        d.headers.get('content-disposition'),
        `attachment; filename="na_ve 'quote' (1)_.bin"; filename*=UTF-8''na%C3%AFve%20%27quote%27%20%281%29%25.bin`,
      );
    });

    it('zero bytes: stored as an empty generic file', async () => {
      const srv = ctx.server();
      const u = await srv.user('bz');
      const r = await upload(srv.running.url, u, new Uint8Array(0), { name: 'empty.txt', type: 'text/plain' });
      assert.equal(r.status, 201);
      assert.equal(r.body.size, 0);
      assert.equal(r.body.sha256, sha256(new Uint8Array(0)));
      assert.equal(r.body.mime, 'application/octet-stream');
      const d = await getBytes(srv.running.url, u, r.body.url);
      assert.equal(d.status, 200);
      assert.equal(d.bytes.length, 0);
      assert.equal((await getBytes(srv.running.url, u, r.body.url, { range: 'bytes=0-' })).status, 416);
    });

    it('malformed forms: missing file part, two files, unknown field, a field after the file, no boundary, garbage → 400, nothing kept', async () => {
      const srv = ctx.server();
      const u = await srv.user('bm');
      const before = (await storedFiles(srv)).blobs.length;
      const ct = 'multipart/form-data; boundary=bnd';
      const id = '0000000000000000000000';
      const bodies: [string, Buffer | string, string][] = [
        ['only channelId', rawMultipart([{ name: 'channelId', data: id }], 'bnd'), ct],
        ['empty form', rawMultipart([], 'bnd'), ct],
        [
          'two files',
          rawMultipart(
            [
              { name: 'file', filename: 'a', data: 'a' },
              { name: 'file', filename: 'b', data: 'b' },
            ],
            'bnd',
          ),
          ct,
        ],
        ['file under another name', rawMultipart([{ name: 'upload', filename: 'a', data: 'a' }], 'bnd'), ct],
        [
          'unknown field',
          rawMultipart(
            [
              { name: 'title', data: 'x' },
              { name: 'file', filename: 'a', data: 'a' },
            ],
            'bnd',
          ),
          ct,
        ],
        [
          'field after the file',
          rawMultipart(
            [
              { name: 'file', filename: 'a', data: 'a' },
              { name: 'channelId', data: id },
            ],
            'bnd',
          ),
          ct,
        ],
        ['file as a plain field', rawMultipart([{ name: 'file', data: 'not a file part' }], 'bnd'), ct],
        [
          'bad channelId',
          rawMultipart(
            [
              { name: 'channelId', data: '../x' },
              { name: 'file', filename: 'a', data: 'a' },
            ],
            'bnd',
          ),
          ct,
        ],
        ['no boundary', 'whatever', 'multipart/form-data'],
        ['garbage', 'this is not multipart at all', ct],
        ['cut off', rawMultipart([{ name: 'file', filename: 'a', data: 'abc' }], 'bnd').subarray(0, 60), ct],
      ];
      for (const [what, body, type] of bodies) {
        const r = await postRaw(srv.running.url, u, body, type);
        assert.equal(r.status, 400, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
        assert.ok(['VALIDATION_FAILED', 'BAD_REQUEST'].includes(codeOf(r)), what);
      }
      // A channel the uploader is not in: 404, nothing kept.
      const r = await postRaw(
        srv.running.url,
        u,
        rawMultipart(
          [
            { name: 'channelId', data: id },
            { name: 'file', filename: 'a', data: 'a' },
          ],
          'bnd',
        ),
        ct,
      );
      assert.equal(r.status, 404);
      await assertNothingKept(srv, u, before);
    });

    it('wrong or missing content type → 415', async () => {
      const srv = ctx.server();
      const u = await srv.user('bt');
      assert.equal((await postRaw(srv.running.url, u, '{"file":"x"}', 'application/json')).status, 415);
      assert.equal((await postRaw(srv.running.url, u, 'x', 'text/plain')).status, 415);
      const none = await fetch(`${srv.running.url}/api/files`, {
        method: 'POST',
        headers: { authorization: `Bearer ${u.token}` },
        body: Buffer.from('x'),
      });
      assert.equal(none.status, 415);
    });

    it('a PNG that decodes to 256 megapixels: stored as a file with its size, no thumbnail, no crash', async () => {
      const srv = ctx.server();
      const u = await srv.user('bb');
      const bomb = bombPng(16_000, 16_000);
      const r = await upload(srv.running.url, u, bomb, { name: 'bomb.png', type: 'image/png' });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.mime, 'image/png');
      assert.equal(r.body.width, 16_000);
      assert.equal(r.body.height, 16_000);
      assert.equal(r.body.thumbnailUrl, undefined);
      assert.equal(codeOf(await u.api.get(`/api/files/${r.body.id}/thumbnail`)), 'NOT_FOUND');
      assert.equal((await getBytes(srv.running.url, u, r.body.url)).bytes.length, bomb.length);
    });

    it('a "JPEG" that is not one, HTML and SVG: stored as generic files, served only as attachments', async () => {
      const srv = ctx.server();
      const u = await srv.user('bf');
      const fakes: [string, string, string][] = [
        ['photo.jpg', 'image/jpeg', 'this is not a jpeg at all'],
        ['page.html', 'text/html', '<html><script>alert(document.cookie)</script></html>'],
        ['logo.svg', 'image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'],
      ];
      for (const [name, type, text] of fakes) {
        const r = await upload(srv.running.url, u, Buffer.from(text), { name, type });
        assert.equal(r.status, 201, name);
        assert.equal(r.body.mime, 'application/octet-stream', name);
        assert.equal(r.body.thumbnailUrl, undefined, name);
        const d = await getBytes(srv.running.url, u, r.body.url);
        assert.equal(d.headers.get('content-type'), 'application/octet-stream', name);
        assert.match(d.headers.get('content-disposition')!, /^attachment; /, name);
        assert.equal(d.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(d.headers.get('content-security-policy'), "sandbox; default-src 'none'");
      }
    });

    it('a real JPEG header with broken data: stored as an image, its thumbnail fails cleanly', async () => {
      const srv = ctx.server();
      const u = await srv.user('bj');
      const sharp = (await import('sharp')).default;
      const jpeg = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#08f' } })
        .jpeg()
        .toBuffer();
      // Header intact (dimensions readable), scan data cut off: libvips fails on "premature end".
      const broken = jpeg.subarray(0, 400);
      const r = await upload(srv.running.url, u, broken, { name: 'broken.jpg' });
      assert.equal(r.status, 201);
      assert.equal(r.body.mime, 'image/jpeg');
      const t = await waitThumbnail(srv.running.url, u, r.body.id);
      assert.equal(t.status, 404);
      assert.equal(JSON.parse(t.bytes.toString()).error.code, 'NOT_FOUND');
    });

    it('uploads are rate-limited per user → 429', async () => {
      const srv = ctx.server();
      const u = await srv.user('br');
      for (let i = 0; i < 30; i++) assert.equal((await upload(srv.running.url, u, Buffer.from([i]))).status, 201);
      const r = await upload(srv.running.url, u, Buffer.from('x'));
      assert.equal(r.status, 429);
      assert.equal(codeOf(r), 'RATE_LIMITED');
      assert.equal((await upload(srv.running.url, await srv.user('br2'), Buffer.from('x'))).status, 201, 'others are not limited');
    });

    it('after the suite: no temp file in the data dir', async () => {
      assert.deepEqual((await storedFiles(ctx.server())).temp, []);
    });
  },
  LIMITS,
);

it('NCHAT_UPLOAD_ALLOWED_TYPES: a type outside the allowlist → 415 and nothing kept (SQLite)', async () => {
  const srv = await startTestServer('sqlite', { ...LIMITS, NCHAT_UPLOAD_ALLOWED_TYPES: 'image/*, application/pdf' });
  try {
    const u = await srv.user('ba');
    const r = await upload(srv.running.url, u, Buffer.from('plain text, not allowed'), { name: 'a.txt' });
    assert.equal(r.status, 415);
    assert.equal(codeOf(r), 'UNSUPPORTED_MEDIA_TYPE');
    await assertNothingKept(srv, u, 0);
    const png = bombPng(8, 8);
    assert.equal((await upload(srv.running.url, u, png, { name: 'ok.png' })).status, 201);
  } finally {
    await srv.stop();
  }
});

/** A multipart upload over a raw socket, its body written in `pieces` spread over `overMs`; resolves with the status line (or 'closed'). */
function trickleUpload(port: number, token: string, overMs: number, pieces = 10): Promise<string> {
  const body = rawMultipart([{ name: 'file', filename: 'slow.bin', data: randomBytes(50_000) }], 'slowb');
  const head =
    `POST /api/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
    `Content-Type: multipart/form-data; boundary=slowb\r\nContent-Length: ${body.length}\r\n\r\n`;
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    let i = 0;
    const step = Math.ceil(body.length / pieces);
    s.write(head);
    const timer = setInterval(() => {
      if (s.destroyed) return;
      s.write(body.subarray(i * step, (i + 1) * step));
      if (++i >= pieces) clearInterval(timer);
    }, overMs / pieces);
    s.on('data', (d) => {
      text += d.toString('latin1');
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearInterval(timer);
      resolve(text.split('\r\n')[0] || 'closed');
    });
  });
}

it('uploads have their own deadline: slower than NCHAT_REQUEST_TIMEOUT_MS is fine, past NCHAT_UPLOAD_TIMEOUT_MS the connection is cut and nothing kept (SQLite)', async () => {
  const srv = await startTestServer('sqlite', {
    ...LIMITS,
    NCHAT_REQUEST_TIMEOUT_MS: '1000',
    NCHAT_HEADERS_TIMEOUT_MS: '1000',
    NCHAT_UPLOAD_TIMEOUT_MS: '3000',
  });
  try {
    const u = await srv.user('bs');
    assert.equal(await trickleUpload(srv.running.port, u.token, 2000), 'HTTP/1.1 201 Created');
    assert.equal(await srv.running.store.files.usage(u.id), 50_000);
    const t0 = Date.now();
    assert.equal(await trickleUpload(srv.running.port, u.token, 6000, 30), 'closed');
    const ms = Date.now() - t0;
    assert.ok(ms >= 3000 && ms < 5500, `cut at the upload deadline (${ms} ms)`);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await srv.running.store.files.usage(u.id), 50_000, 'no row for the cut upload');
    assert.deepEqual((await storedFiles(srv)).temp, []);
    // Other requests keep the ordinary request timeout (edge.test.ts); the server is fine.
    assert.equal((await srv.api.get('/api/health')).status, 200);
  } finally {
    await srv.stop();
  }
});
