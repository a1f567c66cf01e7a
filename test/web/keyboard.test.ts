// Keyboard only, in Chromium against a real server: the quick switcher opens a channel, Tab
// reaches a plain-text message (its actions appear only then), Tab reaches "Add reaction", the
// picker opens on Enter with focus on its first emoji, Escape closes it (focus back on its
// button), the arrow keys pick 🎉 and Enter reacts (stored on the server). An uploaded image's
// viewer opens from the keyboard with focus on its Close button, keeps Tab there, and closes with
// Escape or Enter on Close, giving focus back to the thumbnail. ↑/↓ move between messages.
// A modal dialog (the quick switcher) keeps Tab and Shift+Tab inside it and gives focus back when
// Escape closes it. The mouse is never used. Image and messages are put in place through the API.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import sharp from 'sharp';
import { upload, waitThumbnail } from '../helpers/files.js';
import { type TestUser, unique } from '../helpers/server.js';
import { browserSkipReason, newUser, signInWithTokens, startWeb, type Watched, type WebEnv } from './browser.js';

/** Whether the element is the page's focused element (callbacks run in the page: no DOM types here). */
const isFocused = (l: Locator) => l.evaluate((el: any) => el === el.ownerDocument.activeElement);

async function focusedLabel(p: Page): Promise<string> {
  return p.evaluate(
    '(() => { const e = document.activeElement; return e ? e.tagName + " " + (e.getAttribute("aria-label") ?? e.textContent?.slice(0, 40)) : "none"; })()',
  );
}

/** Presses `key` until `target` has focus (at most `max` presses); returns how many it took. */
async function pressUntilFocused(p: Page, target: Locator, key: string, max = 60): Promise<number> {
  for (let i = 0; i <= max; i++) {
    if (await isFocused(target)) return i;
    await p.keyboard.press(key);
  }
  return assert.fail(`${key} ×${max} never reached the target; focus is on ${await focusedLabel(p)}`);
}

