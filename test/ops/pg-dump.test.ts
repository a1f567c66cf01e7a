// PostgreSQL backup and restore as docs/OPERATIONS.md tells operators to do it: `pg_dump -Fc` of a
// running node's database (one consistent snapshot), `pg_restore --no-owner` into another fresh
// database, a node started on the restored database. Checks: no migration is left to apply, the
// old access token still works (the JWT secret is in the database), sign-in works, and every
// message is there with the same id, seq and text. Skipped with the reason when PostgreSQL is
// unreachable (fails under CI=true / NCHAT_REQUIRE_SERVICES=1) or pg_dump/pg_restore are missing.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config.js';
import { type RunningServer, startServer } from '../../src/server/main.js';
import { type FreshPostgres, freshPostgres, pgSkipReason } from '../helpers/postgres.js';
import { Api, startTestServer } from '../helpers/server.js';

const run = promisify(execFile);
const missingTools = ['pg_dump', 'pg_restore'].filter((c) => {
  try {
    execFileSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' });
    return false;
  } catch {
    return true;
  }
});

const cleanup: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => {});
});

test('pg_dump -Fc of a running node, pg_restore into a fresh database: a node on it serves every message, old tokens and passwords work', async (t) => {
  if (missingTools.length) return t.skip(`${missingTools.join(', ')} not installed: pg_dump round trip skipped`);
  const skip = await pgSkipReason();
  if (skip) return t.skip(skip);
  const srv = await startTestServer('postgres');
  cleanup.push(() => srv.stop());
  const ch = await srv.owner.api.post('/api/channels', { name: `dump-${Date.now().toString(36)}`, type: 'public' });
  assert.equal(ch.status, 201);
  const sent: { id: string; seq: number; text: string }[] = [];
  for (let i = 0; i < 30; i++) {
    const r = await srv.owner.api.post(`/api/channels/${ch.body.id}/messages`, { text: `before the dump ${i}`, clientMsgId: `d${i}` });
    assert.equal(r.status, 201);
    sent.push({ id: r.body.id, seq: r.body.seq, text: r.body.text });
  }

  const dir = await mkdtemp(join(tmpdir(), 'nchat-pgdump-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const dump = join(dir, 'nchat.dump');
  await run('pg_dump', ['-Fc', '-f', dump, '-d', srv.running.config.databaseUrl!]);
  const target = (await freshPostgres()) as FreshPostgres;
  cleanup.push(() => target.drop());
  await run('pg_restore', ['--no-owner', '--exit-on-error', '-d', target.url, dump]);

  const restored: RunningServer = await startServer(
    loadConfig(
      {},
      {
        NCHAT_PORT: '0',
        NCHAT_HOST: '127.0.0.1',
        NCHAT_DATA_DIR: join(dir, 'data'),
        NCHAT_LOG_LEVEL: 'silent',
        NCHAT_ARGON2_MEMORY_KIB: '1024',
        NCHAT_DATABASE_URL: target.url,
        NCHAT_DB_POOL_SIZE: '2',
      },
    ),
  );
  cleanup.push(() => restored.close());
  assert.deepEqual(await restored.store.migrate(), [], 'the restored schema is current');
  const api = new Api(restored.url, srv.owner.token);
  const history = await api.get(`/api/channels/${ch.body.id}/messages?after=0&limit=100`);
  assert.equal(history.status, 200, 'the access token issued before the dump works on the restored node');
  assert.deepEqual(
    history.body.messages.map((m: { id: string; seq: number; text: string }) => ({ id: m.id, seq: m.seq, text: m.text })),
    sent,
  );
  const signin = await new Api(restored.url).post('/api/auth/signin', { login: srv.owner.username, password: 'correct horse battery' });
  assert.equal(signin.status, 200, 'the password works on the restored node');
  const next = await api.post(`/api/channels/${ch.body.id}/messages`, { text: 'after the restore', clientMsgId: 'after' });
  assert.equal(next.status, 201);
  assert.equal(next.body.seq, sent.length + 1, 'sequences continue where the dump left them');
});
