// StoreReadiness's contract (readiness.ts) on a real SQLite store's ping and on pings that fail or
// hang: results reused within the TTL, concurrent callers share one ping, a hung ping counts as
// "not ready" after the timeout and no second ping starts while it still hangs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../store/sqlite/index.js';
import { StoreReadiness } from './readiness.js';

test('a real store answers ready; a closed one does not once the cached result expires', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nchat-ready-'));
  try {
    const store = await openSqliteStore({ file: join(dir, 'x.db'), sync: 'normal' });
    let clock = 0;
    const r = new StoreReadiness(
      () => store.ping(),
      { ttlMs: 1000, timeoutMs: 1000 },
      () => clock,
    );
    assert.equal(await r.check(), true);
    await store.close();
    assert.equal(await r.check(), true, 'within the TTL the last result is reused (no ping)');
    clock = 1001;
    assert.equal(await r.check(), false, 'a ping on a closed store fails: not ready');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('concurrent checks share one ping; a hung ping is "not ready" after the timeout and is not repeated', async () => {
  let pings = 0;
  let release: () => void = () => {};
  const hung = () => {
    pings++;
    return new Promise<void>((resolve) => {
      release = resolve;
    });
  };
  let clock = 0;
  const r = new StoreReadiness(hung, { ttlMs: 1000, timeoutMs: 20 }, () => clock);
  assert.deepEqual(await Promise.all([r.check(), r.check(), r.check()]), [false, false, false]);
  assert.equal(pings, 1, 'one ping for concurrent callers');
  clock = 2000;
  assert.equal(await r.check(), false, 'still hanging: not ready');
  assert.equal(pings, 1, 'no second ping while the first hangs');
  release();
  await new Promise((res) => setImmediate(res));
  clock = 4000;
  assert.equal(await r.check(), false, 'the next ping (hung again) after the first settled');
  assert.equal(pings, 2);
  release();
});
