// docs/OPERATIONS.md "Limits and abuse": sign-in and sign-up attempts per client IP (50 per
// 15 min by default, NCHAT_SIGNIN_LIMIT_IP) → 429. Every attempt counts, successes and sign-ups
// included, whichever account it names; another client IP (through a trusted proxy) has its own
// allowance; a refused sign-up creates nothing. The limiter lives in node memory, not the store,
// so one backend is enough.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, unique } from '../helpers/server.js';

const LIMIT = 8;

test('per-IP sign-in/sign-up limit: every attempt counts, the next one is 429 with retryAfterSec, another IP is apart', async () => {
  const srv = await startTestServer('sqlite', { NCHAT_SIGNIN_LIMIT_IP: String(LIMIT), NCHAT_TRUST_PROXY: '127.0.0.1' });
  try {
    const password = 'correct horse battery';
    const signup = (username: string, ip?: string) =>
      srv.api.req(
        'POST',
        '/api/auth/signup',
        { email: `${username}@example.test`, username, password },
        { headers: ip ? { 'x-forwarded-for': ip } : {} },
      );
    const signin = (login: string, pw = password, ip?: string) =>
      srv.api.req('POST', '/api/auth/signin', { login, password: pw }, { headers: ip ? { 'x-forwarded-for': ip } : {} });
    // The owner's sign-up at start was attempt 1 from 127.0.0.1. Mix successes, a failure and sign-ups
    // of several accounts, so no per-account rule can be what stops them.
    const names = [unique('ipa'), unique('ipb')];
    const statuses: number[] = [];
    statuses.push((await signup(names[0])).status);
    statuses.push((await signin(names[0])).status);
    statuses.push((await signin(names[0], 'wrong password')).status);
    statuses.push((await signup(names[1])).status);
    while (statuses.length < LIMIT - 1) statuses.push((await signin(names[statuses.length % 2])).status);
    assert.deepEqual(statuses, [201, 200, 401, 201, 200, 200, 200], 'the first LIMIT attempts (owner included) are served');
    const limited = await signin(names[1]);
    assert.equal(limited.status, 429, JSON.stringify(limited.body));
    assert.equal(limited.body.error.code, 'RATE_LIMITED');
    assert.ok(
      limited.body.error.details.retryAfterSec > 0 && limited.body.error.details.retryAfterSec <= 900,
      `retryAfterSec ${limited.body.error.details.retryAfterSec}`,
    );
    const late = unique('ipc');
    const refused = await signup(late);
    assert.equal(refused.status, 429, 'sign-ups count toward the same per-IP limit');
    // Another client IP, named by the trusted proxy, has its own allowance; the refused sign-up created nothing.
    const other = '203.0.113.7';
    const probe = await signin(late, password, other);
    assert.equal(probe.status, 401, 'the account refused with 429 does not exist');
    assert.equal(probe.body.error.code, 'INVALID_CREDENTIALS');
    assert.equal((await signin(names[0], password, other)).status, 200);
  } finally {
    await srv.stop();
  }
});
