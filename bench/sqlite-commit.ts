// npm run bench:sqlite-commit [-- --messages N --rate R --channels C]
//
// What one send costs the SQLite store when sends arrive one per event-loop turn (at 1,000 msg/s
// into channels of 10 the group commit's batches are of one), and where the cost goes:
// 1. Paced sends: C channels of 10 members, N sends through messages.create at R msg/s on the
//    real store as the server opens it (checkpoint worker, search readers, indexer timer). Prints
//    the time each create took until its commit (p50/p99/max), creates over 5 ms, the event
//    loop's delay (p99/max) and this process's CPU per message.
// 2. The pages each commit writes: on a second store with checkpoints off, 200 sends after the
//    WAL is emptied; every WAL frame is mapped to its b-tree through the dbstat table, so the
//    figure says which tables and indexes a send dirties (each dirty page is one 4 KiB WAL frame
//    per commit, whether or not the previous commit wrote the same page).
// Not a test: figures for docs/PERFORMANCE.md.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type Database from 'better-sqlite3';
import { mkChannel, mkUsers, newMsg } from '../src/server/store/contract/fixtures.js';
import { openSqliteStore } from '../src/server/store/sqlite/index.js';
import type { Channel, User } from '../src/server/store/types.js';
import type { Store } from '../src/server/store/store.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const N = Number(args.get('messages') ?? 20_000);
const RATE = Number(args.get('rate') ?? 1000);
const C = Number(args.get('channels') ?? 1000);

async function seed(store: Store): Promise<{ channels: Channel[]; members: User[][] }> {
  await store.migrate();
  const channels: Channel[] = [];
  const members: User[][] = [];
  for (let c = 0; c < C; c++) {
    const users = await mkUsers(store, 10);
    channels.push(await mkChannel(store, users[0], { members: users.slice(1) }));
    members.push(users);
  }
  return { channels, members };
}

const send = (store: Store, w: { channels: Channel[]; members: User[][] }, i: number) => {
  const c = (i * 7919) % C;
  const text = `message ${i} about the release plan`;
  return store.messages.create(newMsg(w.channels[c], w.members[c][i % 10], { text, createdAt: new Date().toISOString() }));
};

const q = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const dir = await mkdtemp(join(tmpdir(), 'nchat-commit-'));
try {
  // 1. Paced sends on the store as the server opens it.
  const store = await openSqliteStore({ file: join(dir, 'paced.db'), sync: 'normal' });
  const world = await seed(store);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const took: number[] = [];
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const a = performance.now();
    await send(store, world, i);
    took.push(performance.now() - a);
    const wait = t0 + ((i + 1) * 1000) / RATE - performance.now();
    await new Promise((r) => (wait >= 1 ? setTimeout(r, wait) : setImmediate(r)));
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  await store.close();
  took.sort((x, y) => x - y);
  const slow = took.filter((t) => t > 5).length;
  console.log(
    `bench:sqlite-commit — ${C} channels of 10, ${N} sends at ${RATE} msg/s offered (${(N / secs).toFixed(0)} held), one per turn`,
  );
  console.log(
    `create until commit: p50 ${q(took, 0.5).toFixed(3)} ms, p99 ${q(took, 0.99).toFixed(3)} ms, max ${took[took.length - 1].toFixed(1)} ms; over 5 ms: ${slow}`,
  );
  console.log(
    `event-loop delay: p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms; process CPU ${((cpu.user + cpu.system) / N).toFixed(0)} µs per message`,
  );

  // 2. WAL frames per commit, by b-tree: no checkpoints, so every frame stays in the file.
  const file = join(dir, 'pages.db');
  const s2 = await openSqliteStore({ file, sync: 'normal', checkpointIntervalMs: 0, searchReaders: 0 });
  const w2 = await seed(s2);
  for (let i = 0; i < 2000; i++) await send(s2, w2, i);
  await s2.search.flushIndex?.();
  const db = (s2 as unknown as { db: Database.Database }).db;
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.pragma('wal_autocheckpoint = 0');
  const SENDS = 200;
  for (let i = 0; i < SENDS; i++) await send(s2, w2, 2000 + i);
  await s2.search.flushIndex?.();
  const wal = await readFile(`${file}-wal`);
  const pageSize = wal.readUInt32BE(8);
  const owner = new Map<number, string>();
  for (const r of db.prepare('SELECT name, pageno, pagetype FROM dbstat').all() as { name: string; pageno: number; pagetype: string }[])
    owner.set(r.pageno, `${r.name} (${r.pagetype})`);
  const byTree = new Map<string, number>();
  let frames = 0;
  let commits = 0;
  for (let off = 32; off + 24 + pageSize <= wal.length; off += 24 + pageSize) {
    frames++;
    if (wal.readUInt32BE(off + 4) !== 0) commits++; // a commit frame carries the db size
    const k = owner.get(wal.readUInt32BE(off)) ?? 'other';
    byTree.set(k, (byTree.get(k) ?? 0) + 1);
  }
  await s2.close();
  console.log(
    `WAL: ${frames} frames in ${commits} commits for ${SENDS} sends (the search indexer's own commits included): ${(frames / SENDS).toFixed(2)} pages per send`,
  );
  console.log('| b-tree (page type) | pages per send |\n|---|---|');
  for (const [k, v] of [...byTree].sort((a, b) => b[1] - a[1])) if (v / SENDS >= 0.01) console.log(`| ${k} | ${(v / SENDS).toFixed(2)} |`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
