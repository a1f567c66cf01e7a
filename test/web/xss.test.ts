// The classic XSS payloads through every field a user controls — message text (as Markdown and
// as a link), display name, status, channel description and topic, DM names and filenames (and an
// SVG upload carrying a script) — rendered in a
// real Chromium by another user and by the author, in the channel, the search results (snippets
// and the author's display name), a thread panel whose root and reply are payloads, and a DM: no
// dialog opens, no payload script runs (a global flag stays unset), no CSP violation is reported
// (nothing even tried to run), and the DOM holds no element or link the payloads asked for. The
// checks run after each of those views. Channel names refuse such text at the API.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { unique } from '../helpers/server.js';
import { browserSkipReason, newUser, signInWithTokens, startWeb, type Watched, type WebEnv } from './browser.js';

const PAYLOADS = [
  '<script>window.__xss=1;alert(1)</script>',
  '<img src=x onerror="window.__xss=1;alert(1)">',
  '<svg onload="window.__xss=1;alert(1)"></svg>',
  '"><script>window.__xss=1</script>',
  "'><img src=x onerror=alert(1)>",
  '[click](javascript:window.__xss=1;alert(1))',
  '[click](JaVaScRiPt:alert(1))',
  '<a href="javascript:alert(1)">x</a>',
  '<iframe src="javascript:alert(1)"></iframe>',
  '![x](javascript:alert(1))',
  '`<script>alert(1)</script>`',
  '```html\n<script>window.__xss=1</script>\n```',
  '<details open ontoggle=alert(1)>',
  'data:text/html,<script>alert(1)</script>',
];

// A thread whose root and reply are payloads (each also carries a word to find it by).
const THREAD_ROOT = '<img src=x onerror="window.__xss=1;alert(1)"> [root](javascript:alert(1)) threadroot';
const THREAD_REPLY = '<svg onload="window.__xss=1;alert(1)"></svg> ![x](javascript:alert(1)) <script>alert(1)</script> threadreply';

