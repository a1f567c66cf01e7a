import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uniq, type Ctx } from './fixtures.js';

export function metaContract(ctx: Ctx): void {
  describe('lifecycle and meta', () => {
    it('migrate() is idempotent: a second call applies nothing', async () => {
      assert.deepEqual(await ctx.store.migrate(), []);
      assert.deepEqual(await ctx.store.migrate(), []);
    });

    it('ping() answers and poolStats() matches the kind', async () => {
      const s = ctx.store;
      await s.ping();
      assert.ok(s.kind === 'sqlite' || s.kind === 'postgres');
      const stats = s.poolStats();
      if (s.kind === 'sqlite') assert.equal(stats, undefined);
      else {
        assert.ok(stats);
        for (const k of ['total', 'idle', 'waiting'] as const) assert.equal(typeof stats[k], 'number');
      }
    });

    it('meta.setIfAbsent: first writer wins, also concurrently', async () => {
      const s = ctx.store;
      const key = uniq('key');
      assert.equal(await s.meta.get(key), undefined);
      assert.equal(await s.meta.setIfAbsent(key, 'v1'), 'v1');
      assert.equal(await s.meta.setIfAbsent(key, 'v2'), 'v1');
      assert.equal(await s.meta.get(key), 'v1');

      const key2 = uniq('key');
      const values = ['a', 'b', 'c', 'd', 'e'];
      const got = await Promise.all(values.map((v) => s.meta.setIfAbsent(key2, v)));
      assert.equal(new Set(got).size, 1);
      assert.ok(values.includes(got[0]));
      assert.equal(await s.meta.get(key2), got[0]);
    });
  });
}
