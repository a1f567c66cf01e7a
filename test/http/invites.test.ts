// Invite-only sign-up (NCHAT_SIGNUP_MODE=invite) on SQLite and PostgreSQL. The test server's
// first account (the owner) signs up without an invite, which is the first-account rule itself.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { forEachBackend, unique, type TestServer } from '../helpers/server.js';
import { assertError, ok } from './util.js';

const body = (extra: Record<string, unknown> = {}) => {
  const username = unique('inv');
  return { email: `${username}@example.test`, username, password: 'correct horse battery', ...extra };
};

await forEachBackend(
  'invite-only sign-up',
  (ctx) => {
    it('the first account signed up without an invite and is owner; later sign-ups need one', async () => {
      const srv: TestServer = ctx.server();
      assert.equal(ok(await srv.owner.api.get('/api/users/me')).role, 'owner');
      assertError(await srv.api.post('/api/auth/signup', body()), 403, 'INVITE_REQUIRED', 'no invite');
      assertError(await srv.api.post('/api/auth/signup', body({ invite: 'x'.repeat(43) })), 403, 'INVITE_INVALID', 'unknown invite');
      assertError(await srv.api.post('/api/auth/signup', body({ invite: 'bad token!' })), 400, 'VALIDATION_FAILED', 'malformed invite');
    });

    it('an admin creates an invite (shown once); it admits maxUses accounts as members, then is used up', async () => {
      const srv = ctx.server();
      const inv = ok(await srv.owner.api.post('/api/admin/invites', { maxUses: 2, expiresInSec: 3600 }), 201, 'create invite');
      assert.match(inv.token, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(inv.maxUses, 2);
      const exp = Date.parse(inv.expiresAt) - Date.now();
      assert.ok(exp > 3500_000 && exp <= 3600_000, `expiresAt ${inv.expiresAt}`);
      const a = ok(await srv.api.post('/api/auth/signup', body({ invite: inv.token })), 201, 'first use');
      assert.equal(a.user.role, 'member');
      assert.equal(ok(await srv.api.as(a.accessToken).get('/api/users/me')).id, a.user.id);
      ok(await srv.api.post('/api/auth/signup', body({ invite: inv.token })), 201, 'second use');
      assertError(await srv.api.post('/api/auth/signup', body({ invite: inv.token })), 403, 'INVITE_INVALID', 'used up');
    });

    it('a sign-up that fails (name taken) gives the invite use back; concurrent uses of a 1-use invite admit one', async () => {
      const srv = ctx.server();
      const taken = await srv.owner.api.get('/api/users/me');
      const inv = ok(await srv.owner.api.post('/api/admin/invites', {}), 201);
      assert.equal(inv.maxUses, 1);
      assertError(
        await srv.api.post('/api/auth/signup', { ...body({ invite: inv.token }), username: taken.body.username }),
        409,
        'USERNAME_TAKEN',
      );
      ok(await srv.api.post('/api/auth/signup', body({ invite: inv.token })), 201, 'the use was given back');

      const one = ok(await srv.owner.api.post('/api/admin/invites', { maxUses: 1 }), 201);
      const rs = await Promise.all(Array.from({ length: 5 }, () => srv.api.post('/api/auth/signup', body({ invite: one.token }))));
      assert.deepEqual(rs.map((r) => r.status).sort(), [201, 403, 403, 403, 403]);
    });

    it('only workspace owners/admins create invites; bad bodies are 400; admins can still create accounts directly', async () => {
      const srv = ctx.server();
      const inv = ok(await srv.owner.api.post('/api/admin/invites', {}), 201);
      const m = ok(await srv.api.post('/api/auth/signup', body({ invite: inv.token })), 201);
      assertError(await srv.api.as(m.accessToken).post('/api/admin/invites', {}), 403, 'FORBIDDEN', 'member');
      assertError(await srv.api.post('/api/admin/invites', {}), 401, 'UNAUTHENTICATED', 'anonymous');
      assertError(await srv.owner.api.post('/api/admin/invites', { maxUses: 0 }), 400, 'VALIDATION_FAILED', 'maxUses 0');
      assertError(await srv.owner.api.post('/api/admin/invites', { expiresInSec: 10 }), 400, 'VALIDATION_FAILED', 'too short');
      assertError(await srv.owner.api.post('/api/admin/invites', { uses: 3 }), 400, 'VALIDATION_FAILED', 'unknown field');
      const u = body();
      const bulk = ok(await srv.owner.api.post('/api/admin/users/bulk', { users: [u] }), 201);
      assert.equal(bulk.users[0].user.username, u.username);
    });
  },
  { NCHAT_SIGNUP_MODE: 'invite' },
);
