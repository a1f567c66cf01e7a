// Avatars (issue 13) on both backends: PATCH /api/users/me {avatarFileId} takes only the caller's
// own raster image; the file it names is readable (bytes and thumbnail) by every signed-in user
// while it is someone's avatar, and falls back to the files rules (uploader, message readers)
// once replaced or cleared.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import sharp from 'sharp';
import { getBytes, sha256, upload, waitThumbnail } from '../helpers/files.js';
import { forEachBackend, type TestServer, type TestUser } from '../helpers/server.js';
import { assertError, ok } from './util.js';

const png = (r: number) =>
  sharp({ create: { width: 300, height: 200, channels: 3, background: { r, g: 120, b: 40 } } })
    .png()
    .toBuffer();

async function uploadImage(srv: TestServer, u: TestUser, shade = 10) {
  const data = await png(shade);
  const up = ok(await upload(srv.running.url, u, data, { name: 'me.png' }), 201, 'upload');
  assert.equal(up.mime, 'image/png');
  return { file: up as { id: string; url: string; thumbnailUrl: string }, data };
}

await forEachBackend('avatar', (ctx) => {
  it('set: the user object carries avatarFileId; another user reads the bytes and the thumbnail', async () => {
    const srv = ctx.server();
    const a = await srv.user('av');
    const b = await srv.user('bv');
    const { file, data } = await uploadImage(srv, a);
    // Before: an unattached upload is its uploader's only.
    assertError(await b.api.get(`/api/files/${file.id}`), 404, 'NOT_FOUND', 'before');

    const me = ok(await a.api.patch('/api/users/me', { avatarFileId: file.id }));
    assert.equal(me.avatarFileId, file.id);
    assert.equal(ok(await b.api.get(`/api/users/${a.id}`)).avatarFileId, file.id);
    assert.equal(ok(await a.api.get('/api/users/me')).avatarFileId, file.id);

    const bytes = await getBytes(srv.running.url, b, file.url);
    assert.equal(bytes.status, 200);
    assert.equal(sha256(bytes.bytes), sha256(data));
    const thumb = await waitThumbnail(srv.running.url, b, file.id);
    assert.equal(thumb.status, 200, thumb.bytes.toString().slice(0, 200));
    assert.equal((await sharp(thumb.bytes).metadata()).format, 'webp');
    assert.equal(ok(await b.api.get(`/api/files/${file.id}/info`)).id, file.id);
    // Not signed in: still 401.
    assert.equal((await srv.api.get(`/api/files/${file.id}`)).status, 401);
  });

  it("refused with 400 and nothing changed: a non-image, an SVG, someone else's image, an unknown id", async () => {
    const srv = ctx.server();
    const a = await srv.user('ar');
    const b = await srv.user('br');
    const own = await uploadImage(srv, a);
    ok(await a.api.patch('/api/users/me', { avatarFileId: own.file.id }));

    const bin = ok(await upload(srv.running.url, a, randomBytes(4096), { name: 'x.png', type: 'image/png' }), 201);
    assert.equal(bin.mime, 'application/octet-stream');
    const svgText = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>';
    const svg = ok(await upload(srv.running.url, a, Buffer.from(svgText), { name: 'a.svg', type: 'image/svg+xml' }), 201);
    const theirs = await uploadImage(srv, b, 200);
    for (const [what, id] of [
      ['non-image', bin.id],
      ['svg', svg.id],
      ["someone else's image", theirs.file.id],
      ['unknown id', 'f'.repeat(20)],
    ]) {
      assertError(await a.api.patch('/api/users/me', { avatarFileId: id, status: 'changed?' }), 400, 'VALIDATION_FAILED', what);
    }
    const me = ok(await a.api.get('/api/users/me'));
    assert.equal(me.avatarFileId, own.file.id, 'the avatar is unchanged');
    assert.notEqual(me.status, 'changed?', 'no part of a refused patch is applied');
    // b's image did not become readable by a through the attempt.
    assertError(await a.api.get(`/api/files/${theirs.file.id}`), 404, 'NOT_FOUND', "b's image");
    // A wrong type of value is the schema's 400.
    assertError(await a.api.patch('/api/users/me', { avatarFileId: 42 }), 400, 'VALIDATION_FAILED', 'number');
  });

  it('unset with null, and a replaced avatar: the former file is no longer readable by others', async () => {
    const srv = ctx.server();
    const a = await srv.user('au');
    const b = await srv.user('bu');
    const first = await uploadImage(srv, a, 30);
    const second = await uploadImage(srv, a, 90);
    ok(await a.api.patch('/api/users/me', { avatarFileId: first.file.id }));
    assert.equal((await getBytes(srv.running.url, b, first.file.url)).status, 200);

    ok(await a.api.patch('/api/users/me', { avatarFileId: second.file.id }));
    assertError(await b.api.get(`/api/files/${first.file.id}`), 404, 'NOT_FOUND', 'former avatar');
    assert.equal((await getBytes(srv.running.url, b, `/api/files/${first.file.id}/thumbnail`)).status, 404);
    assert.equal((await getBytes(srv.running.url, b, second.file.url)).status, 200);

    const cleared = ok(await a.api.patch('/api/users/me', { avatarFileId: null }));
    assert.equal(cleared.avatarFileId, null);
    assertError(await b.api.get(`/api/files/${second.file.id}`), 404, 'NOT_FOUND', 'cleared avatar');
    // The uploader keeps reading both.
    assert.equal((await getBytes(srv.running.url, a, first.file.url)).status, 200);
    assert.equal((await getBytes(srv.running.url, a, second.file.url)).status, 200);
  });
});
