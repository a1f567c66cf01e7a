// Avatars in the browser (issue 13): Ann uploads an avatar in the profile dialog (initials before,
// the thumbnail after, through the authenticated blob: loader); Bob, in his own browser context,
// sees it on Ann's message and on their DM in the sidebar; Ann removes it and Bob, after a reload,
// sees her initials again (the server no longer lets him read the former avatar).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { type TestUser, unique } from '../helpers/server.js';
import { browserSkipReason, newUser, signInWithTokens, startWeb, type WebEnv } from './browser.js';

/** Waits for a decoded <img> inside `selector` and returns its src (page code as text: no DOM types here). */
const decodedSrc = (img: any) => img.decode().then(() => (img.naturalWidth > 0 ? (img.src as string) : ''));

describe('web client: avatars', { skip: browserSkipReason() }, () => {
  let env: WebEnv;
  let ann: TestUser;
  let bob: TestUser;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nchat-web-avatar-'));
    env = await startWeb();
    ann = await env.server.user('ann');
    bob = await env.server.user('bob');
  });
  after(async () => {
    await env?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("set in the profile dialog, seen from a second user's browser on messages and the DM; removed → initials", async () => {
    const channel = (await ann.api.post('/api/channels', { name: unique('faces'), type: 'public' })).body;
    assert.equal((await bob.api.post(`/api/channels/${channel.id}/join`)).status, 200);
    assert.equal((await ann.api.post('/api/dms', { userIds: [bob.id] })).status, 200);
    const face = join(dir, 'face.png');
    await writeFile(
      face,
      await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 30, g: 160, b: 90 } } })
        .png()
        .toBuffer(),
    );

    const a = await newUser(env);
    await signInWithTokens(a, env.url, ann);
    await a.page.getByTitle('Profile').click();
    const dialog = a.page.getByRole('dialog', { name: 'Your profile' });
    const big = dialog.locator(`.avatar-lg[data-avatar-user="${ann.id}"]`);
    assert.equal((await big.textContent())?.trim(), 'A', 'initials before an avatar is set');
    await dialog.getByTestId('avatar-input').setInputFiles(face);
    const bigImg = big.locator('img');
    await bigImg.waitFor({ timeout: 20_000 });
    assert.match(await bigImg.evaluate(decodedSrc), /^blob:/);
    await dialog.getByRole('button', { name: 'Close' }).click();
    const me = (await ann.api.get('/api/users/me')).body;
    assert.ok(me.avatarFileId, 'the profile carries the avatar file');
    await ann.api.post(`/api/channels/${channel.id}/messages`, { text: 'look, a face' });

    const b = await newUser(env);
    await signInWithTokens(b, env.url, bob);
    await b.page.getByRole('link', { name: new RegExp(channel.name) }).click();
    const onMessage = b.page.locator(`.msg [data-avatar-user="${ann.id}"] img`);
    await onMessage.first().waitFor({ timeout: 20_000 });
    assert.match(await onMessage.first().evaluate(decodedSrc), /^blob:/, "Ann's avatar decoded in Bob's browser");
    const onDm = b.page.locator(`.sidebar .dm-face [data-avatar-user="${ann.id}"] img`);
    await onDm.waitFor({ timeout: 20_000 });

    await a.page.getByTitle('Profile').click();
    await dialog.getByRole('button', { name: 'Remove' }).click();
    await big.locator('img').waitFor({ state: 'detached' });
    assert.equal((await big.textContent())?.trim(), 'A');
    assert.equal((await ann.api.get('/api/users/me')).body.avatarFileId, null);

    await b.page.reload();
    await b.page.getByRole('link', { name: new RegExp(channel.name) }).click();
    const initials = b.page.locator(`.msg [data-avatar-user="${ann.id}"]`).first();
    await initials.waitFor();
    assert.equal((await initials.textContent())?.trim(), 'A');
    assert.equal(await initials.locator('img').count(), 0);
    for (const w of [a, b]) {
      assert.deepEqual(w.errors, []);
      assert.deepEqual(w.violations, []);
      assert.deepEqual(w.dialogs, []);
    }
  });
});
