// isStoreUnavailable on real failures, made for real: a refused PostgreSQL connection, a pool that
// waits too long for a connection, a backend terminated by an administrator (57P01), SQLite busy
// beyond busy_timeout and full (max_page_count), ENOSPC from /dev/full. And the failures that are
// the request's or the code's own (a constraint, division by zero, a TypeError) are not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { adminUrl, pgSkipReason } from '../../../test/helpers/postgres.js';
import { freePort } from '../../../test/helpers/redis.js';
import { AppError } from '../errors.js';
import { isStoreUnavailable, isVolumeUnavailable, storeUnavailableError } from './unavailable.js';

const caught = async (f: () => unknown): Promise<unknown> => {
  try {
    await f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a failure');
};

test('PostgreSQL: refused connection, pool wait timeout and 57P01 are unavailable; a query error is not', async (t) => {
  const refused = await caught(async () => {
    const c = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/x` });
    await c.connect();
  });
  assert.ok(isStoreUnavailable(refused), `refused: ${String(refused)}`);

  const skip = await pgSkipReason();
  if (skip) return t.skip(skip);
  const pool = new pg.Pool({ connectionString: adminUrl(), max: 1, connectionTimeoutMillis: 200 });
  pool.on('error', () => {});
  const held = await pool.connect();
  const waited = await caught(() => pool.query('SELECT 1'));
  held.release();
  assert.ok(isStoreUnavailable(waited), `pool wait: ${String(waited)}`);
  const divide = await caught(() => pool.query('SELECT 1/0'));
  assert.equal((divide as { code?: string }).code, '22012');
  assert.equal(isStoreUnavailable(divide), false, 'division by zero is not the store being down');
  await pool.end();

  const victim = new pg.Client({ connectionString: adminUrl() });
  victim.on('error', () => {});
  await victim.connect();
  const pid = (await victim.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  await admin.end();
  const terminated = await caught(() => victim.query('SELECT 1'));
  await victim.end().catch(() => {});
  assert.ok(isStoreUnavailable(terminated), `terminated: ${String(terminated)} ${(terminated as { code?: string }).code}`);
});

test('SQLite: busy past busy_timeout and full are unavailable; a constraint is not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nchat-unavail-'));
  try {
    const file = join(dir, 'x.db');
    const a = new Database(file);
    a.pragma('journal_mode = WAL');
    a.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)');
    const b = new Database(file);
    b.pragma('busy_timeout = 0');
    a.exec('BEGIN IMMEDIATE');
    const busy = await caught(() => b.exec('BEGIN IMMEDIATE'));
    a.exec('ROLLBACK');
    assert.match((busy as { code: string }).code, /^SQLITE_BUSY/);
    assert.ok(isStoreUnavailable(busy));
    a.pragma('max_page_count = 8');
    const full = await caught(() => a.prepare('INSERT INTO t (v) VALUES (?)').run(Buffer.alloc(64 * 1024)));
    assert.equal((full as { code: string }).code, 'SQLITE_FULL');
    assert.ok(isStoreUnavailable(full));
    assert.match(storeUnavailableError(full).message, /disk space/);
    a.prepare('INSERT INTO t (k) VALUES (1)').run();
    const constraint = await caught(() => a.prepare('INSERT INTO t (k) VALUES (1)').run());
    assert.equal(isStoreUnavailable(constraint), false);
    a.close();
    b.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('ENOSPC is unavailable (and a volume failure); AppErrors and plain bugs keep their meaning', async () => {
  const nospace = await caught(() => writeFileSync('/dev/full', 'x'));
  assert.equal((nospace as NodeJS.ErrnoException).code, 'ENOSPC');
  assert.ok(isStoreUnavailable(nospace));
  assert.ok(isVolumeUnavailable(nospace));
  assert.equal(storeUnavailableError(nospace).status, 503);
  assert.equal(isVolumeUnavailable(Object.assign(new Error('reset'), { code: 'ECONNRESET' })), false, 'a client leaving is not the volume');
  assert.ok(isStoreUnavailable(new Error('wrapped', { cause: nospace })), 'found through cause');
  assert.ok(isStoreUnavailable(new AppError('UNAVAILABLE', 'x')));
  assert.equal(isStoreUnavailable(new AppError('NOT_FOUND', 'x')), false);
  assert.equal(isStoreUnavailable(new TypeError('x is undefined')), false);
  assert.equal(isStoreUnavailable(undefined), false);
});
