// One migration history for both backends: the same ids, in the same order, each with SQL.
// A migration added to one dialect without the other fails here, not in production.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { migrations as postgres } from './postgres/migrations.js';
import { migrations as sqlite } from './sqlite/migrations.js';

test('SQLite and PostgreSQL list the same migration ids in the same order', () => {
  assert.deepEqual(
    postgres.map((m) => m.id),
    sqlite.map((m) => m.id),
  );
});

test('the history starts at 0001_initial, ids are unique, ordered and carry SQL', () => {
  for (const list of [sqlite, postgres]) {
    assert.equal(list[0]?.id, '0001_initial');
    const ids = list.map((m) => m.id);
    assert.equal(new Set(ids).size, ids.length, 'duplicate migration id');
    assert.deepEqual(ids, [...ids].sort(), 'ids must sort in application order');
    for (const m of list) {
      assert.match(m.id, /^\d{4}_[a-z0-9_]+$/);
      assert.ok(m.sql.trim().length > 0, `${m.id} has no SQL`);
    }
  }
});
