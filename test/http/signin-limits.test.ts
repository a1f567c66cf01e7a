// Sign-in guessing limits that cannot be turned into a lock-out (services/signin-guard.ts), on
// SQLite and PostgreSQL. Client addresses are passed to the real AuthService of a running
// server (the HTTP layer only supplies req.ip, which in tests is always 127.0.0.1).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { AppError } from '../../src/server/errors.js';
import { SLOWDOWN_MS } from '../../src/server/services/signin-guard.js';
import { forEachBackend, unique, type TestServer } from '../helpers/server.js';

const PW = 'correct horse battery';

async function attempt(srv: TestServer, login: string, password: string, ip: string): Promise<string> {
  try {
    const s = await srv.running.services.auth.signin({ login, password }, ip);
    return `ok:${s.user.id}`;
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
}

await forEachBackend(
  'sign-in limits',
  (ctx) => {
    it("an attacker failing with the victim's username and email from other IPs does not stop the victim (slowed, not blocked) from a known IP", async () => {
      const srv = ctx.server();
      const v = await srv.user('victim');
      const email = `${v.username}@example.test`;
      const Y = '198.51.100.20';
      assert.equal(await attempt(srv, v.username, PW, Y), `ok:${v.id}`, 'victim signs in from Y once (Y becomes known)');
      const X1 = '203.0.113.1';
      const X2 = '203.0.113.2';
      for (let i = 0; i < 5; i++) assert.equal(await attempt(srv, v.username, 'guess-' + i, X1), 'INVALID_CREDENTIALS');
      assert.equal(await attempt(srv, v.username, PW, X1), 'RATE_LIMITED', '(account, X1) is blocked, even with the right password');
      // Email and username count on one account counter: 5 more by email reach the account limit (10).
      for (let i = 0; i < 5; i++) assert.equal(await attempt(srv, email.toUpperCase(), 'guess-' + i, X2), 'INVALID_CREDENTIALS');
      assert.equal(
        await attempt(srv, v.username, 'guess-x', '203.0.113.3'),
        'RATE_LIMITED',
        'a fresh attacker IP is blocked at the account limit',
      );
      assert.equal(await attempt(srv, email, PW, '203.0.113.4'), 'RATE_LIMITED', 'also by email, also with the right password');
      const t0 = Date.now();
      assert.equal(await attempt(srv, v.username, PW, Y), `ok:${v.id}`, 'the victim still signs in from Y');
      const took = Date.now() - t0;
      assert.ok(took >= SLOWDOWN_MS - 5, `slowed down (${took} ms)`);
      assert.equal(await attempt(srv, v.username, 'typo', Y), 'INVALID_CREDENTIALS', 'a typo from Y is an ordinary failure');
    });

    it('below the account limit, another IP is unaffected by one attacker IP', async () => {
      const srv = ctx.server();
      const v = await srv.user('victim');
      for (let i = 0; i < 5; i++) await attempt(srv, v.username, 'guess', '203.0.113.10');
      assert.equal(await attempt(srv, v.username, PW, '203.0.113.10'), 'RATE_LIMITED');
      assert.equal(await attempt(srv, v.username, PW, '192.0.2.77'), `ok:${v.id}`, 'a new IP of the victim');
    });

    it('IPv6 clients count by /64', async () => {
      const srv = ctx.server();
      const v = await srv.user('v6');
      for (let i = 0; i < 5; i++) assert.equal(await attempt(srv, v.username, 'guess', `2001:db8:1:2::${i + 1}`), 'INVALID_CREDENTIALS');
      assert.equal(await attempt(srv, v.username, PW, '2001:db8:1:2:ffff::9'), 'RATE_LIMITED', 'same /64');
      assert.equal(await attempt(srv, v.username, PW, '2001:db8:1:3::1'), `ok:${v.id}`, 'another /64');
    });

    it('an unknown login is limited exactly like an account (existence is not revealed)', async () => {
      const srv = ctx.server();
      const ghost = unique('ghost');
      const known = await srv.user('known');
      const seq = async (login: string, ip: string) => {
        const out: string[] = [];
        for (let i = 0; i < 6; i++) out.push(await attempt(srv, login, 'wrong password', ip));
        return out;
      };
      const a = await seq(ghost, '203.0.113.50');
      const b = await seq(known.username, '203.0.113.51');
      assert.deepEqual(a, [...Array(5).fill('INVALID_CREDENTIALS'), 'RATE_LIMITED']);
      assert.deepEqual(b, a);
    });
  },
  { NCHAT_SIGNIN_LIMIT_ACCOUNT: '10', NCHAT_SIGNIN_LIMIT_ACCOUNT_IP: '5' },
);
