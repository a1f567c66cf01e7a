// The unattached-upload sweep (issue 11) end to end on both backends: with a short
// NCHAT_UPLOAD_UNATTACHED_TTL_MS the server's own sweeper deletes uploads never attached to a
// message, row and bytes (thumbnail included), while attached files and a current avatar stay; a
// swept id can no longer be attached. (Two sweepers at once on one database: the store contract,
// src/server/store/contract/files.ts.)
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { it } from 'node:test';
import sharp from 'sharp';
import { storedFiles, upload, waitThumbnail } from '../helpers/files.js';
import { forEachBackend, unique } from '../helpers/server.js';

const TTL_MS = 4000;

const png = () =>
  sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 10, g: 120, b: 200 } } })
    .png()
    .toBuffer();

await forEachBackend(
  'files sweep',
  (ctx) => {
    it('unattached uploads older than the TTL are deleted (row, blob, thumbnail); attached files and avatars stay', async () => {
      const srv = ctx.server();
      const root = join(resolve(srv.running.config.dataDir), 'files');
      const a = await srv.user('sw');
      const ch = await a.api.post('/api/channels', { name: unique('sw'), type: 'private' });
      assert.equal(ch.status, 201);

      // Attached and avatar first, each right after its upload (well within the TTL).
      const kept = await upload(srv.running.url, a, randomBytes(5000), { name: 'kept.bin' });
      assert.equal(kept.status, 201);
      assert.equal((await a.api.post(`/api/channels/${ch.body.id}/messages`, { text: 'x', fileIds: [kept.body.id] })).status, 201);
      const avatar = await upload(srv.running.url, a, await png(), { name: 'me.png' });
      assert.equal(avatar.status, 201);
      assert.equal((await a.api.patch('/api/users/me', { avatarFileId: avatar.body.id })).status, 200);
      const lone = await upload(srv.running.url, a, randomBytes(7000), { name: 'lone.bin' });
      const image = await upload(srv.running.url, a, await png(), { name: 'lone.png' });
      assert.equal(lone.status, 201);
      assert.equal(image.status, 201);
      assert.equal((await waitThumbnail(srv.running.url, a, image.body.id)).status, 200, 'the thumbnail was made');
      const before = (await storedFiles(srv)).blobs;
      const thumbs = before.filter((p) => p.startsWith(join(root, 't')));
      assert.ok(thumbs.length >= 2, 'thumbnails of both images are stored');

      // The sweeper runs every TTL/10 (1 s minimum): the lone uploads go once older than the TTL.
      const until = Date.now() + TTL_MS + 15_000;
      while (
        (await a.api.get(`/api/files/${lone.body.id}/info`)).status !== 404 ||
        (await a.api.get(`/api/files/${image.body.id}/info`)).status !== 404
      ) {
        assert.ok(Date.now() < until, 'unattached uploads were not swept in time');
        await new Promise((r) => setTimeout(r, 250));
      }
      const after = (await storedFiles(srv)).blobs;
      const gone = before.filter((p) => !after.includes(p));
      assert.equal(gone.length, 3, `the two blobs and one thumbnail removed (gone: ${gone.join(', ')})`);
      assert.ok(
        gone.some((p) => p.startsWith(join(root, 't'))),
        'the swept image’s thumbnail is removed',
      );
      assert.ok(after.every(existsSync));

      assert.equal((await a.api.get(`/api/files/${kept.body.id}/info`)).status, 200, 'an attached file stays');
      assert.equal((await a.api.get(`/api/files/${avatar.body.id}/info`)).status, 200, 'the current avatar stays');
      assert.equal((await waitThumbnail(srv.running.url, a, avatar.body.id)).status, 200, 'with its thumbnail');
      const late = await a.api.post(`/api/channels/${ch.body.id}/messages`, { text: 'late', fileIds: [lone.body.id] });
      assert.equal(late.status, 400, 'a swept upload cannot be attached');
      assert.equal(late.body.error.code, 'VALIDATION_FAILED');
      assert.equal((await storedFiles(srv)).temp.length, 0);
    });
  },
  { NCHAT_UPLOAD_UNATTACHED_TTL_MS: String(TTL_MS) },
);
