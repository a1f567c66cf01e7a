// Files end to end on both backends (issue 11): upload round trip with hash check, Range, ETag,
// the security headers, a real image's dimensions and thumbnail (made with sharp here), files on
// messages (history, events' objects, delete hides them), and who may download what.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import sharp from 'sharp';
import { getBytes, sha256, storedFiles, upload, waitThumbnail } from '../helpers/files.js';
import { forEachBackend, unique, type TestUser } from '../helpers/server.js';

const METRICS_TOKEN = 'files-test-metrics-token';

async function privateChannel(owner: TestUser, members: TestUser[] = []) {
  const ch = await owner.api.post('/api/channels', { name: unique('f'), type: 'private' });
  assert.equal(ch.status, 201);
  if (members.length)
    assert.equal((await owner.api.post(`/api/channels/${ch.body.id}/members`, { userIds: members.map((m) => m.id) })).status, 200);
  return ch.body as { id: string };
}

/** A 1200×800 JPEG with EXIF orientation 6 (displayed rotated 90°: 800 wide, 1200 high) and GPS-like metadata to strip. */
const orientedJpeg = () =>
  sharp({ create: { width: 1200, height: 800, channels: 3, background: { r: 200, g: 30, b: 30 } } })
    .jpeg()
    .withMetadata({ orientation: 6, exif: { IFD0: { Copyright: 'secret-owner', Artist: 'someone' } } })
    .toBuffer();

