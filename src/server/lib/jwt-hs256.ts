// Synchronous HS256 signing and verification for ɳChat's own access tokens, on node:crypto.
// Why not jose here: it goes through WebCrypto (key import + a thread-pool hop per call): its
// verify was 13% of server CPU under the API load test, and its sign cost 80–140 µs of CPU per
// token against 6–8 µs here (2026-12-01, 5,000 tokens each; refresh is 10% of the API mix).
// signHs256 writes the same bytes as jose's SignJWT for the same claims (jwt-hs256.test.ts);
// verifyHs256 accepts exactly such tokens and nothing else:
// - the header must be exactly HS256 (no "none", no other algorithm, no "crit");
// - the signature is compared in constant time;
// - iss and aud must equal the pinned values; exp is required, nbf/iat are honoured with no skew.
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';

export type VerifyResult = { ok: true; payload: Record<string, unknown> } | { ok: false; expired: boolean };

const fail = (expired = false): VerifyResult => ({ ok: false, expired });

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256' })).toString('base64url');

/** A compact JWS of `claims` (serialized in their own key order), header {"alg":"HS256"}. */
export function signHs256(claims: Record<string, unknown>, key: KeyObject): string {
  const signed = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${signed}.${createHmac('sha256', key).update(signed).digest('base64url')}`;
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export function verifyHs256(
  token: string,
  key: KeyObject,
  issuer: string,
  audience: string,
  nowSec = Math.floor(Date.now() / 1000),
): VerifyResult {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return fail();
  const [h, p, s] = parts;
  const header = decodeJson(h);
  if (header?.alg !== 'HS256' || 'crit' in header || (header.typ !== undefined && header.typ !== 'JWT')) return fail();
  const expected = createHmac('sha256', key).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return fail();
  const payload = decodeJson(p);
  if (!payload) return fail();
  const aud = payload.aud;
  if (payload.iss !== issuer || !(aud === audience || (Array.isArray(aud) && aud.includes(audience)))) return fail();
  if (typeof payload.exp !== 'number') return fail();
  if (typeof payload.nbf === 'number' && payload.nbf > nowSec) return fail();
  if (payload.exp <= nowSec) return fail(true);
  return { ok: true, payload };
}
