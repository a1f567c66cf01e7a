// VerifiedTokens: hits until exp and not at it, bounded by two generations, a hit in the older
// generation promoted. (That only verified tokens are kept is auth.ts's use of it, tested over
// HTTP in test/http/authz.test.ts.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VerifiedTokens } from './verified-tokens.js';

describe('VerifiedTokens', () => {
  it('answers a kept token until its exp, not at it, and then forgets it', () => {
    const c = new VerifiedTokens();
    c.set('t1', { sub: 'u1', exp: 100 });
    assert.deepEqual(c.get('t1', 99), { sub: 'u1', exp: 100 });
    assert.equal(c.get('t1', 100), undefined);
    assert.equal(c.size, 0, 'an expired entry is dropped on its hit');
    assert.equal(c.get('t2', 50), undefined, 'never kept');
  });

  it('keeps the claims frozen: one object answers every request', () => {
    const c = new VerifiedTokens();
    c.set('t', { sub: 'u', exp: 10 });
    const p = c.get('t', 1)!;
    assert.ok(Object.isFrozen(p));
    assert.throws(() => {
      (p as { sub: string }).sub = 'other';
    });
  });

  it('holds at most two generations of max entries; a hit in the older one moves it forward', () => {
    const c = new VerifiedTokens(2);
    c.set('a', { exp: 10 });
    c.set('b', { exp: 10 });
    c.set('c', { exp: 10 }); // young {c}, old {a, b}
    assert.ok(c.get('a', 1), 'a is in the older generation');
    c.set('d', { exp: 10 }); // young {c, a} was full: it becomes old, young {d}; b is gone
    assert.equal(c.get('b', 1), undefined, 'b aged out');
    assert.ok(c.get('a', 1) && c.get('c', 1) && c.get('d', 1));
    for (let i = 0; i < 100; i++) c.set(`x${i}`, { exp: 10 });
    assert.ok(c.size <= 4, `size ${c.size}`);
  });
});
