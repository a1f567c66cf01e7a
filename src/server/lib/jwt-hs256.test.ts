// signHs256 / verifyHs256 against jose (the library the rest of the JWT world is checked by):
// the same bytes for the same claims, and each side accepts the other's tokens.
import assert from 'node:assert/strict';
import { createSecretKey, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { jwtVerify, SignJWT } from 'jose';
import { signHs256, verifyHs256 } from './jwt-hs256.js';

const key = createSecretKey(randomBytes(32));
const now = Math.floor(Date.now() / 1000);
const claims = { role: 'member', sid: 's-1', sub: 'u-1', iss: 'nchat', aud: 'nchat-api', iat: now, exp: now + 900 };

describe('signHs256', () => {
  it("writes jose's bytes for the same claims", async () => {
    const viaJose = await new SignJWT({ role: 'member', sid: 's-1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u-1')
      .setIssuer('nchat')
      .setAudience('nchat-api')
      .setIssuedAt(now)
      .setExpirationTime(now + 900)
      .sign(key);
    assert.equal(signHs256(claims, key), viaJose);
  });

  it('jose verifies it, and so does verifyHs256', async () => {
    const token = signHs256(claims, key);
    const { payload, protectedHeader } = await jwtVerify(token, key, { issuer: 'nchat', audience: 'nchat-api' });
    assert.deepEqual(payload, claims);
    assert.deepEqual(protectedHeader, { alg: 'HS256' });
    assert.deepEqual(verifyHs256(token, key, 'nchat', 'nchat-api'), { ok: true, payload: claims });
  });

  it('another key, a changed payload or an expired token do not verify', () => {
    const token = signHs256(claims, key);
    assert.deepEqual(verifyHs256(token, createSecretKey(randomBytes(32)), 'nchat', 'nchat-api'), { ok: false, expired: false });
    const [h, , s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, role: 'owner' })).toString('base64url')}.${s}`;
    assert.deepEqual(verifyHs256(forged, key, 'nchat', 'nchat-api'), { ok: false, expired: false });
    const old = signHs256({ ...claims, exp: now - 1 }, key);
    assert.deepEqual(verifyHs256(old, key, 'nchat', 'nchat-api'), { ok: false, expired: true });
  });
});
