import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newId } from '../../ids.js';
import { mkUser, nextAt, uniq, type Ctx } from './fixtures.js';

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
  });
}
