// Accounts and sessions over real HTTP, on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { forEachBackend, unique } from '../helpers/server.js';

await forEachBackend(
  'auth',
  (ctx) => {
    it('the first account is owner, later ones members; duplicates are refused case-insensitively', async () => {
      const srv = ctx.server();
      const me = await srv.owner.api.get('/api/users/me');
      assert.equal(me.body.role, 'owner');
      const second = await srv.user('mem');
      assert.equal((await second.api.get('/api/users/me')).body.role, 'member');

      const dupName = await srv.api.post('/api/auth/signup', {
        email: `${unique('x')}@example.test`,
        username: second.username.toUpperCase(),
        password: 'correct horse battery',
      });
      assert.equal(dupName.status, 409);
      assert.equal(dupName.body.error.code, 'USERNAME_TAKEN');
      const dupMail = await srv.api.post('/api/auth/signup', {
        email: `${second.username.toUpperCase()}@EXAMPLE.test`,
        username: unique('y'),
        password: 'correct horse battery',
      });
      assert.equal(dupMail.status, 409);
      assert.equal(dupMail.body.error.code, 'EMAIL_TAKEN');
    });

    it('signs in with username or email; a wrong password is 401 INVALID_CREDENTIALS', async () => {
      const srv = ctx.server();
      const u = await srv.user('sig');
      for (const login of [u.username, `${u.username}@example.test`, u.username.toUpperCase()]) {
        const r = await srv.api.post('/api/auth/signin', { login, password: 'correct horse battery' });
        assert.equal(r.status, 200, login);
        assert.equal(r.body.user.id, u.id);
        assert.ok(r.body.accessToken && r.body.refreshToken);
        assert.equal(r.body.user.passwordHash, undefined);
      }
      const bad = await srv.api.post('/api/auth/signin', { login: u.username, password: 'wrong password' });
      assert.equal(bad.status, 401);
      assert.equal(bad.body.error.code, 'INVALID_CREDENTIALS');
      const nobody = await srv.api.post('/api/auth/signin', { login: 'nobody-here', password: 'wrong password' });
      assert.equal(nobody.status, 401);
      assert.equal(nobody.body.error.code, 'INVALID_CREDENTIALS');
    });

    it('rate-limits failed sign-ins per account', async () => {
      const srv = ctx.server();
      const u = await srv.user('rl');
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push((await srv.api.post('/api/auth/signin', { login: u.username, password: 'nope-nope' })).status);
      assert.deepEqual(codes, [401, 401, 401, 401, 401]);
      const limited = await srv.api.post('/api/auth/signin', { login: u.username, password: 'correct horse battery' });
      assert.equal(limited.status, 429);
      assert.equal(limited.body.error.code, 'RATE_LIMITED');
      // Another account from the same IP is unaffected.
      const other = await srv.user('rl2');
      assert.equal((await srv.api.post('/api/auth/signin', { login: other.username, password: 'correct horse battery' })).status, 200);
    });

    it('refresh rotates; reusing a spent refresh token revokes the whole family', async () => {
      const srv = ctx.server();
      const u = await srv.user('rot');
      const r1 = await srv.api.post('/api/auth/refresh', { refreshToken: u.refreshToken });
      assert.equal(r1.status, 200);
      assert.notEqual(r1.body.refreshToken, u.refreshToken);
      assert.equal((await srv.api.as(r1.body.accessToken).get('/api/users/me')).body.id, u.id);

      const reuse = await srv.api.post('/api/auth/refresh', { refreshToken: u.refreshToken });
      assert.equal(reuse.status, 401);
      assert.equal(reuse.body.error.code, 'REFRESH_REUSED');
      // The legitimate successor is revoked too: whoever stole the old token gains nothing.
      const successor = await srv.api.post('/api/auth/refresh', { refreshToken: r1.body.refreshToken });
      assert.equal(successor.status, 401);
      assert.equal(successor.body.error.code, 'TOKEN_INVALID');
    });

    it('signout revokes the sign-in; unknown refresh tokens are 401', async () => {
      const srv = ctx.server();
      const u = await srv.user('out');
      assert.equal((await srv.api.post('/api/auth/signout', { refreshToken: u.refreshToken })).status, 204);
      const after = await srv.api.post('/api/auth/refresh', { refreshToken: u.refreshToken });
      assert.equal(after.status, 401);
      const unknown = await srv.api.post('/api/auth/refresh', { refreshToken: 'x'.repeat(43) });
      assert.equal(unknown.status, 401);
      assert.equal(unknown.body.error.code, 'TOKEN_INVALID');
    });

    it('profiles: me, patch, get by id hides email from others, directory prefix search', async () => {
      const srv = ctx.server();
      const a = await srv.user('prof');
      const b = await srv.user('prof');
      const p = await a.api.patch('/api/users/me', { displayName: 'Ann Émile', status: 'in a meeting' });
      assert.equal(p.status, 200);
      assert.equal(p.body.displayName, 'Ann Émile');
      const seen = await b.api.get(`/api/users/${a.id}`);
      assert.equal(seen.status, 200);
      assert.equal(seen.body.displayName, 'Ann Émile');
      assert.equal(seen.body.email, undefined);
      const dir = await b.api.get(`/api/users?q=${encodeURIComponent(a.username.slice(0, 6))}&limit=50`);
      assert.equal(dir.status, 200);
      assert.ok(dir.body.users.some((x: { id: string }) => x.id === a.id));
      const byName = await b.api.get(`/api/users?q=${encodeURIComponent('ann é')}`);
      assert.ok(byName.body.users.some((x: { id: string }) => x.id === a.id));
      assert.equal((await b.api.get('/api/users/00000000000000000000zz')).status, 404);
    });

    it('a role change applies to existing access tokens at once', async () => {
      const srv = ctx.server();
      const u = await srv.user('demote');
      assert.equal((await u.api.get('/api/channels?browse=public')).status, 200);
      const r = await srv.owner.api.patch(`/api/admin/users/${u.id}`, { role: 'guest' });
      assert.equal(r.status, 200);
      assert.equal(r.body.role, 'guest');
      const refused = await u.api.get('/api/channels?browse=public');
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error.code, 'FORBIDDEN');
    });

    it('bulk account creation is for workspace admins only', async () => {
      const srv = ctx.server();
      const owner = srv.owner;
      const member = await srv.user('m');
      const users = [0, 1, 2].map(() => {
        const username = unique('bk');
        return { username, email: `${username}@example.test`, password: 'correct horse battery' };
      });
      const refused = await member.api.post('/api/admin/users/bulk', { users });
      assert.equal(refused.status, 403);
      const ok = await owner.api.post('/api/admin/users/bulk', { users });
      assert.equal(ok.status, 201);
      assert.equal(ok.body.users.length, 3);
      const tok = ok.body.users[0].accessToken;
      assert.equal((await srv.api.as(tok).get('/api/users/me')).body.username, users[0].username);
    });
  },
  { NCHAT_SIGNIN_LIMIT_ACCOUNT: '5' },
);