/** Nothing ran and nothing the payloads asked for is in the DOM, in the view open now (`where`). */
async function assertInert(w: Watched, where: string): Promise<void> {
  const p = w.page;
  await p.waitForTimeout(300);
  assert.equal(await p.evaluate('window.__xss'), undefined, `${where}: no payload script ran`);
  assert.deepEqual(w.dialogs, [], `${where}: no dialog opened`);
  assert.deepEqual(w.violations, [], `${where}: no CSP violation: nothing tried to run`);
  assert.deepEqual(w.errors, [], where);
  const found = await p.evaluate(
    `[...document.querySelectorAll('#root script, #root iframe, #root svg, #root img, #root details, [onerror], [onload], [ontoggle]')].map((e) => e.outerHTML)`,
  );
  assert.deepEqual(found, [], where);
  const hrefs = (await p.evaluate(`[...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href'))`)) as string[];
  for (const h of hrefs) assert.match(h, /^(#\/c\/|https?:|mailto:)/, `${where}: ${h}`);
}

describe('web client: XSS payloads stay inert', { skip: browserSkipReason() }, () => {
  let env: WebEnv;
  before(async () => {
    env = await startWeb();
  });
  after(async () => {
    await env?.stop();
  });

  it('through messages, profiles, channel texts and DMs', async () => {
    const mallory = await env.server.user('mal');
    const victim = await env.server.user('vic');
    const name = '<img src=x onerror=alert(1)>';
    assert.equal(
      (await mallory.api.patch('/api/users/me', { displayName: name, status: '<script>window.__xss=1</script>"><svg onload=alert(1)>' }))
        .status,
      200,
    );
    const refused = await mallory.api.post('/api/channels', { name: '<script>alert(1)</script>', type: 'public' });
    assert.equal(refused.status, 400, 'channel names refuse markup at the edge');
    const ch = await mallory.api.post('/api/channels', {
      name: unique('xss'),
      type: 'public',
      description: '<img src=x onerror=alert(1)>',
    });
    assert.equal(ch.status, 201);
    assert.equal((await mallory.api.patch(`/api/channels/${ch.body.id}`, { topic: '<svg onload="window.__xss=1">' })).status, 200);
    assert.equal((await victim.api.post(`/api/channels/${ch.body.id}/join`)).status, 200);
    for (const p of PAYLOADS) assert.equal((await mallory.api.post(`/api/channels/${ch.body.id}/messages`, { text: p })).status, 201);
    const root = await mallory.api.post(`/api/channels/${ch.body.id}/messages`, { text: THREAD_ROOT });
    assert.equal(root.status, 201);
    const reply = await mallory.api.post(`/api/channels/${ch.body.id}/messages`, { text: THREAD_REPLY, parentId: root.body.id });
    assert.equal(reply.status, 201);
    await mallory.api.post(`/api/channels/${ch.body.id}/messages`, { text: `@${victim.username} ${PAYLOADS[1]}` });
    // Filenames: markup in the name, and an SVG carrying a script (a download card, never inline).
    const fileIds: string[] = [];
    for (const [name, body] of [
      ['<img src=x onerror=alert(1)>.txt', 'hello'],
      ['"><svg onload=alert(1)>.svg', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>window.__xss=1</script></svg>'],
    ]) {
      const fd = new FormData();
      fd.append('channelId', ch.body.id);
      fd.append('file', new Blob([body]), name);
      const up = await fetch(`${env.url}/api/files`, { method: 'POST', headers: { authorization: `Bearer ${mallory.token}` }, body: fd });
      assert.equal(up.status, 201, await up.clone().text());
      fileIds.push(((await up.json()) as { id: string }).id);
    }
    assert.equal((await mallory.api.post(`/api/channels/${ch.body.id}/messages`, { text: 'files', fileIds })).status, 201);
    const dm = await mallory.api.post('/api/dms', { userIds: [victim.id] });
    await mallory.api.post(`/api/channels/${dm.body.id}/messages`, { text: PAYLOADS[0] });

    for (const who of [victim, mallory]) {
      const w = await newUser(env);
      await signInWithTokens(w, env.url, who);
      const p = w.page;
      await p.getByRole('link', { name: new RegExp(ch.body.name) }).click();
      await p
        .getByTestId('message-text')
        .filter({ hasText: PAYLOADS[PAYLOADS.length - 1] })
        .waitFor({ timeout: 10_000 });
      await p.getByTestId('file-card').filter({ hasText: 'onerror=alert(1)>.txt' }).waitFor();
      await p.getByTestId('file-card').filter({ hasText: '.svg' }).waitFor();
      // Every payload is on screen as text.
      for (const text of ['window.__xss=1;alert(1)</script>', 'onerror="window.__xss=1;alert(1)"', '[click](JaVaScRiPt:alert(1))'])
        assert.ok((await p.getByTestId('message-list').textContent())?.includes(text), text);
      await p.getByRole('button', { name: 'Browse channels' }).click();
      await p.getByRole('dialog').getByText('<img src=x onerror=alert(1)>').first().waitFor();
      await p.keyboard.press('Escape');
      await p.getByRole('button', { name: /Notifications/ }).click();
      await p.keyboard.press('Escape');
      await p.keyboard.press('Control+k');
      await p.keyboard.press('Escape');
      await assertInert(w, 'channel');

      // The thread panel: a payload root and a payload reply.
      await p.getByRole('button', { name: '1 reply' }).click();
      const thread = p.getByRole('complementary', { name: 'Thread' });
      await thread.getByTestId('message-text').filter({ hasText: 'threadreply' }).waitFor({ timeout: 10_000 });
      const threadText = (await thread.textContent()) ?? '';
      for (const text of ['onerror="window.__xss=1;alert(1)"> [root](javascript:alert(1))', '<svg onload="window.__xss=1;alert(1)"></svg>'])
        assert.ok(threadText.includes(text), `thread shows as text: ${text}`);
      await assertInert(w, 'thread panel');
      await thread.getByRole('button', { name: 'Close thread' }).click();

      // Search results: payload snippets under the payload display name.
      await p.getByRole('button', { name: 'Search', exact: true }).click();
      const box = p.getByRole('searchbox', { name: 'Search messages' });
      await box.fill('onerror');
      await box.press('Enter');
      const results = p.getByTestId('search-result');
      await results.filter({ hasText: 'threadroot' }).waitFor({ timeout: 10_000 });
      assert.ok((await results.count()) >= 3, 'the payload messages are found');
      const first = (await results.first().textContent()) ?? '';
      assert.ok(first.includes(name), 'the author display name shows as text');
      assert.ok(first.includes('onerror'), 'the snippet shows as text');
      assert.ok((await results.locator('mark').count()) > 0, 'matches are highlighted');
      await assertInert(w, 'search results');
      await p.keyboard.press('Escape');

      const dmLink = p.getByRole('navigation').getByRole('link', { name: who === victim ? name : /vic/ });
      await dmLink.click();
      await p.getByTestId('message-text').first().waitFor();
      await assertInert(w, 'DM');
      await w.context.close();
    }
  });
});
