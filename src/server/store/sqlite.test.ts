// The store contract against a real SQLite file, plus what only the embedded backend promises.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { newId } from '../ids.js';
import { runStoreContract } from './contract/index.js';
import { openSqliteStore } from './sqlite/index.js';
import { migrations } from './sqlite/migrations.js';

async function tempFile() {
  const dir = await mkdtemp(join(tmpdir(), 'nchat-sqlite-'));
  return { dir, file: join(dir, 'data', 'nchat.db'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

runStoreContract('sqlite', async () => {
  const t = await tempFile();
  const store = await openSqliteStore({ file: t.file, sync: 'normal' });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await t.cleanup();
    },
  };
});

describe('SQLite store specifics', () => {
  it('creates the file and its directory, runs in WAL mode, and applies every migration once', async () => {
    const t = await tempFile();
    try {
      const store = await openSqliteStore({ file: t.file, sync: 'full' });
      assert.ok(existsSync(t.file));
      assert.deepEqual(
        await store.migrate(),
        migrations.map((m) => m.id),
      );
      assert.deepEqual(await store.migrate(), []);
      const probe = new Database(t.file, { readonly: true });
      try {
        assert.equal(probe.pragma('journal_mode', { simple: true }), 'wal');
        assert.deepEqual(
          probe.prepare('SELECT id FROM schema_migrations ORDER BY id').pluck().all(),
          migrations.map((m) => m.id),
        );
      } finally {
        probe.close();
      }
      await store.close();
    } finally {
      await t.cleanup();
    }
  });

  it('keeps data across close and reopen, and close() leaves no WAL behind', async () => {
    const t = await tempFile();
    try {
      const s1 = await openSqliteStore({ file: t.file, sync: 'normal' });
      await s1.migrate();
      const u = await s1.users.create({
        id: newId(),
        username: 'keeper',
        email: 'k@example.test',
        displayName: 'K',
        passwordHash: 'h',
        createdAt: new Date().toISOString(),
      });
      const ch = await s1.channels.create({
        id: newId(),
        type: 'public',
        name: 'general',
        description: '',
        topic: '',
        createdBy: u.id,
        createdAt: new Date().toISOString(),
      });
      const sent = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          s1.messages.create({
            id: newId(),
            channelId: ch.id,
            authorId: u.id,
            text: `m${i}`,
            clientMsgId: `c${i}`,
            parentId: null,
            mentions: { userIds: [], channel: false, here: false },
            fileIds: [],
            createdAt: new Date().toISOString(),
            notify: { mentionUserIds: [], allMembers: null, threadParticipants: false },
          }),
        ),
      );
      await s1.meta.setIfAbsent('jwt', 'secret');
      await s1.close();
      assert.equal(existsSync(`${t.file}-wal`) ? (await import('node:fs')).statSync(`${t.file}-wal`).size : 0, 0);

      const s2 = await openSqliteStore({ file: t.file, sync: 'normal' });
      assert.deepEqual(await s2.migrate(), []);
      assert.equal(u.role, 'owner');
      assert.deepEqual(await s2.users.get(u.id), u);
      assert.equal((await s2.channels.get(ch.id))!.lastSeq, 20);
      const page = await s2.messages.history(ch.id, { after: 0, limit: 50 });
      assert.deepEqual(
        page.map((m) => m.id),
        sent.map((r) => r.message.id),
      );
      assert.equal(await s2.meta.get('jwt'), 'secret');
      await s2.close();
    } finally {
      await t.cleanup();
    }
  });

  it('a create queued before close() is committed, not lost (without the checkpoint worker)', async () => {
    const t = await tempFile();
    try {
      const s1 = await openSqliteStore({ file: t.file, sync: 'normal', checkpointIntervalMs: 0 });
      await s1.migrate();
      const u = await s1.users.create({
        id: newId(),
        username: 'late',
        email: 'l@example.test',
        displayName: 'L',
        passwordHash: 'h',
        createdAt: new Date().toISOString(),
      });
      const ch = await s1.channels.create({
        id: newId(),
        type: 'public',
        name: 'late',
        description: '',
        topic: '',
        createdBy: u.id,
        createdAt: new Date().toISOString(),
      });
      const pending = s1.messages.create({
        id: newId(),
        channelId: ch.id,
        authorId: u.id,
        text: 'in flight',
        clientMsgId: null,
        parentId: null,
        mentions: { userIds: [], channel: false, here: false },
        fileIds: [],
        createdAt: new Date().toISOString(),
        notify: { mentionUserIds: [], allMembers: null, threadParticipants: false },
      });
      await s1.close();
      assert.equal((await pending).message.seq, 1);
      const s2 = await openSqliteStore({ file: t.file, sync: 'normal' });
      assert.equal((await s2.channels.get(ch.id))!.lastSeq, 1);
      await s2.close();
    } finally {
      await t.cleanup();
    }
  });
});

