// Two people chat in real time in two browser contexts (real server, real Chromium); one loses
// its connection, messages are sent both ways meanwhile, and after the reconnect each arrives
// exactly once. Also: screenshots of the main views in light and dark for docs/screenshots/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WebSocketRoute } from 'playwright-core';
import { unique } from '../helpers/server.js';
import { browserSkipReason, countMessages, newUser, send, signInInUi, signUpInUi, startWeb, type WebEnv, type Watched } from './browser.js';

// The views are always captured (a broken view fails here); they go to docs/screenshots/ only with
// NCHAT_SCREENSHOTS=1, so an ordinary test run leaves the committed images (and the tree) untouched.
const SHOTS =
  process.env.NCHAT_SCREENSHOTS === '1'
    ? new URL('../../docs/screenshots/', import.meta.url).pathname
    : `${mkdtempSync(join(tmpdir(), 'nchat-shots-'))}/`;

describe('web client: two people chat', { skip: browserSkipReason() }, () => {
  let env: WebEnv;
  let ann: Watched;
  let bob: Watched;
  const annName = unique('ann');
  const bobName = unique('bob');
  const channel = unique('general');
  let cut = false;
  const bobSockets = new Set<WebSocketRoute>();

  before(async () => {
    // A resume replays at most 3 messages per round, so the reconnect below needs several rounds.
    env = await startWeb({ NCHAT_WS_RESUME_LIMIT: '3' });
    ann = await newUser(env);
    bob = await newUser(env, { acceptConfirm: true });
    // Bob's WebSocket goes through a route the test can cut (a network loss as the page sees it).
    await bob.page.routeWebSocket(/\/ws$/, (ws) => {
      if (cut) return void ws.close({ code: 4999, reason: 'network cut by the test' });
      ws.connectToServer();
      bobSockets.add(ws);
    });
  });
  after(async () => {
    await env?.stop();
  });

  it('signs up, creates a channel, the other joins, and they talk live', async () => {
    await signUpInUi(ann.page, env.url, annName, 'Ann Example');
    await ann.page.getByRole('button', { name: 'Create a channel' }).click();
    await ann.page.getByLabel('Name').fill(channel);
    await ann.page.getByLabel('Description').fill('Where the team talks');
    await ann.page.getByRole('button', { name: 'Create', exact: true }).click();
    await ann.page.getByRole('heading', { name: `# ${channel}` }).waitFor();

    await env.server.api.post('/api/auth/signup', {
      email: `${bobName}@example.test`,
      username: bobName,
      password: 'correct horse battery',
      displayName: 'Bob Builder',
    });
    await signInInUi(bob.page, env.url, bobName);
    await bob.page.getByRole('button', { name: 'Browse channels' }).click();
    await bob.page.getByRole('listitem').filter({ hasText: channel }).getByRole('button', { name: 'Join' }).click();
    await bob.page.getByRole('heading', { name: `# ${channel}` }).waitFor();

    await send(ann.page, 'Hello **Bob**, welcome to `nChat`!');
    await bob.page.getByTestId('message-text').filter({ hasText: 'Hello Bob, welcome' }).waitFor({ timeout: 10_000 });
    assert.equal(await bob.page.locator('[data-testid=message-text] strong').first().textContent(), 'Bob');

    // Typing indicator on Ann's side while Bob types.
    await bob.page.getByRole('combobox', { name: /^Message / }).fill('typing…');
    await ann.page.getByTestId('typing').filter({ hasText: 'Bob Builder is typing' }).waitFor({ timeout: 10_000 });
    await send(bob.page, `Hi @${annName}, here is code:\n\`\`\`js\nconst answer = 42;\n\`\`\``);
    await ann.page.locator('.hljs-keyword', { hasText: 'const' }).waitFor({ timeout: 10_000 });
    assert.equal(await ann.page.locator('.mention').first().textContent(), `@${annName}`);
  });

  it('a message sent while one side is cut off arrives after the reconnect, exactly once, and the offline side’s message goes out once', async () => {
    cut = true;
    await bob.context.setOffline(true);
    for (const ws of bobSockets) await ws.close({ code: 4999, reason: 'network cut by the test' }).catch(() => undefined);
    bobSockets.clear();
    await bob.page.getByTestId('conn-banner').filter({ hasText: 'Offline' }).waitFor({ timeout: 10_000 });

    for (let i = 1; i <= 7; i++) await send(ann.page, `missed number ${i}`);
    await send(ann.page, 'sent while Bob was away');
    await send(bob.page, 'typed by Bob while offline');
    await bob.page.getByTestId('pending-message').filter({ hasText: 'typed by Bob while offline' }).waitFor();
    await ann.page.waitForTimeout(500);
    assert.equal(await countMessages(bob.page, 'sent while Bob was away'), 0, 'nothing can arrive while cut');

    cut = false;
    await bob.context.setOffline(false);
    await bob.page.getByTestId('message-text').filter({ hasText: 'sent while Bob was away' }).waitFor({ timeout: 20_000 });
    await ann.page.getByTestId('message-text').filter({ hasText: 'typed by Bob while offline' }).waitFor({ timeout: 20_000 });
    await bob.page.getByTestId('conn-banner').waitFor({ state: 'detached', timeout: 10_000 });
    // Settle, then count: replay + live + the outbox resend must not double anything.
    await bob.page.waitForTimeout(1000);
    assert.equal(await countMessages(bob.page, 'sent while Bob was away'), 1);
    for (let i = 1; i <= 7; i++) assert.equal(await countMessages(bob.page, `missed number ${i}`), 1, `missed number ${i}`);
    assert.equal(await countMessages(bob.page, 'typed by Bob while offline'), 1);
    assert.equal(await countMessages(ann.page, 'typed by Bob while offline'), 1);
    assert.equal(await bob.page.getByTestId('pending-message').count(), 0);
    const seqs = await bob.page.getByTestId('message').evaluateAll((els) => els.map((e) => e.getAttribute('data-seq')));
    assert.equal(new Set(seqs).size, seqs.length, `no seq shown twice: ${seqs.join(',')}`);
  });

  it('threads, reactions, edit and delete reach the other side', async () => {
    const root = ann.page.getByTestId('message').filter({ hasText: 'sent while Bob was away' });
    await root.hover();
    await root.getByRole('button', { name: 'Reply in thread' }).click();
    await send(ann.page, 'a reply in the thread', 'Reply in thread');
    await bob.page.getByRole('button', { name: '1 reply' }).waitFor({ timeout: 10_000 });
    await bob.page.getByRole('button', { name: '1 reply' }).click();
    await bob.page.getByRole('complementary', { name: 'Thread' }).getByText('a reply in the thread').waitFor();

    const bobsMsg = bob.page.getByTestId('message').filter({ hasText: 'typed by Bob while offline' });
    await bobsMsg.hover();
    await bobsMsg.getByRole('button', { name: 'Add reaction' }).click();
    await bobsMsg.getByRole('menuitem', { name: '🎉' }).click();
    await ann.page
      .getByTestId('message')
      .filter({ hasText: 'typed by Bob while offline' })
      .getByRole('button', { name: '🎉 1' })
      .waitFor({ timeout: 10_000 });

    await bobsMsg.hover();
    await bobsMsg.getByRole('button', { name: 'Edit message' }).click();
    const editor = bob.page.getByRole('textbox', { name: 'Edit message' });
    await editor.fill('typed by Bob, edited');
    await editor.press('Enter');
    await ann.page.getByTestId('message-text').filter({ hasText: 'typed by Bob, edited (edited)' }).waitFor({ timeout: 10_000 });

    const edited = bob.page.getByTestId('message').filter({ hasText: 'typed by Bob, edited' });
    await edited.hover();
    await edited.getByRole('button', { name: 'Delete message' }).click();
    await ann.page.getByText('This message was deleted.').waitFor({ timeout: 10_000 });
    assert.equal(await countMessages(ann.page, 'typed by Bob, edited'), 0);
  });

  it('sidebar: a new DM with an unread badge and a presence dot, a mention badge, cleared on reading', async () => {
    // A slow DM creation, as under CI load: until the DM opens, Bob's composer is still the
    // channel's, so each send names the composer it means (typing into "/^Message /" right after
    // "Start" once sent the DM's text to the channel, and this test timed out now and then).
    await bob.page.route('**/api/dms', async (r) => {
      await new Promise((res) => setTimeout(res, 800));
      await r.continue();
    });
    await bob.page.getByRole('button', { name: 'Start a direct message' }).click();
    await bob.page.getByRole('textbox', { name: 'Find people' }).fill(annName.slice(0, 6));
    await bob.page.getByRole('dialog').getByRole('listitem').filter({ hasText: annName }).getByRole('button', { name: 'Add' }).click();
    await bob.page.getByRole('button', { name: 'Start', exact: true }).click();
    await send(bob.page, 'psst, a direct message', 'Message Ann Example');

    const dmLink = ann.page.getByRole('navigation').getByRole('link', { name: /Bob Builder/ });
    await dmLink.getByLabel('1 unread').waitFor({ timeout: 10_000 });
    await dmLink.getByRole('img', { name: 'online' }).waitFor({ timeout: 10_000 });

    await dmLink.click();
    await ann.page.getByTestId('message-text').filter({ hasText: 'psst, a direct message' }).waitFor();
    await dmLink.getByLabel('1 unread').waitFor({ state: 'detached' });

    await bob.page.getByRole('link', { name: channel }).click();
    await send(bob.page, `@${annName} please look at this`, `Message #${channel}`);
    const chLink = ann.page.getByRole('navigation').getByRole('link', { name: channel });
    await chLink.getByLabel('1 mentions').waitFor({ timeout: 10_000 });
    await chLink.click();
    await ann.page.getByRole('separator', { name: 'New messages' }).waitFor();
    await chLink.getByLabel('1 mentions').waitFor({ state: 'detached' });

    // The inbox lists the mention and jumps to it.
    await ann.page.getByRole('button', { name: /Notifications/ }).click();
    await ann.page
      .getByRole('dialog', { name: 'Inbox' })
      .getByRole('button', { name: /Bob Builder mentioned you/ })
      .first()
      .click();
    await ann.page.locator('.msg.focused').filter({ hasText: 'please look at this' }).waitFor();
  });

  it('takes screenshots of the main views in light and dark', async () => {
    mkdirSync(SHOTS, { recursive: true });
    for (const theme of ['light', 'dark'] as const) {
      await ann.page.evaluate(`localStorage.setItem('nchat.theme', '${theme}')`);
      await ann.page.reload();
      await ann.page.getByRole('heading', { name: `# ${channel}` }).waitFor();
      await ann.page
        .getByTestId('message-text')
        .filter({ hasText: 'a reply' })
        .or(ann.page.getByRole('button', { name: '1 reply' }))
        .first()
        .waitFor();
      await ann.page.getByRole('navigation').getByRole('img', { name: 'online' }).waitFor();
      await ann.page.screenshot({ path: `${SHOTS}${theme}-channel.png` });
      await ann.page.getByRole('button', { name: '1 reply' }).click();
      await ann.page.getByRole('complementary', { name: 'Thread' }).getByText('a reply in the thread').waitFor();
      await ann.page.screenshot({ path: `${SHOTS}${theme}-thread.png` });
      await ann.page.keyboard.press('Control+k');
      await ann.page.getByRole('dialog', { name: 'Jump to…' }).waitFor();
      await ann.page.screenshot({ path: `${SHOTS}${theme}-switcher.png` });
      await ann.page.keyboard.press('Escape');
    }
    const phone = await newUser(env, { viewport: { width: 390, height: 780 } });
    await signInInUi(phone.page, env.url, bobName);
    await phone.page.getByRole('heading', { name: `# ${channel}` }).waitFor();
    await phone.page.screenshot({ path: `${SHOTS}phone-channel.png` });
    await phone.context.close();
  });

  it('ran without page errors, dialogs or CSP violations', () => {
    for (const w of [ann, bob]) {
      assert.deepEqual(w.errors, []);
      assert.deepEqual(w.dialogs, []);
      assert.deepEqual(w.violations, []);
    }
  });
});