await forEachBackend(
  'files',
  (ctx) => {
    it('round trip: the bytes come back identical, with the SHA-256 computed on upload', async () => {
      const srv = ctx.server();
      const a = await srv.user('fa');
      // Random bytes behind a fixed ASCII start: bare random bytes are now and then sniffed as a
      // type (a run of the suite got 'MZ' first: application/x-msdownload).
      const data = Buffer.concat([Buffer.from('nchat round trip\n'), randomBytes(3 * 1024 * 1024 + 316)]);
      const up = await upload(srv.running.url, a, data, { name: 'report.bin' });
      assert.equal(up.status, 201, JSON.stringify(up.body));
      assert.equal(up.body.size, data.length);
      assert.equal(up.body.sha256, sha256(data));
      assert.equal(up.body.name, 'report.bin');
      assert.equal(up.body.mime, 'application/octet-stream');
      assert.equal(up.body.uploaderId, a.id);
      assert.equal(up.body.url, `/api/files/${up.body.id}`);
      assert.equal(up.body.thumbnailUrl, undefined);

      const r = await getBytes(srv.running.url, a, up.body.url);
      assert.equal(r.status, 200);
      assert.equal(sha256(r.bytes), sha256(data));
      assert.equal(r.headers.get('content-length'), String(data.length));
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(r.headers.get('content-security-policy'), "sandbox; default-src 'none'");
      assert.equal(r.headers.get('content-disposition'), `attachment; filename="report.bin"; filename*=UTF-8''report.bin`);
      assert.equal(r.headers.get('etag'), `"${up.body.sha256}"`);
      assert.equal(r.headers.get('accept-ranges'), 'bytes');
    });

    it('Range: 206 with exactly the bytes asked for, suffix ranges, 416 past the end; If-None-Match: 304', async () => {
      const srv = ctx.server();
      const a = await srv.user('fr');
      const data = randomBytes(100_000);
      const up = await upload(srv.running.url, a, data);
      const url = up.body.url as string;
      const mid = await getBytes(srv.running.url, a, url, { range: 'bytes=1000-1999' });
      assert.equal(mid.status, 206);
      assert.deepEqual(mid.bytes, data.subarray(1000, 2000));
      assert.equal(mid.headers.get('content-range'), `bytes 1000-1999/${data.length}`);
      const tail = await getBytes(srv.running.url, a, url, { range: 'bytes=-10' });
      assert.equal(tail.status, 206);
      assert.deepEqual(tail.bytes, data.subarray(data.length - 10));
      const open = await getBytes(srv.running.url, a, url, { range: 'bytes=99990-' });
      assert.deepEqual(open.bytes, data.subarray(99990));
      const past = await getBytes(srv.running.url, a, url, { range: 'bytes=100000-' });
      assert.equal(past.status, 416);
      assert.equal(past.headers.get('content-range'), `bytes */${data.length}`);
      assert.equal(JSON.parse(past.bytes.toString()).error.code, 'RANGE_NOT_SATISFIABLE');
      // Several ranges or another unit: the whole file (RFC 9110 allows ignoring them).
      assert.equal((await getBytes(srv.running.url, a, url, { range: 'bytes=0-1,5-6' })).status, 200);
      const etag = mid.headers.get('etag')!;
      const cached = await getBytes(srv.running.url, a, url, { 'if-none-match': etag });
      assert.equal(cached.status, 304);
      assert.equal(cached.bytes.length, 0);
      assert.equal((await getBytes(srv.running.url, a, url, { 'if-none-match': '"other"' })).status, 200);
      // If-Range with a stale validator: the whole file, not a range of something else.
      assert.equal((await getBytes(srv.running.url, a, url, { range: 'bytes=0-9', 'if-range': '"stale"' })).status, 200);
    });

    it('an image: dimensions after orientation, then a WebP thumbnail (oriented, metadata stripped) and a processing-time sample', async () => {
      const srv = ctx.server();
      const a = await srv.user('fi');
      const jpeg = await orientedJpeg();
      const up = await upload(srv.running.url, a, jpeg, { name: 'photo.jpg', type: 'image/jpeg' });
      assert.equal(up.status, 201, JSON.stringify(up.body));
      assert.equal(up.body.mime, 'image/jpeg');
      assert.equal(up.body.width, 800);
      assert.equal(up.body.height, 1200);
      assert.equal(up.body.thumbnailUrl, `/api/files/${up.body.id}/thumbnail`);

      const original = await getBytes(srv.running.url, a, up.body.url);
      assert.equal(original.headers.get('content-type'), 'image/jpeg');
      assert.match(original.headers.get('content-disposition')!, /^inline; /);

      const t = await waitThumbnail(srv.running.url, a, up.body.id);
      assert.equal(t.status, 200);
      assert.equal(t.headers.get('content-type'), 'image/webp');
      assert.equal(t.headers.get('x-content-type-options'), 'nosniff');
      const meta = await sharp(t.bytes).metadata();
      assert.equal(meta.format, 'webp');
      assert.ok(meta.height === 400 && meta.width! < 400, `oriented portrait thumbnail, got ${meta.width}x${meta.height}`);
      assert.equal(meta.exif, undefined);
      assert.equal(meta.orientation, undefined);

      const m = await fetch(`${srv.running.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      const count = /^nchat_file_processing_seconds_count (\d+)/m.exec(await m.text());
      assert.ok(count && Number(count[1]) >= 1, 'processing time histogram has samples');
    });

    it('files on a message: the objects in the reply and history; members download, a non-member gets 404 for file and thumbnail', async () => {
      const srv = ctx.server();
      const [a, b, outsider] = [await srv.user('fa'), await srv.user('fb'), await srv.user('fo')];
      const ch = await privateChannel(a, [b]);
      const img = await upload(srv.running.url, a, await orientedJpeg(), { name: 'p.jpg', channelId: ch.id });
      const doc = await upload(srv.running.url, a, randomBytes(1000), { name: 'notes.bin' });
      assert.equal(img.status, 201);
      const sent = await a.api.post(`/api/channels/${ch.id}/messages`, { text: '', fileIds: [img.body.id, doc.body.id] });
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
      assert.deepEqual(sent.body.files, [img.body, doc.body]);
      const history = await b.api.get(`/api/channels/${ch.id}/messages`);
      assert.deepEqual(history.body.messages[0].files, [img.body, doc.body]);

      assert.equal((await getBytes(srv.running.url, b, img.body.url)).status, 200);
      assert.equal((await waitThumbnail(srv.running.url, b, img.body.id)).status, 200);
      assert.equal((await b.api.get(`/api/files/${doc.body.id}/info`)).status, 200);
      for (const path of [img.body.url, img.body.thumbnailUrl, doc.body.url, `/api/files/${doc.body.id}/info`]) {
        const r = await getBytes(srv.running.url, outsider, path);
        assert.equal(r.status, 404, path);
        assert.equal(JSON.parse(r.bytes.toString()).error.code, 'NOT_FOUND');
      }
      // An unattached upload is its uploader's alone.
      const lone = await upload(srv.running.url, a, randomBytes(10));
      assert.equal((await getBytes(srv.running.url, b, lone.body.url)).status, 404);
    });

    it('deleting the message hides its files from everyone but the uploader', async () => {
      const srv = ctx.server();
      const [a, b] = [await srv.user('fd'), await srv.user('fe')];
      const ch = await privateChannel(a, [b]);
      const f = await upload(srv.running.url, a, randomBytes(500));
      const sent = await a.api.post(`/api/channels/${ch.id}/messages`, { text: 'see file', fileIds: [f.body.id] });
      assert.equal((await getBytes(srv.running.url, b, f.body.url)).status, 200);
      assert.equal((await a.api.del(`/api/messages/${sent.body.id}`)).status, 200);
      assert.deepEqual((await b.api.get(`/api/messages/${sent.body.id}`)).body.files, []);
      assert.equal((await getBytes(srv.running.url, b, f.body.url)).status, 404);
      assert.equal((await getBytes(srv.running.url, a, f.body.url)).status, 200);
    });

    it('fileIds: someone else’s file, a file already attached, an unknown id → 400 and no message', async () => {
      const srv = ctx.server();
      const [a, b] = [await srv.user('fg'), await srv.user('fh')];
      const ch = await privateChannel(a, [b]);
      const bs = await upload(srv.running.url, b, randomBytes(10));
      const mine = await upload(srv.running.url, a, randomBytes(10));
      const before = (await a.api.get(`/api/channels/${ch.id}`)).body.lastSeq;
      for (const fileIds of [[bs.body.id], [mine.body.id, bs.body.id], ['0000000000000000000000']]) {
        const r = await a.api.post(`/api/channels/${ch.id}/messages`, { text: 'x', fileIds });
        assert.equal(r.status, 400, JSON.stringify(fileIds));
        assert.equal(r.body.error.code, 'VALIDATION_FAILED');
      }
      assert.equal((await a.api.get(`/api/channels/${ch.id}`)).body.lastSeq, before, 'nothing was written');
      // The refused sends did not attach `mine`: it can still be attached once, and only once.
      assert.equal((await a.api.post(`/api/channels/${ch.id}/messages`, { text: 'ok', fileIds: [mine.body.id] })).status, 201);
      assert.equal((await a.api.post(`/api/channels/${ch.id}/messages`, { text: 'again', fileIds: [mine.body.id] })).status, 400);
      const dup = await a.api.post(`/api/channels/${ch.id}/messages`, { text: 'x', fileIds: [mine.body.id, mine.body.id] });
      assert.equal(dup.status, 400);
      // The same clientMsgId again (a retry) returns the original, files and all.
      const f = await upload(srv.running.url, a, randomBytes(10));
      const first = await a.api.post(`/api/channels/${ch.id}/messages`, { text: 'r', clientMsgId: 'retry-1', fileIds: [f.body.id] });
      const again = await a.api.post(`/api/channels/${ch.id}/messages`, { text: 'r', clientMsgId: 'retry-1', fileIds: [f.body.id] });
      assert.equal(first.status, 201);
      assert.equal(again.body.id, first.body.id);
      assert.deepEqual(again.body.files, first.body.files);
    });

    it('fileIds from a non-member: the membership answer a text send gets, whatever the files; nothing written or attached', async () => {
      const srv = ctx.server();
      const [a, b, out] = [await srv.user('fo'), await srv.user('fp'), await srv.user('fq')];
      const ch = await privateChannel(a, [b]);
      // The node knows the channel (a member sent before): sends take the checked path.
      assert.equal((await a.api.post(`/api/channels/${ch.id}/messages`, { text: 'hi' })).status, 201);
      const before = (await a.api.get(`/api/channels/${ch.id}`)).body.lastSeq;
      const text = await out.api.post(`/api/channels/${ch.id}/messages`, { text: 'x' });
      assert.ok(text.status === 403 || text.status === 404, `a text send: ${text.status}`);
      const own = await upload(srv.running.url, out, randomBytes(10));
      const bs = await upload(srv.running.url, b, randomBytes(10));
      for (const fileIds of [[own.body.id], [bs.body.id], ['0000000000000000000000']]) {
        const r = await out.api.post(`/api/channels/${ch.id}/messages`, { text: 'x', fileIds });
        assert.equal(r.status, text.status, JSON.stringify(fileIds));
        assert.equal(r.body.error.code, text.body.error.code);
      }
      assert.equal((await a.api.get(`/api/channels/${ch.id}`)).body.lastSeq, before, 'nothing was written');
      // `own` was not attached: its uploader can still attach it elsewhere.
      const mine = await out.api.post('/api/channels', { name: 'fq-own', type: 'public' });
      assert.equal((await out.api.post(`/api/channels/${mine.body.id}/messages`, { text: 'ok', fileIds: [own.body.id] })).status, 201);
    });

    it('no upload without a token (401 before the body is read); unknown ids are 404', async () => {
      const srv = ctx.server();
      const a = await srv.user('fn');
      const res = await fetch(`${srv.running.url}/api/files`, { method: 'POST', body: new FormData() });
      assert.equal(res.status, 401);
      assert.equal((await a.api.get('/api/files/0000000000000000000000')).status, 404);
      assert.equal((await a.api.get('/api/files/0000000000000000000000/thumbnail')).status, 404);
      assert.equal((await a.api.get('/api/files/not-an-id')).status, 400);
    });

    it('HEAD answers the headers without the bytes; a row whose blob is gone is 404, not 500', async () => {
      const srv = ctx.server();
      const a = await srv.user('fk');
      const up = await upload(srv.running.url, a, randomBytes(2000));
      const head = await fetch(srv.running.url + up.body.url, { method: 'HEAD', headers: { authorization: `Bearer ${a.token}` } });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), '2000');
      assert.equal((await head.arrayBuffer()).byteLength, 0);
      const rec = await srv.running.store.files.get(up.body.id);
      await srv.running.services.files.blobStore().delete(rec!.blobKey);
      const gone = await getBytes(srv.running.url, a, up.body.url);
      assert.equal(gone.status, 404);
      assert.equal(JSON.parse(gone.bytes.toString()).error.code, 'NOT_FOUND');
    });

    it('after the suite: no temp file left in the data dir', async () => {
      const srv = ctx.server();
      assert.deepEqual((await storedFiles(srv)).temp, []);
    });
  },
  { NCHAT_METRICS_TOKEN: METRICS_TOKEN },
);
