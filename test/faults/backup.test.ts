// Backup and restore of a SQLite node, online: `nchat backup --out FILE` (a separate process, as an
// operator runs it) while the node takes a steady send load; the copy is put into a fresh data dir
// as nchat.db, a second node starts on it, and every message acknowledged before the backup began
// must be there, at the acked seq and id (the same tokens work: the JWT secret is in the database).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Api } from '../helpers/server.js';
import { FaultClient } from './client.js';
import { ChatLoad, setupWorkspace, waitUntil } from './load.js';
import { type ChildNode, startChildNode } from './nodes.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

let dir: string;
const nodes: ChildNode[] = [];
let load: ChatLoad | undefined;
after(async () => {
  load?.stop();
  for (const n of nodes) await n.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const nchat = (...args: string[]) =>
  run(process.execPath, ['--import', import.meta.resolve('tsx'), join(ROOT, 'src', 'cli.ts'), ...args], { cwd: ROOT });

test('nchat backup of a running SQLite node under load, restored into a fresh data dir: every message acked before the backup is there', async () => {
  dir = await mkdtemp(join(tmpdir(), 'nchat-backup-'));
  const dataDir = join(dir, 'data');
  const node = await startChildNode({ name: 'live', dataDir, logDir: join(dir, 'logs') });
  nodes.push(node);
  const ws = await setupWorkspace(node.origin, 6, 2);
  const clients = ws.users.map((u) => new FaultClient({ origins: [node.origin], token: u.token }));
  await Promise.all(clients.map((c) => c.start()));
  load = new ChatLoad(clients, ws.channelIds, 100);
  load.startSending();
  await waitUntil(() => load!.acked() >= 100, '100 acks before the backup', 30_000);

  const ackedBefore = clients.flatMap((c) => [...c.acked.entries()]);
  const out = join(dir, 'backup.db');
  const t0 = performance.now();
  const { stdout } = await nchat('backup', '--data-dir', dataDir, '--out', out);
  const backupMs = performance.now() - t0;
  const ackedDuring = load.acked() - ackedBefore.length;
  // An existing file is never overwritten (exit 2, clear message).
  const again = await nchat('backup', '--data-dir', dataDir, '--out', out).then(
    () => undefined,
    (e: { code?: number; stderr?: string }) => e,
  );
  load.stop();
  assert.equal(again?.code, 2, 'a second backup onto the same file is refused');
  assert.match(again?.stderr ?? '', /exists/);
  assert.equal(statSync(out).mode & 0o077, 0, 'the backup file is owner-only (it holds password hashes and the JWT secret)');

  const restoredDir = join(dir, 'restored');
  mkdirSync(restoredDir, { mode: 0o700 });
  copyFileSync(out, join(restoredDir, 'nchat.db'));
  const restored = await startChildNode({ name: 'restored', dataDir: restoredDir, logDir: join(dir, 'logs') });
  nodes.push(restored);
  const api = new Api(restored.origin, ws.users[0].token);
  const stored = new Map<string, { id: string; seq: number; clientMsgId?: string }[]>();
  for (const ch of ws.channelIds) {
    const list: { id: string; seq: number; clientMsgId?: string }[] = [];
    for (;;) {
      const r = await api.get(`/api/channels/${ch}/messages?after=${list.at(-1)?.seq ?? 0}&limit=200`);
      assert.equal(r.status, 200, `history on the restored node (the old token works): ${JSON.stringify(r.body)}`);
      list.push(...r.body.messages);
      if (r.body.messages.length < 200) break;
    }
    stored.set(ch, list);
  }
  for (const [clientMsgId, a] of ackedBefore) {
    const m = stored.get(a.channelId)?.[a.seq - 1];
    assert.ok(m, `acked before the backup: ${clientMsgId} (seq ${a.seq}) is in the restored database`);
    assert.equal(m.id, a.id);
    assert.equal(m.clientMsgId, clientMsgId);
  }
  const restoredCount = [...stored.values()].reduce((n, l) => n + l.length, 0);
  console.log(
    `[faults] backup under load: acked before ${ackedBefore.length}, acked while the backup ran ${ackedDuring}, ` +
      `messages in the backup ${restoredCount}, backup ${Math.round(backupMs)} ms (incl. tsx start-up); ${stdout.trim()}`,
  );
  assert.ok(restoredCount >= ackedBefore.length);
});
