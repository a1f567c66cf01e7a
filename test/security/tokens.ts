// Bad credentials for the authentication rows (not a test file itself). Each kind is built from
// a real access token of `alice` and, where it must pass the signature check, signed with the
// server's own key, so the row tests the claim it names and nothing else.
import { createHmac } from 'node:crypto';
import { SignJWT } from 'jose';
import type { World } from './world.js';

export interface BadToken {
  kind: string;
  status: number;
  code: string;
  /** undefined: no Authorization header at all. */
  make(w: World): Promise<string | undefined>;
}

const b64 = (s: string) => Buffer.from(s).toString('base64url');
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

async function mint(w: World, o: { iss?: string; aud?: string; exp?: number; sub?: string }): Promise<string> {
  const secret = await w.srv.running.store.meta.get('jwt_secret');
  const key = new TextEncoder().encode(w.srv.running.config.jwtSecret ?? secret ?? '');
  const { sid } = claimsOf(w.alice.token);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: 'owner', sid })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(o.sub ?? w.alice.id)
    .setIssuer(o.iss ?? 'nchat')
    .setAudience(o.aud ?? 'nchat')
    .setIssuedAt(now - 600)
    .setExpirationTime(o.exp ?? now + 300)
    .sign(key);
}

export const BAD_TOKENS: BadToken[] = [
  { kind: 'missing', status: 401, code: 'UNAUTHENTICATED', make: async () => undefined },
  { kind: 'expired', status: 401, code: 'TOKEN_EXPIRED', make: (w) => mint(w, { exp: Math.floor(Date.now() / 1000) - 30 }) },
  {
    kind: 'tampered (role raised to owner, signature kept)',
    status: 401,
    code: 'TOKEN_INVALID',
    make: async (w) => {
      const [h, , s] = w.alice.token.split('.');
      return `${h}.${b64(JSON.stringify({ ...claimsOf(w.alice.token), role: 'owner' }))}.${s}`;
    },
  },
  {
    kind: 'signed with another key',
    status: 401,
    code: 'TOKEN_INVALID',
    make: async (w) => {
      const [h, p] = w.alice.token.split('.');
      return `${h}.${p}.${createHmac('sha256', 'another-key-another-key-another-key').update(`${h}.${p}`).digest('base64url')}`;
    },
  },
  { kind: 'other issuer', status: 401, code: 'TOKEN_INVALID', make: (w) => mint(w, { iss: 'evil-issuer' }) },
  { kind: 'wrong audience', status: 401, code: 'TOKEN_INVALID', make: (w) => mint(w, { aud: 'other-service' }) },
  {
    kind: 'alg:none',
    status: 401,
    code: 'TOKEN_INVALID',
    make: async (w) => `${b64(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${w.alice.token.split('.')[1]}.`,
  },
  { kind: 'signed-out session', status: 401, code: 'TOKEN_INVALID', make: async (w) => w.signedOutToken },
  { kind: 'deactivated account', status: 403, code: 'ACCOUNT_DEACTIVATED', make: async (w) => w.gone.token },
];
