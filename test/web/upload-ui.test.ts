// Files in the composer, in Chromium against a real server: a file dropped on the channel uploads
// (drag and drop, a real DataTransfer with a File) and is sent as a download card the other
// side sees; an upload held in flight shows its progress bar and Cancel aborts it: the request is
// aborted, the entry goes, and the next message carries no attachment. The held upload is the
// only thing not real: the page's request to POST /api/files is kept waiting by a route so that
// there is time to press Cancel.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Route } from 'playwright-core';
import { type TestUser, unique } from '../helpers/server.js';
import { browserSkipReason, newUser, send, signInWithTokens, startWeb, type Watched, type WebEnv } from './browser.js';

describe('web client: drag and drop, upload progress and cancel', { skip: browserSkipReason() }, () => {
  let env: WebEnv;
  let ann: TestUser;
  let w: Watched;
  let channel: { id: string; name: string };

  before(async () => {
    env = await startWeb();
    ann = await env.server.user('ann');
    channel = (await ann.api.post('/api/channels', { name: unique('drop'), type: 'public' })).body;
    w = await newUser(env);
    await signInWithTokens(w, env.url, ann);
    await w.page.getByRole('link', { name: new RegExp(channel.name) }).click();
    await w.page.getByRole('heading', { name: `# ${channel.name}` }).waitFor();
  });
  after(async () => {
    await env?.stop();
  });

  const lastMessage = async () => (await ann.api.get(`/api/channels/${channel.id}/messages?limit=1`)).body.messages[0];

  it('a file dropped on the channel uploads and is sent as a download card', async () => {
    const p = w.page;
    await p.evaluate(`(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['dropped notes\\n'.repeat(50)], 'dropped.txt', { type: 'text/plain' }));
      const target = document.querySelector('section.channel');
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    })()`);
    await p.getByTestId('upload').filter({ hasText: 'dropped.txt' }).filter({ hasText: '✓' }).waitFor({ timeout: 15_000 });
    await send(p, 'dropped it here');
    await p.getByTestId('file-card').filter({ hasText: 'dropped.txt' }).waitFor();
    const m = await lastMessage();
    assert.equal(m.text, 'dropped it here');
    assert.equal(m.files?.length, 1, JSON.stringify(m));
    assert.equal(m.files[0].name, 'dropped.txt');
  });

  it('an upload in flight shows progress; Cancel aborts it and nothing is attached', async () => {
    const p = w.page;
    let held: Route | undefined;
    let aborted = false;
    await p.route('**/api/files', (route) => {
      held = route;
    });
    p.on('requestfailed', (r) => {
      if (r.url().endsWith('/api/files') && r.method() === 'POST') aborted = true;
    });
    await p
      .locator('input[type=file]')
      .setInputFiles([{ name: 'slow.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(256 * 1024, 7) }]);
    await p.getByRole('progressbar', { name: 'Uploading slow.bin' }).waitFor();
    for (let i = 0; i < 100 && !held; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(held, 'the upload request reached the network');
    await p.getByRole('button', { name: 'Cancel slow.bin' }).click();
    await p.getByTestId('upload').filter({ hasText: 'slow.bin' }).waitFor({ state: 'detached' });
    for (let i = 0; i < 100 && !aborted; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(aborted, 'the request was aborted');
    await p.unroute('**/api/files');
    await held?.abort().catch(() => undefined);
    await send(p, 'no attachment after cancel');
    await p.getByTestId('message').filter({ hasText: 'no attachment after cancel' }).waitFor();
    const m = await lastMessage();
    assert.equal(m.text, 'no attachment after cancel');
    assert.deepEqual(m.files ?? [], [], 'the cancelled file is not attached');
    assert.deepEqual(w.errors, []);
    assert.deepEqual(w.violations, []);
  });
});
