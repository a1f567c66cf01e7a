// Child process of search-indexer.test.ts: sends messages with search indexing held back (an
// hour's delay), prints what it wrote once every send is acknowledged, then kills itself with
// SIGKILL — a crash between the sends' commits and their indexing. Not a test file on its own.
// Usage: node --import tsx search-indexer.crash-child.ts <db file> <messages> <word>
import { writeSync } from 'node:fs';
import { newId } from '../../ids.js';
import { mkChannel, mkUser, newMsg } from '../contract/fixtures.js';
import { openSqliteStore } from './index.js';

const [file, count, word] = process.argv.slice(2) as [string, string, string];
const store = await openSqliteStore({ file, sync: 'normal', searchReaders: 0, searchIndexDelayMs: 3_600_000 });
await store.migrate();
const user = await mkUser(store);
const channel = await mkChannel(store, user);
const sends = Array.from({ length: Number(count) }, (_, i) =>
  store.messages.create(newMsg(channel, user, { id: newId(), text: `${word} crash number ${i}`, createdAt: new Date().toISOString() })),
);
const ids = (await Promise.all(sends)).map((r) => r.message.id);
writeSync(1, `${JSON.stringify({ userId: user.id, channelId: channel.id, ids })}\n`);
process.kill(process.pid, 'SIGKILL');
