// Sessions over real HTTP on SQLite and PostgreSQL: concurrent refresh cannot outlive a
// revocation, revocation applies to access tokens at once, account deactivation.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { forEachBackend, type TestServer } from '../helpers/server.js';
import { assertError, ok, send, createChannel } from './util.js';

const PW = 'correct horse battery';

async function signin(srv: TestServer, login: string) {
  return ok(await srv.api.post('/api/auth/signin', { login, password: PW }), 200, 'signin');
}

await forEachBackend('sessions', (ctx) => {
  it('concurrent refreshes with one token (30 trials x 2-5): one 200, the family is revoked, no returned token works', async () => {
    const srv = ctx.server();
    const u = await srv.user('race');
    let winners = 0;
    for (let trial = 0; trial < 30; trial++) {
      const s = await signin(srv, u.username);
      const n = 2 + (trial % 4);
      const rs = await Promise.all(Array.from({ length: n }, () => srv.api.post('/api/auth/refresh', { refreshToken: s.refreshToken })));
      const won = rs.filter((r) => r.status === 200);
      assert.equal(won.length, 1, `trial ${trial}: ${rs.map((r) => r.status)}`);
      winners++;
      const codes = rs.filter((r) => r.status !== 200).map((r) => r.body.error.code);
      assert.ok(codes.includes('REFRESH_REUSED'), `trial ${trial}: ${codes}`);
      for (const c of codes) assert.ok(c === 'REFRESH_REUSED' || c === 'TOKEN_INVALID', c);
      // The winner's successor was revoked with the family, and so is its access token.
      assertError(
        await srv.api.post('/api/auth/refresh', { refreshToken: won[0].body.refreshToken }),
        401,
        'TOKEN_INVALID',
        `trial ${trial} successor`,
      );
      assertError(
        await srv.api.as(won[0].body.accessToken).get('/api/users/me'),
        401,
        'TOKEN_INVALID',
        `trial ${trial} winner access token`,
      );
      assertError(await srv.api.as(s.accessToken).get('/api/users/me'), 401, 'TOKEN_INVALID', `trial ${trial} original access token`);
    }
    assert.equal(winners, 30);
  });

  it('access tokens carry the session id (sid) and stop working at once after sign-out; other sessions are untouched', async () => {
    const srv = ctx.server();
    const u = await srv.user('out');
    const other = await signin(srv, u.username);
    const claims = JSON.parse(Buffer.from(u.token.split('.')[1], 'base64url').toString());
    assert.equal(typeof claims.sid, 'string');
    assert.equal(claims.sub, u.id);
    assert.equal((await u.api.get('/api/users/me')).body.id, u.id);
    assert.equal((await srv.api.post('/api/auth/signout', { refreshToken: u.refreshToken })).status, 204);
    assertError(await u.api.get('/api/users/me'), 401, 'TOKEN_INVALID', 'signed-out access token');
    assert.equal(ok(await srv.api.as(other.accessToken).get('/api/users/me')).id, u.id, 'another sign-in keeps working');
  });

  it('refresh reuse ends the session: the access token of the rotated session is refused at once', async () => {
    const srv = ctx.server();
    const u = await srv.user('reuse');
    const r1 = ok(await srv.api.post('/api/auth/refresh', { refreshToken: u.refreshToken }));
    assert.equal(ok(await srv.api.as(r1.accessToken).get('/api/users/me')).id, u.id);
    assertError(await srv.api.post('/api/auth/refresh', { refreshToken: u.refreshToken }), 401, 'REFRESH_REUSED');
    assertError(await srv.api.as(r1.accessToken).get('/api/users/me'), 401, 'TOKEN_INVALID', 'access token after reuse');
  });

  it('a restarted view: a node that starts after a sign-out still refuses the token (revocations are read from the store)', async () => {
    const srv = ctx.server();
    const u = await srv.user('restart');
    await srv.api.post('/api/auth/signout', { refreshToken: u.refreshToken });
    const revoked = await srv.running.store.tokens.revokedSince(new Date(Date.now() - 60_000).toISOString());
    const sid = JSON.parse(Buffer.from(u.token.split('.')[1], 'base64url').toString()).sid;
    assert.ok(
      revoked.some((r) => r.familyId === sid && r.userId === u.id),
      'the family is listed for the start-up read',
    );
  });

  it('a demoted moderator loses moderator actions at once with the same access token', async () => {
    const srv = ctx.server();
    const mod = await srv.user('mod');
    const author = await srv.user('auth');
    ok(await srv.owner.api.patch(`/api/admin/users/${mod.id}`, { role: 'moderator' }));
    const ch = await createChannel(author.api, `mod${Date.now().toString(36)}`);
    ok(await mod.api.post(`/api/channels/${ch.id}/join`), 200, 'join');
    const m1 = await send(author.api, ch.id, 'one');
    const m2 = await send(author.api, ch.id, 'two');
    assert.equal((await mod.api.del(`/api/messages/${m1.id}`)).status, 200, 'moderator deletes');
    ok(await srv.owner.api.patch(`/api/admin/users/${mod.id}`, { role: 'member' }));
    assertError(await mod.api.del(`/api/messages/${m2.id}`), 403, 'FORBIDDEN', 'demoted moderator');
  });

  it('deactivation: tokens and refresh refused at once, sign-in refused with ACCOUNT_DEACTIVATED (only with the right password), reactivation', async () => {
    const srv = ctx.server();
    const u = await srv.user('deact');
    const second = await signin(srv, u.username);
    const member = await srv.user('m');
    assertError(await member.api.patch(`/api/admin/users/${u.id}`, { deactivated: true }), 403, 'FORBIDDEN', 'member deactivates');
    assertError(
      await srv.owner.api.patch(`/api/admin/users/${srv.owner.id}`, { deactivated: true }),
      403,
      'FORBIDDEN',
      'owner deactivates self',
    );
    assertError(await srv.owner.api.patch(`/api/admin/users/${u.id}`, {}), 400, 'VALIDATION_FAILED', 'empty patch');
    assertError(await srv.owner.api.patch(`/api/admin/users/${u.id}`, { deactivated: 'yes' }), 400, 'VALIDATION_FAILED', 'non-boolean');

    const d = ok(await srv.owner.api.patch(`/api/admin/users/${u.id}`, { deactivated: true }));
    assert.equal(d.id, u.id);
    assert.equal(typeof d.deactivatedAt, 'string');
    assertError(await u.api.get('/api/users/me'), 403, 'ACCOUNT_DEACTIVATED', 'access token');
    assertError(await srv.api.as(second.accessToken).get('/api/users/me'), 403, 'ACCOUNT_DEACTIVATED', 'second session');
    assertError(await srv.api.post('/api/auth/refresh', { refreshToken: u.refreshToken }), 401, 'TOKEN_INVALID', 'refresh');
    assertError(await srv.api.post('/api/auth/refresh', { refreshToken: second.refreshToken }), 401, 'TOKEN_INVALID', 'refresh 2');
    assertError(
      await srv.api.post('/api/auth/signin', { login: u.username, password: 'wrong password' }),
      401,
      'INVALID_CREDENTIALS',
      'wrong password tells nothing',
    );
    assertError(await srv.api.post('/api/auth/signin', { login: u.username, password: PW }), 403, 'ACCOUNT_DEACTIVATED', 'sign-in');

    const back = ok(await srv.owner.api.patch(`/api/admin/users/${u.id}`, { deactivated: false }));
    assert.equal(back.deactivatedAt, null);
    const again = await signin(srv, u.username);
    assert.equal(ok(await srv.api.as(again.accessToken).get('/api/users/me')).id, u.id);
    assertError(await u.api.get('/api/users/me'), 401, 'TOKEN_INVALID', 'sessions ended by deactivation stay ended');
  });

  it('admins cannot deactivate the owner or other admins; role and deactivation in one request', async () => {
    const srv = ctx.server();
    const admin = await srv.user('adm');
    ok(await srv.owner.api.patch(`/api/admin/users/${admin.id}`, { role: 'admin' }));
    const admin2 = await srv.user('adm');
    ok(await srv.owner.api.patch(`/api/admin/users/${admin2.id}`, { role: 'admin' }));
    assertError(await admin.api.patch(`/api/admin/users/${srv.owner.id}`, { deactivated: true }), 403, 'FORBIDDEN', 'admin → owner');
    assertError(await admin.api.patch(`/api/admin/users/${admin2.id}`, { deactivated: true }), 403, 'FORBIDDEN', 'admin → admin');
    const m = await srv.user('both');
    const r = ok(await admin.api.patch(`/api/admin/users/${m.id}`, { role: 'guest', deactivated: true }));
    assert.equal(r.role, 'guest');
    assert.equal(typeof r.deactivatedAt, 'string');
    assertError(await admin.api.patch(`/api/admin/users/00000000000000000000zz`, { deactivated: true }), 404, 'NOT_FOUND', 'missing user');
  });
});
