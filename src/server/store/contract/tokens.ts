import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newId } from '../../ids.js';
import { at, mkUser, nextAt, uniq, type Ctx } from './fixtures.js';

export function tokensContract(ctx: Ctx): void {
  describe('tokens', () => {
    const mkToken = async (userId: string, familyId: string) => {
      const t = { id: newId(), userId, familyId, tokenHash: uniq('hash'), expiresAt: nextAt(), createdAt: nextAt() };
      await ctx.store.tokens.create(t);
      return t;
    };

    it('creates and finds a token by hash', async () => {
      const s = ctx.store;
      const u = await mkUser(s);
      const t = await mkToken(u.id, newId());
      assert.deepEqual(await s.tokens.findByHash(t.tokenHash), { ...t, usedAt: null, revokedAt: null });
      assert.equal(await s.tokens.findByHash(uniq('missing')), undefined);
    });

    it('markUsed is a compare-and-set: exactly one caller wins, also concurrently', async () => {
      const s = ctx.store;
      const u = await mkUser(s);
      const t1 = await mkToken(u.id, newId());
      const when = nextAt();
      assert.equal(await s.tokens.markUsed(t1.id, when), true);
      assert.equal(await s.tokens.markUsed(t1.id, nextAt()), false);
      assert.equal((await s.tokens.findByHash(t1.tokenHash))?.usedAt, when);

      const t2 = await mkToken(u.id, newId());
      const results = await Promise.all(Array.from({ length: 8 }, () => s.tokens.markUsed(t2.id, nextAt())));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await s.tokens.markUsed(newId(), nextAt()), false);
    });

    it('revokeFamily revokes every token of the family once and only that family', async () => {
      const s = ctx.store;
      const u = await mkUser(s);
      const fam = newId();
      const other = await mkToken(u.id, newId());
      const ts = [await mkToken(u.id, fam), await mkToken(u.id, fam), await mkToken(u.id, fam)];
      const when = nextAt();
      assert.equal(await s.tokens.revokeFamily(fam, when), 3);
      assert.equal(await s.tokens.revokeFamily(fam, nextAt()), 0);
      for (const t of ts) assert.equal((await s.tokens.findByHash(t.tokenHash))?.revokedAt, when);
      assert.equal((await s.tokens.findByHash(other.tokenHash))?.revokedAt, null);
      assert.equal(await s.tokens.revokeFamily(newId(), nextAt()), 0);
    });

    const succ = () => ({ id: newId(), tokenHash: uniq('succ'), expiresAt: at(86_400_000 * 365), createdAt: nextAt() });
    const live =
      (expiresAt = at(86_400_000 * 365)) =>
      async (userId: string, familyId: string) => {
        const t = { id: newId(), userId, familyId, tokenHash: uniq('hash'), expiresAt, createdAt: nextAt() };
        await ctx.store.tokens.create(t);
        return t;
      };

    it('rotate: marks the token spent and inserts the successor in the same family, atomically', async () => {
      const s = ctx.store;
      const u = await mkUser(s);
      const fam = newId();
      const t = await live()(u.id, fam);
      const next = succ();
      const when = nextAt();
      const r = await s.tokens.rotate(t.tokenHash, next, when);
      assert.equal(r.outcome, 'rotated');
      assert.deepEqual(r.token, { ...t, usedAt: null, revokedAt: null });
      assert.equal((await s.tokens.findByHash(t.tokenHash))?.usedAt, when);
      assert.deepEqual(await s.tokens.findByHash(next.tokenHash), { ...next, userId: u.id, familyId: fam, usedAt: null, revokedAt: null });
    });

    it('rotate: a spent token is "reused" and revokes the whole family; then "revoked"; unknown and expired are refused', async () => {
      const s = ctx.store;
      const u = await mkUser(s);
      const fam = newId();
      const t = await live()(u.id, fam);
      const next = succ();
      assert.equal((await s.tokens.rotate(t.tokenHash, next, nextAt())).outcome, 'rotated');
      const unused = succ();
      const reuse = await s.tokens.rotate(t.tokenHash, unused, nextAt());
      assert.equal(reuse.outcome, 'reused');
      assert.equal(reuse.token?.familyId, fam);
      assert.equal(await s.tokens.findByHash(unused.tokenHash), undefined, 'no successor for a reused token');
      assert.notEqual((await s.tokens.findByHash(next.tokenHash))?.revokedAt, null, 'the successor is revoked with the family');
      assert.equal((await s.tokens.rotate(next.tokenHash, succ(), nextAt())).outcome, 'revoked');
      assert.equal((await s.tokens.rotate(uniq('missing'), succ(), nextAt())).outcome, 'unknown');
      const old = await live(at(-1000))(u.id, newId());
      const late = succ();
      assert.equal((await s.tokens.rotate(old.tokenHash, late, at(0))).outcome, 'expired');
      assert.equal((await s.tokens.findByHash(old.tokenHash))?.usedAt, null, 'an expired token is not spent');
      assert.equal(await s.tokens.findByHash(late.tokenHash), undefined);
    });

    it('rotate under concurrency (30 trials x 2-5 callers): one winner, one reuse, and no token of the family survives', async () => {
      const s = ctx.store;
      const u = await mkUser(s);
      for (let trial = 0; trial < 30; trial++) {
        const fam = newId();
        const t = await live()(u.id, fam);
        const n = 2 + (trial % 4);
        const successors = Array.from({ length: n }, succ);
        const results = await Promise.all(successors.map((x) => s.tokens.rotate(t.tokenHash, x, nextAt())));
        const outcomes = results.map((r) => r.outcome).sort();
        // One winner; the first loser finds it spent and revokes the family; later losers find it revoked.
        assert.deepEqual(outcomes, ['reused', 'rotated', ...Array(n - 2).fill('revoked')].sort(), `trial ${trial}: ${outcomes}`);
        for (const x of successors) {
          const row = await s.tokens.findByHash(x.tokenHash);
          if (row) assert.notEqual(row.revokedAt, null, `trial ${trial}: the winner's successor must be revoked`);
        }
        // A later rotation of anything in the family is refused.
        for (const x of successors) {
          const r = await s.tokens.rotate(x.tokenHash, succ(), nextAt());
          assert.ok(r.outcome === 'revoked' || r.outcome === 'unknown', `trial ${trial}: ${r.outcome}`);
        }
      }
    });

    it('rotate racing revokeFamily (30 trials): afterwards every token of the family is revoked', async () => {
      const s = ctx.store;
      const u = await mkUser(s);
      for (let trial = 0; trial < 30; trial++) {
        const fam = newId();
        const t = await live()(u.id, fam);
        const next = succ();
        const [r] = await Promise.all([s.tokens.rotate(t.tokenHash, next, nextAt()), s.tokens.revokeFamily(fam, nextAt())]);
        assert.ok(r.outcome === 'rotated' || r.outcome === 'revoked', r.outcome);
        const row = await s.tokens.findByHash(next.tokenHash);
        if (row) assert.notEqual(row.revokedAt, null, `trial ${trial}: successor outlived the revocation`);
        assert.notEqual((await s.tokens.findByHash(t.tokenHash))?.revokedAt, null);
      }
    });

    it('revokeUser revokes every live family of that user only and returns their ids once', async () => {
      const s = ctx.store;
      const u = await mkUser(s);
      const other = await mkUser(s);
      const f1 = newId();
      const f2 = newId();
      const a = await live()(u.id, f1);
      const b = await live()(u.id, f2);
      const c = await live()(u.id, f2);
      const o = await live()(other.id, newId());
      const when = nextAt();
      assert.deepEqual(await s.tokens.revokeUser(u.id, when), [f1, f2].sort());
      assert.deepEqual(await s.tokens.revokeUser(u.id, nextAt()), []);
      for (const t of [a, b, c]) assert.equal((await s.tokens.findByHash(t.tokenHash))?.revokedAt, when);
      assert.equal((await s.tokens.findByHash(o.tokenHash))?.revokedAt, null);
    });

    it('revokedSince lists families revoked at or after a time, once each', async () => {
      const s = ctx.store;
      const u = await mkUser(s);
      const early = newId();
      const late = newId();
      await live()(u.id, early);
      await live()(u.id, late);
      await live()(u.id, late);
      await s.tokens.revokeFamily(early, at(-5_000_000));
      await s.tokens.revokeFamily(late, at(5_000_000));
      const got = await s.tokens.revokedSince(at(4_000_000));
      assert.deepEqual(
        got.filter((x) => x.familyId === late),
        [{ familyId: late, userId: u.id }],
      );
      assert.equal(
        got.some((x) => x.familyId === early),
        false,
      );
    });

    it('invites: created with 0 uses, used at most maxUses times also concurrently, not after expiry, a use can be given back', async () => {
      const s = ctx.store;
      const owner = await mkUser(s);
      const inv = { id: newId(), tokenHash: uniq('inv'), createdBy: owner.id, createdAt: at(0), expiresAt: at(1_000_000), maxUses: 3 };
      assert.deepEqual(await s.tokens.createInvite(inv), { ...inv, uses: 0 });
      const results = await Promise.all(Array.from({ length: 8 }, () => s.tokens.useInvite(inv.tokenHash, at(10))));
      assert.equal(results.filter(Boolean).length, 3);
      assert.deepEqual(
        results
          .filter(Boolean)
          .map((r) => r!.uses)
          .sort(),
        [1, 2, 3],
      );
      assert.equal(await s.tokens.useInvite(inv.tokenHash, at(10)), undefined);
      await s.tokens.releaseInvite(inv.id);
      assert.equal((await s.tokens.useInvite(inv.tokenHash, at(10)))?.uses, 3);
      assert.equal(await s.tokens.useInvite(uniq('missing'), at(10)), undefined);
      const expiring = { ...inv, id: newId(), tokenHash: uniq('inv'), maxUses: 1 };
      await s.tokens.createInvite(expiring);
      assert.equal(await s.tokens.useInvite(expiring.tokenHash, expiring.expiresAt), undefined, 'expired at expiresAt');
      assert.equal((await s.tokens.useInvite(expiring.tokenHash, at(999_999)))?.uses, 1);
    });
  });
}