describe('web client: keyboard only', { skip: browserSkipReason() }, () => {
  let env: WebEnv;
  let ann: TestUser;
  let w: Watched;
  let channel: { id: string; name: string };
  let plainId: string;

  before(async () => {
    env = await startWeb();
    ann = await env.server.user('ann');
    channel = (await ann.api.post('/api/channels', { name: unique('keys'), type: 'public' })).body;
    const png = await sharp({ create: { width: 640, height: 400, channels: 3, background: { r: 40, g: 120, b: 250 } } })
      .png()
      .toBuffer();
    const up = await upload(env.url, ann, png, { name: 'sunset.png', type: 'image/png', channelId: channel.id });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    assert.equal((await waitThumbnail(env.url, ann, up.body.id)).status, 200, 'thumbnail ready');
    const pic = await ann.api.post(`/api/channels/${channel.id}/messages`, { text: 'a picture of the sunset', fileIds: [up.body.id] });
    assert.equal(pic.status, 201, JSON.stringify(pic.body));
    const plain = await ann.api.post(`/api/channels/${channel.id}/messages`, { text: 'plain words only' });
    assert.equal(plain.status, 201, JSON.stringify(plain.body));
    plainId = plain.body.id;
    w = await newUser(env);
    await signInWithTokens(w, env.url, ann);
  });
  after(async () => {
    await env?.stop();
  });

  it('reaches a message and its actions, reacts with the picker, and Escape closes the picker', async () => {
    const p = w.page;
    await p.keyboard.press('Control+k');
    await p.getByRole('combobox', { name: 'Channel or person' }).waitFor();
    await p.keyboard.type(channel.name);
    await p.keyboard.press('Enter');
    await p.getByRole('heading', { name: `# ${channel.name}` }).waitFor();

    const msg = p.getByTestId('message').filter({ hasText: 'plain words only' });
    await msg.waitFor();
    const react = msg.getByRole('button', { name: 'Add reaction' });
    assert.equal(await react.isVisible(), false, 'actions are hidden while the message has neither focus nor hover');
    await pressUntilFocused(p, msg, 'Tab');
    assert.match((await msg.getAttribute('aria-label')) ?? '', / at /, 'the message is named by author and time');
    assert.equal(await react.isVisible(), true, 'focus on the message shows its actions');

    await p.keyboard.press('Tab');
    assert.ok(await isFocused(react), `Tab from the message goes to Add reaction, not ${await focusedLabel(p)}`);
    await p.keyboard.press('Enter');
    const menu = msg.getByRole('menu', { name: 'Pick a reaction' });
    await menu.waitFor();
    assert.ok(await isFocused(menu.getByRole('menuitem', { name: '👍' })), 'the picker takes focus on its first emoji');
    await p.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached' });
    assert.ok(await isFocused(react), `Escape gives focus back to Add reaction, not ${await focusedLabel(p)}`);

    await p.keyboard.press('Enter');
    await menu.waitFor();
    for (let i = 0; i < 3; i++) await p.keyboard.press('ArrowRight');
    assert.ok(await isFocused(menu.getByRole('menuitem', { name: '🎉' })), `→ ×3 is 🎉, not ${await focusedLabel(p)}`);
    await p.keyboard.press('Enter');
    const chip = msg.getByRole('button', { name: '🎉 1' });
    await chip.waitFor({ timeout: 10_000 });
    assert.equal(await chip.getAttribute('aria-pressed'), 'true');
    assert.equal(await menu.count(), 0, 'picking closes the picker');
    assert.ok(await isFocused(react), `after picking, focus is on Add reaction, not ${await focusedLabel(p)}`);

    const history = (await ann.api.get(`/api/channels/${channel.id}/messages`)).body.messages as {
      id: string;
      reactions: { emoji: string; userIds: string[] }[];
    }[];
    const stored = history.find((m) => m.id === plainId);
    assert.deepEqual(
      stored?.reactions.map((r) => [r.emoji, r.userIds]),
      [['🎉', [ann.id]]],
    );
    assert.deepEqual(w.errors, []);
  });

  it('opens an image from the keyboard, keeps focus in the viewer, closes with Escape or Close, focus returns', async () => {
    const p = w.page;
    const thumb = p.getByRole('button', { name: 'Open image sunset.png' });
    await p.getByTestId('thumbnail').waitFor({ timeout: 20_000 });
    // Backwards from the plain message's Add reaction: the message, then the picture's thumbnail.
    await pressUntilFocused(p, thumb, 'Shift+Tab', 5);

    await p.keyboard.press('Enter');
    const viewer = p.getByRole('dialog', { name: 'sunset.png' });
    await viewer.locator('img').waitFor({ timeout: 10_000 });
    const close = viewer.getByRole('button', { name: 'Close image viewer' });
    assert.ok(await isFocused(close), `the viewer's Close button takes focus, not ${await focusedLabel(p)}`);
    await p.keyboard.press('Tab');
    assert.ok(await isFocused(close), `Tab stays in the viewer, not ${await focusedLabel(p)}`);
    await p.keyboard.press('Shift+Tab');
    assert.ok(await isFocused(close), `Shift+Tab stays in the viewer, not ${await focusedLabel(p)}`);
    await p.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });
    assert.ok(await isFocused(thumb), `Escape gives focus back to the thumbnail, not ${await focusedLabel(p)}`);

    await p.keyboard.press('Space');
    await viewer.waitFor();
    assert.ok(await isFocused(close));
    await p.keyboard.press('Enter');
    await viewer.waitFor({ state: 'detached' });
    assert.ok(await isFocused(thumb), `Close gives focus back to the thumbnail, not ${await focusedLabel(p)}`);

    // ↑/↓ on a focused message move to the next/previous message.
    const picture = p.getByTestId('message').filter({ hasText: 'a picture of the sunset' });
    const plain = p.getByTestId('message').filter({ hasText: 'plain words only' });
    await p.keyboard.press('Shift+Tab');
    assert.ok(await isFocused(picture), `Shift+Tab from the thumbnail is its message, not ${await focusedLabel(p)}`);
    await p.keyboard.press('ArrowDown');
    assert.ok(await isFocused(plain), `↓ goes to the next message, not ${await focusedLabel(p)}`);
    await p.keyboard.press('ArrowUp');
    assert.ok(await isFocused(picture), `↑ goes back, not ${await focusedLabel(p)}`);

    assert.deepEqual(w.errors, []);
    assert.deepEqual(w.violations, []);
    assert.deepEqual(w.dialogs, []);
  });

  it('a modal dialog keeps Tab and Shift+Tab inside it; Escape closes it and focus returns', async () => {
    const p = w.page;
    const before = await focusedLabel(p);
    await p.keyboard.press('Control+k');
    const dlg = p.getByRole('dialog', { name: 'Jump to…' });
    await dlg.waitFor();
    const inside = () => dlg.evaluate((d: any) => d.contains(d.ownerDocument.activeElement));
    for (const key of ['Tab', 'Shift+Tab']) {
      for (let i = 0; i < 12; i++) {
        await p.keyboard.press(key);
        assert.ok(await inside(), `${key} ×${i + 1} left the dialog: focus on ${await focusedLabel(p)}`);
      }
    }
    await p.keyboard.press('Escape');
    await dlg.waitFor({ state: 'detached' });
    assert.equal(await focusedLabel(p), before, 'focus is back where it was before the dialog');
  });
});