// The child writes through the real store (group commit, checkpoint worker) and prints each
// clientMsgId once its create() has resolved, i.e. once the write was acknowledged.
const crashWriter = (file: string) => `
import { openSqliteStore } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'sqlite', 'index.ts')).href)};
const store = await openSqliteStore({ file: ${JSON.stringify(file)}, sync: 'normal' });
await store.migrate();
const now = () => new Date().toISOString();
const u = await store.users.create({ id: 'u'.repeat(22), username: 'crash', email: 'c@example.test', displayName: 'C', passwordHash: 'h', createdAt: now() });
const ch = await store.channels.create({ id: 'c'.repeat(22), type: 'public', name: 'crash', description: '', topic: '', createdBy: u.id, createdAt: now() });
let n = 0;
for (;;) {
  const batch = Array.from({ length: 25 }, () => {
    const k = 'k' + n++;
    return store.messages.create({ id: k.padStart(22, '0'), channelId: ch.id, authorId: u.id, text: 'x'.repeat(200), clientMsgId: k, parentId: null,
      mentions: { userIds: [], channel: false, here: false }, fileIds: [], createdAt: now(),
      notify: { mentionUserIds: [], allMembers: null, threadParticipants: false } }).then((r) => process.stdout.write('ack ' + r.message.clientMsgId + '\\n'));
  });
  await Promise.all(batch);
}
`;

describe('SQLite durability', () => {
  it('kill -9 mid-write loses no acknowledged message and leaves seqs gapless', async (tc) => {
    const t = await tempFile();
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', crashWriter(t.file)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const acked = new Set<string>();
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      await new Promise<void>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d) => {
          buf += d;
          const lines = buf.split('\n');
          buf = lines.pop()!;
          for (const l of lines) if (l.startsWith('ack ')) acked.add(l.slice(4));
          if (acked.size >= 2000) {
            child.kill('SIGKILL');
            resolve();
          }
        });
        child.on('exit', (code, signal) =>
          signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited early (${code}): ${stderr}`)),
        );
      });
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));

      const store = await openSqliteStore({ file: t.file, sync: 'normal' });
      try {
        const ch = await store.channels.get('c'.repeat(22));
        assert.ok(ch && ch.lastSeq >= acked.size, `lastSeq ${ch?.lastSeq} < acknowledged ${acked.size}`);
        const found = new Set<string>();
        let after = 0;
        for (;;) {
          const page = await store.messages.history(ch.id, { after, limit: 200 });
          if (page.length === 0) break;
          for (const m of page) {
            assert.equal(m.seq, ++after, 'seq gap');
            found.add(m.clientMsgId!);
          }
        }
        assert.equal(after, ch.lastSeq);
        const lost = [...acked].filter((k) => !found.has(k));
        assert.deepEqual(lost, []);
        tc.diagnostic(`acknowledged ${acked.size}, persisted ${ch.lastSeq}`);
      } finally {
        await store.close();
      }
    } finally {
      await t.cleanup();
    }
  });
});
