// Staying signed in and signing out, in Chromium against a server whose access tokens live 30 s
// (the shortest allowed): the client refreshes in the background before expiry (the stored
// tokens rotate), the WebSocket and REST keep working after the first token has expired, a
// reload stays signed in, and sign-out revokes the session on the server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { unique } from '../helpers/server.js';
import { browserSkipReason, newUser, send, signInWithTokens, startWeb, type WebEnv } from './browser.js';

describe('web client: session', { skip: browserSkipReason() }, () => {
  let env: WebEnv;
  before(async () => {
    env = await startWeb({ NCHAT_ACCESS_TOKEN_TTL: '30' });
  });
  after(async () => {
    await env?.stop();
  });

  it('refreshes in the background, keeps chatting past the first token’s expiry, signs out for good', async () => {
    const ann = await env.server.user('ann');
    const ch = (await ann.api.post('/api/channels', { name: unique('sess'), type: 'public' })).body;
    const w = await newUser(env);
    await signInWithTokens(w, env.url, ann);
    const p = w.page;
    await p.getByRole('link', { name: new RegExp(ch.name) }).click();
    const session = async () =>
      JSON.parse((await p.evaluate(`localStorage.getItem('nchat.session')`)) as string) as { accessToken: string; refreshToken: string };
    const first = await session();
    // Refresh is scheduled at half the remaining life (~15 s); the first token expires at 30 s.
    await p.waitForFunction(
      (old: string) => JSON.parse((globalThis as any).localStorage.getItem('nchat.session')).refreshToken !== old,
      first.refreshToken,
      {
        timeout: 28_000,
      },
    );
    const rotated = await session();
    assert.notEqual(rotated.accessToken, first.accessToken);
    // Past the first access token’s 30 s: everything below runs on rotated tokens.
    await p.waitForTimeout(Math.max(0, 31_000 - 17_000));
    await send(p, 'still here after the first token expired');
    await p.getByTestId('message-text').filter({ hasText: 'still here after the first token expired' }).waitFor({ timeout: 20_000 });
    assert.equal(await p.getByTestId('pending-message').count(), 0);
    await p.reload();
    await p.getByRole('heading', { name: `# ${ch.name}` }).waitFor();

    const before = await session();
    await p.getByRole('button', { name: 'Sign out' }).click();
    await p.getByRole('heading', { name: /Sign in/ }).waitFor();
    assert.equal(await p.evaluate(`localStorage.getItem('nchat.session')`), null);
    const reuse = await env.server.api.post('/api/auth/refresh', { refreshToken: before.refreshToken });
    assert.equal(reuse.status, 401, 'the signed-out session cannot be refreshed');
    assert.deepEqual(w.errors, [], 'page errors');
  });
});
