import { describe, expect, it } from 'vitest';
import { tokenSecondsLeft } from './api.js';

const jwt = (payload: object) => `h.${btoa(JSON.stringify(payload)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')}.s`;

describe('tokenSecondsLeft', () => {
  it('reads exp from the JWT payload; Infinity when there is none or it cannot be read', () => {
    expect(tokenSecondsLeft(jwt({ exp: 1000 }), 990_000)).toBe(10);
    expect(tokenSecondsLeft(jwt({ exp: 1000 }), 1_010_000)).toBe(-10);
    expect(tokenSecondsLeft(jwt({ sub: 'x' }))).toBe(Number.POSITIVE_INFINITY);
    expect(tokenSecondsLeft('not a token')).toBe(Number.POSITIVE_INFINITY);
  });
});
