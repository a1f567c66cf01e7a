// Browser notifications, in Chromium against a real server: a mention while the tab is visible
// goes to the inbox only; while the tab is hidden (and the user allowed notifications) it also
// raises a system notification with who and what; clicking it opens the channel at the message.
// The page's Notification API and its visibility are replaced by a recorder and a flag (an init
// script): headless Chromium shows no system notifications and cannot hide its own tab. Everything
// else is the real client and server; the mentions are sent by a second user through the API.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { WebSocketRoute } from 'playwright-core';
import { type TestUser, unique } from '../helpers/server.js';
import { browserSkipReason, newUser, signInWithTokens, startWeb, type Watched, type WebEnv } from './browser.js';

const RECORDER = `
window.__notes = [];
window.__hidden = false;
Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get() { return window.__hidden ? 'hidden' : 'visible'; } });
Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get() { return !!window.__hidden; } });
class RecordingNotification {
  constructor(title, opts) { this.title = title; this.body = opts && opts.body; this.onclick = null; this.closed = false; window.__notes.push(this); }
  close() { this.closed = true; }
  static get permission() { return 'granted'; }
  static requestPermission() { return Promise.resolve('granted'); }
}
window.Notification = RecordingNotification;
`;

describe('web client: browser notifications', { skip: browserSkipReason() }, () => {
  let env: WebEnv;
  let ann: TestUser;
  let bob: TestUser;
  let w: Watched;
  let channel: { id: string; name: string };
  let cut = false;
  const sockets = new Set<WebSocketRoute>();

  before(async () => {
    env = await startWeb();
    ann = await env.server.user('ann');
    bob = await env.server.user('bob');
    channel = (await ann.api.post('/api/channels', { name: unique('ping'), type: 'public' })).body;
    assert.equal((await bob.api.post(`/api/channels/${channel.id}/join`, {})).status < 300, true, 'bob joins');
    w = await newUser(env);
    // The WebSocket goes through a route the test can cut (a network loss as the page sees it).
    await w.page.routeWebSocket(/\/ws$/, (ws) => {
      if (cut) return void ws.close({ code: 4999, reason: 'network cut by the test' });
      ws.connectToServer();
      sockets.add(ws);
    });
    await w.context.addInitScript({ content: RECORDER });
    await signInWithTokens(w, env.url, ann);
  });
  after(async () => {
    await env?.stop();
  });

  const notes = () =>
    w.page.evaluate('window.__notes.map((n) => ({ title: n.title, body: n.body, closed: n.closed }))') as Promise<
      { title: string; body: string; closed: boolean }[]
    >;

  it('visible tab: inbox only; hidden tab: a notification that opens the message when clicked', async () => {
    const p = w.page;
    const seen = await bob.api.post(`/api/channels/${channel.id}/messages`, { text: `@${ann.username} while you look` });
    assert.equal(seen.status, 201, JSON.stringify(seen.body));
    await p.getByRole('button', { name: 'Notifications (1 unread)' }).waitFor();
    assert.deepEqual(await notes(), [], 'no system notification while the tab is visible');

    await p.evaluate('window.__hidden = true');
    const text = `@${ann.username} while you are away`;
    const away = await bob.api.post(`/api/channels/${channel.id}/messages`, { text });
    assert.equal(away.status, 201, JSON.stringify(away.body));
    // Polled from here with page.evaluate: waitForFunction's in-page polling compiles its
    // predicate with eval, which the app's CSP (script-src 'self') refuses once it has to poll.
    for (const end = Date.now() + 10_000; (await p.evaluate('window.__notes.length')) !== 1; ) {
      assert.ok(Date.now() < end, 'one system notification within 10 s');
      await p.waitForTimeout(50);
    }
    const [n] = await notes();
    assert.equal(n.title, 'ɳChat');
    assert.match(n.body, /mentioned you$/, n.body);
    assert.ok(n.body.length < 200 && !n.body.includes('<'), 'plain text');

    await p.evaluate('window.__hidden = false');
    await p.evaluate('window.__notes[0].onclick()');
    await p.getByRole('heading', { name: `# ${channel.name}` }).waitFor();
    await p.getByTestId('message').filter({ hasText: 'while you are away' }).waitFor();
    assert.equal((await notes())[0].closed, true, 'the clicked notification is closed');
    assert.equal((await notes()).length, 1, 'one notification for one mention');

    assert.deepEqual(w.errors, []);
    assert.deepEqual(w.violations, []);
    assert.deepEqual(w.dialogs, []);
  });

  it('a mention made while the socket was cut shows after the reconnect (notifications are fetched again on hello)', async () => {
    const p = w.page;
    const badge = p.getByRole('button', { name: /^Notifications \(\d+ unread\)$/ });
    const unread = async () => Number((/\((\d+) unread\)/.exec((await badge.getAttribute('aria-label')) ?? '') ?? [])[1]);
    const before = await unread();
    cut = true;
    for (const ws of sockets) await ws.close({ code: 4999, reason: 'network cut by the test' }).catch(() => undefined);
    sockets.clear();
    await p.getByTestId('conn-banner').waitFor({ timeout: 10_000 });
    const r = await bob.api.post(`/api/channels/${channel.id}/messages`, { text: `@${ann.username} while your socket was down` });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await p.waitForTimeout(300);
    assert.equal(await unread(), before, 'nothing can arrive while cut');
    cut = false;
    await p.getByTestId('conn-banner').waitFor({ state: 'detached', timeout: 20_000 });
    await p.getByRole('button', { name: `Notifications (${before + 1} unread)` }).waitFor({ timeout: 10_000 });
    await p.waitForTimeout(500);
    assert.equal(await unread(), before + 1, 'listed once');
  });
});
