// npm run bench:sqlite-growth [-- --messages N --window W --per-flush F --channels C]
//
// Does a SQLite send cost more as the file grows? The hour-long soak (docs/reports/
// 2026-11-30-soak-1h-sqlite) saw chat e2e p95 rise from 13 to 25 ms and the server's loop p99
// from 15 to 21 ms over ~300,000 messages at a constant rate. This replays that write pattern on
// the real store, without sockets: C channels of 10 members, messages like the soak's
// (`load test chat <n>`, a new number token each, and every 10th an API-style
// `api load <n> <word> <word>`), and the search indexer flushed after every F messages (the soak
// sent ~83 msg/s and the indexer runs every 20 ms: ~2 messages per flush). Per window of W
// messages it prints the time in messages.create and in the indexer per message, the process CPU
// per message, and the database and WAL sizes, so the cost at 0 and at N messages compare in one
// run. The API-style messages go to 10 channels that a `searcher` (like the soak's API VUs) is a
// member of; each window ends with 20 searches of their words as that user (the load test's API
// search: `q=<word>&limit=20`, relevance sort, the server's window of 1,000), timed on the calling
// thread (searchReaders 0: no reader threads). Time is wall time on the calling thread (the event
// loop's share in the server).
// Not a test: figures for docs/PERFORMANCE.md.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId } from '../src/server/ids.js';
import { mkChannel, mkUsers, newMsg } from '../src/server/store/contract/fixtures.js';
import { openSqliteStore } from '../src/server/store/sqlite/index.js';
import { parseQuery } from '../src/server/search/parse.js';
import type { Channel, User } from '../src/server/store/types.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const N = Number(args.get('messages') ?? 400_000);
const W = Number(args.get('window') ?? 25_000);
const F = Number(args.get('per-flush') ?? 2);
const C = Number(args.get('channels') ?? 500);
const WORDS = ['alpha', 'beta', 'gamma', 'lorem', 'seed', 'message'];

const dir = await mkdtemp(join(tmpdir(), 'nchat-growth-'));
const file = join(dir, 'nchat.db');
// The indexer's own timer off (an hour): this loop flushes it, so its time is measured here.
const store = await openSqliteStore({ file, sync: 'normal', searchReaders: 0, searchIndexDelayMs: 3_600_000 });
const size = async (f: string) => (await stat(f).catch(() => ({ size: 0 }))).size / 1048576;
try {
  await store.migrate();
  const channels: { ch: Channel; members: User[] }[] = [];
  for (let c = 0; c < C; c++) {
    const members = await mkUsers(store, 10);
    channels.push({ ch: await mkChannel(store, members[0], { members: members.slice(1) }), members });
  }
  const searcher = (await mkUsers(store, 1))[0];
  for (const { ch } of channels.slice(0, 10))
    await store.channels.addMembers(ch.id, [{ userId: searcher.id, role: 'member' }], new Date().toISOString());
  const searchMs = async (): Promise<{ mean: number; max: number; total: number }> => {
    const times: number[] = [];
    let total = 0;
    for (let k = 0; k < 20; k++) {
      const p = parseQuery(WORDS[k % WORDS.length]);
      const t0 = performance.now();
      const r = await store.search.search(
        {
          userId: searcher.id,
          include: p.include,
          exclude: p.exclude,
          channelIds: [],
          authorIds: [],
          has: [],
          isThread: false,
          sort: 'relevance',
          limit: 20,
          offset: 0,
        },
        { window: 1000, timeoutMs: 0 },
      );
      times.push(performance.now() - t0);
      total += r.total;
    }
    return { mean: times.reduce((a, b) => a + b, 0) / times.length, max: Math.max(...times), total: Math.round(total / 20) };
  };
  console.log(
    `sqlite growth: ${N.toLocaleString()} messages into ${C} channels of 10, index flushed every ${F}, windows of ${W.toLocaleString()}; file ${file}`,
  );
  console.log(
    '| messages | create µs/msg | index µs/msg | create+index p99 µs (per flush group) | CPU µs/msg | db MB | wal MB | search mean / max ms (total) |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  let createMs = 0;
  let indexMs = 0;
  let cpu0 = process.cpuUsage();
  let groups: number[] = [];
  let g0 = performance.now();
  for (let i = 0; i < N; i++) {
    // Every 10th message API-style, into the searcher's 10 channels.
    const { ch, members } = i % 10 === 9 ? channels[((i / 10) % 10) | 0] : channels[i % C];
    const text = i % 10 === 9 ? `api load ${i} ${WORDS[i % 6]} ${WORDS[(i * 7) % 6]}` : `load test chat ${i}`;
    const t0 = performance.now();
    await store.messages.create(newMsg(ch, members[i % 10], { id: newId(), text, createdAt: new Date().toISOString() }));
    const t1 = performance.now();
    createMs += t1 - t0;
    if ((i + 1) % F === 0) {
      await store.search.flushIndex?.();
      const t2 = performance.now();
      indexMs += t2 - t1;
      groups.push((t2 - g0) * 1000);
      g0 = performance.now();
    }
    if ((i + 1) % W === 0) {
      const cpu = process.cpuUsage(cpu0);
      groups.sort((a, b) => a - b);
      const p99 = groups[Math.floor(groups.length * 0.99)] ?? 0;
      const q = await searchMs();
      console.log(
        `| ${(i + 1).toLocaleString()} | ${((createMs * 1000) / W).toFixed(1)} | ${((indexMs * 1000) / W).toFixed(1)} | ${p99.toFixed(0)} | ${((cpu.user + cpu.system) / W).toFixed(1)} | ${(await size(file)).toFixed(1)} | ${(await size(`${file}-wal`)).toFixed(1)} | ${q.mean.toFixed(1)} / ${q.max.toFixed(1)} (${q.total.toLocaleString()}) |`,
      );
      createMs = 0;
      indexMs = 0;
      groups = [];
      cpu0 = process.cpuUsage();
      g0 = performance.now();
    }
  }
} finally {
  await store.close();
  await rm(dir, { recursive: true, force: true });
}
