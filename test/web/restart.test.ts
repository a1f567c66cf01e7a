// A server restart as the browser sees it: the server drains (sockets closed with 1012 and a
// retry hint), a message is typed while it is down, a new server process comes up on the same
// port and data directory, and the client reconnects by itself: the message typed while down goes
// out once, and a message sent by someone else after the restart arrives once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server/main.js';
import { Api, unique } from '../helpers/server.js';
import { browserSkipReason, CHROMIUM, countMessages, newUser, send, signInWithTokens, type WebEnv } from './browser.js';
// @ts-expect-error plain ESM script without types
import { ensureWeb } from '../../scripts/ensure-web.mjs';

describe('web client: server restart', { skip: browserSkipReason() }, () => {
  let dir: string;
  let server: RunningServer | undefined;
  let env: WebEnv;
  const start = (port: number) =>
    startServer(
      loadConfig(
        {},
        {
          NCHAT_PORT: String(port),
          NCHAT_HOST: '127.0.0.1',
          NCHAT_DATA_DIR: dir,
          NCHAT_LOG_LEVEL: 'silent',
          NCHAT_ARGON2_MEMORY_KIB: '1024',
          NCHAT_SIGNIN_LIMIT_IP: '100000',
          NCHAT_SEND_LIMIT: '100000',
        },
      ),
    );

  before(async () => {
    assert.equal(ensureWeb({ quiet: true }), 0);
    dir = await mkdtemp(join(tmpdir(), 'nchat-web-restart-'));
    server = await start(0);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    // Only `browser` and `url` of a WebEnv are used by newUser / signInWithTokens.
    env = { browser, url: server.url, server: undefined as never, stop: async () => browser.close() };
  });
  after(async () => {
    await env?.stop();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reconnects after a restart; nothing lost, nothing doubled', async () => {
    const api = new Api(server!.url);
    const signup = async (name: string) => {
      const r = await api.post('/api/auth/signup', { email: `${name}@example.test`, username: name, password: 'correct horse battery' });
      assert.equal(r.status, 201);
      return { id: r.body.user.id as string, token: r.body.accessToken as string, refreshToken: r.body.refreshToken as string };
    };
    const ann = await signup(unique('ann'));
    const bob = await signup(unique('bob'));
    const ch = (await api.as(ann.token).post('/api/channels', { name: unique('restart'), type: 'public' })).body;
    assert.equal((await api.as(bob.token).post(`/api/channels/${ch.id}/join`)).status, 200);

    const w = await newUser(env);
    await signInWithTokens(w, env.url, ann);
    const p = w.page;
    await p.getByRole('link', { name: ch.name }).click();
    await send(p, 'before the restart');
    await p.getByTestId('message-text').filter({ hasText: 'before the restart' }).waitFor();

    const port = server!.port;
    await server!.drain();
    server = undefined;
    await p.getByTestId('conn-banner').waitFor({ timeout: 10_000 });
    await send(p, 'typed while the server was down');
    await p.getByTestId('pending-message').waitFor();

    server = await start(port);
    await p.getByTestId('conn-banner').waitFor({ state: 'detached', timeout: 20_000 });
    await p.getByTestId('message-text').filter({ hasText: 'typed while the server was down' }).waitFor({ timeout: 10_000 });
    assert.equal(
      (await new Api(server.url).as(bob.token).post(`/api/channels/${ch.id}/messages`, { text: 'bob after the restart' })).status,
      201,
    );
    await p.getByTestId('message-text').filter({ hasText: 'bob after the restart' }).waitFor({ timeout: 10_000 });
    await p.waitForTimeout(500);
    for (const t of ['before the restart', 'typed while the server was down', 'bob after the restart'])
      assert.equal(await countMessages(p, t), 1, t);
    const history = await new Api(server.url).as(bob.token).get(`/api/channels/${ch.id}/messages`);
    assert.deepEqual(history.body.messages.map((m: any) => m.text).reverse(), [
      'before the restart',
      'typed while the server was down',
      'bob after the restart',
    ]);
    assert.deepEqual(w.errors, []);
  });
});
