// Fault: the disk holding a SQLite node's data dir fills up under a steady send load. A 16 MB
// tmpfs (mounted here; needs root or CAP_SYS_ADMIN, else the test is skipped with the reason) holds
// the data dir; a filler file takes every free byte. Then sends (WebSocket and REST) and uploads
// must be refused with a clear 4xx/503 — never a 500, never a crash — nothing acknowledged may be
// lost, and once the filler is deleted the node must take sends again without a restart. A
// resumable (tus) upload started before the disk filled: its PATCH on the full disk is 503
// UNAVAILABLE like a plain upload (it was 409: the lock file was created but its write failed),
// keeps nothing of that PATCH, and the same PATCH completes the file once space returns.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { upload } from '../helpers/files.js';
import { FaultClient } from './client.js';
import { ChatLoad, report, setupWorkspace, waitUntil } from './load.js';
import { type ChildNode, startChildNode } from './nodes.js';

let dir: string;
let mnt: string | undefined;
let node: ChildNode | undefined;
let load: ChatLoad | undefined;
after(async () => {
  load?.stop();
  await node?.stop();
  if (mnt) {
    try {
      execFileSync('umount', [mnt], { stdio: 'ignore' });
    } catch {
      execFileSync('umount', ['-l', mnt], { stdio: 'ignore' }); // still busy: detach now, freed when released
    }
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Mounts a 16 MB tmpfs at `at`; the reason it could not, or undefined. */
function mountSmallFs(at: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'tmpfs', at], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return `cannot mount a 16 MB tmpfs (needs root or CAP_SYS_ADMIN): ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}; disk-full test skipped`;
  }
}

async function tus(origin: string, token: string, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer) {
  const res = await fetch(origin + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}
const tusCreate = (origin: string, token: string, length: number) =>
  tus(origin, token, 'POST', '/api/files/tus', {
    'upload-length': String(length),
    'upload-metadata': `filename ${Buffer.from('resumed.bin').toString('base64')}`,
  });
const tusPatch = (origin: string, token: string, loc: string, offset: number, bytes: Buffer) =>
  tus(origin, token, 'PATCH', loc, { 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }, bytes);

/** Writes zeros to `file` until the filesystem refuses (ENOSPC); returns the bytes written. */
function fill(file: string): number {
  const fd = openSync(file, 'w');
  let written = 0;
  try {
    for (const size of [1 << 20, 64 << 10, 4 << 10, 512]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          written += writeSync(fd, chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

test('disk full on the data dir (SQLite) mid-load: sends and uploads refused with 503 UNAVAILABLE, nothing acknowledged lost, recovers when space returns', async (t) => {
  dir = await mkdtemp(join(tmpdir(), 'nchat-fault-diskfull-'));
  const at = join(dir, 'mnt');
  mkdirSync(at);
  const why = mountSmallFs(at);
  if (why) return t.skip(why);
  mnt = at;
  node = await startChildNode({ name: 'diskfull', dataDir: join(at, 'data'), logDir: join(dir, 'logs') });
  const ws = await setupWorkspace(node.origin, 6, 2);
  const clients = ws.users.map((u) => new FaultClient({ origins: [node!.origin], token: u.token }));
  await Promise.all(clients.map((c) => c.start()));
  load = new ChatLoad(clients, ws.channelIds, 100);
  load.startSending();
  await waitUntil(() => load!.acked() >= 100, '100 acks before the disk fills', 30_000);

  // A resumable upload, half sent before the disk fills.
  const me = ws.users[0];
  const tusData = randomBytes(256 << 10);
  const half = 128 << 10;
  const tc = await tusCreate(node.origin, me.token, tusData.length);
  assert.equal(tc.status, 201, JSON.stringify(tc.body));
  const loc = tc.headers.get('location')!;
  assert.equal((await tusPatch(node.origin, me.token, loc, 0, tusData.subarray(0, half))).status, 204);

  const ackedBefore = load.acked();
  const errorsBefore = clients.reduce((n, c) => n + c.errors.length, 0);
  const filler = join(at, 'filler');
  const filled = fill(filler);
  const tFull = performance.now();
  // The WAL reuses pages it already holds, so the first refusals come once it must grow.
  const refusedWs = () => clients.flatMap((c) => c.errors).slice(errorsBefore).length;
  await waitUntil(() => refusedWs() >= 5, 'sends refused on the full disk', 60_000);
  const restFull = await ws.api.post(`/api/channels/${ws.channelIds[0]}/messages`, { text: 'disk full', clientMsgId: 'rest-full' });
  const up = await upload(node.origin, ws.users[0], Buffer.alloc(256 << 10, 7), { name: 'big.bin' });
  const health = await fetch(`${node.origin}/api/health`);
  const partsLeft = readdirSync(join(at, 'data', 'files', 'tmp')).length;
  const tusFull = await tusPatch(node.origin, me.token, loc, half, tusData.subarray(half));
  const tusOffsetFull = (await tus(node.origin, me.token, 'HEAD', loc)).headers.get('upload-offset');
  const tusCreateFull = await tusCreate(node.origin, me.token, 1000);
  const tusLeft = readdirSync(join(at, 'data', 'files', 'tus')).sort();
  const ackedFull = load.acked();

  rmSync(filler);
  const tFreed = performance.now();
  await waitUntil(() => load!.acked() > ackedFull, 'a send acknowledged after space returned', 30_000);
  const firstAck = performance.now();
  await waitUntil(() => load!.acked() >= ackedFull + 100, '100 more acks after space returned', 30_000);
  const upAfter = await upload(node.origin, ws.users[0], Buffer.alloc(256 << 10, 7), { name: 'big.bin' });
  const tusAfter = await tusPatch(node.origin, me.token, loc, half, tusData.subarray(half));
  const tusFileId = tusAfter.headers.get('nchat-file-id');
  const tusBytes = tusFileId
    ? Buffer.from(
        await (await fetch(`${node.origin}/api/files/${tusFileId}`, { headers: { authorization: `Bearer ${me.token}` } })).arrayBuffer(),
      )
    : undefined;
  const refused = clients.flatMap((c) => c.errors).slice(errorsBefore);
  const codes = new Map<string, number>();
  for (const e of refused) codes.set(e.split(':')[0], (codes.get(e.split(':')[0]) ?? 0) + 1);
  const s = await load.checkAll(ws.api);
  console.log(
    report('disk full (16 MB tmpfs data dir, SQLite)', s, {
      'acked before': ackedBefore,
      'filler bytes': filled,
      'full to first refusal ms': Math.round(performance.now() - tFull),
      'sends refused (by code)': [...codes].map(([k, v]) => `${k} ${v}`).join(' ') || 'none',
      'REST send while full': `${restFull.status} ${restFull.body?.error?.code} (Retry-After ${restFull.headers.get('retry-after')})`,
      'upload while full': `${up.status} ${up.body?.error?.code}`,
      'health while full': health.status,
      'freed to first ack ms': Math.round(firstAck - tFreed),
      'upload after': upAfter.status,
      'tus PATCH while full': `${tusFull.status} ${tusFull.body?.error?.code} (Retry-After ${tusFull.headers.get('retry-after')}, offset after ${tusOffsetFull})`,
      'tus create while full': `${tusCreateFull.status} ${tusCreateFull.body?.error?.code}`,
      'tus PATCH after': `${tusAfter.status} ${tusFileId ?? ''}`,
    }),
  );
  assert.equal(restFull.status, 503, 'a REST send on a full disk is 503, not 500');
  assert.equal(restFull.body.error.code, 'UNAVAILABLE');
  assert.ok(Number(restFull.headers.get('retry-after')) > 0, 'with Retry-After');
  assert.equal(up.status, 503, 'an upload on a full disk is 503 (the server is out of space, the body was fine)');
  assert.equal(up.body?.error?.code, 'UNAVAILABLE');
  assert.equal(partsLeft, 0, 'the refused upload left no partial file on the volume');
  assert.equal(codes.get('INTERNAL'), undefined, 'no WebSocket op answered INTERNAL');
  assert.ok((codes.get('UNAVAILABLE') ?? 0) > 0, 'WebSocket sends were refused with UNAVAILABLE');
  assert.equal(upAfter.status, 201, 'uploads work again once space returns');
  assert.equal(tusFull.status, 503, 'a tus PATCH on a full disk is 503 as a plain upload is (it was 409)');
  assert.equal(tusFull.body?.error?.code, 'UNAVAILABLE');
  assert.ok(Number(tusFull.headers.get('retry-after')) > 0, 'with Retry-After');
  assert.equal(tusOffsetFull, String(half), 'nothing of the refused PATCH was kept: the offset is where it was');
  assert.equal(tusCreateFull.status, 503, 'creating a tus upload on a full disk is 503');
  assert.equal(tusCreateFull.body?.error?.code, 'UNAVAILABLE');
  const tusId = loc.split('/').pop();
  assert.deepEqual(tusLeft, [`${tusId}.json`, `${tusId}.part`], 'no lock and nothing of the refused create left behind');
  assert.equal(tusAfter.status, 204, 'the same PATCH completes the upload once space returns');
  assert.ok(tusFileId, 'and names the stored file');
  assert.ok(tusBytes?.equals(tusData), 'the stored file is exactly the bytes sent');
  assert.equal(s.unacked, 0, 'every refused send went through once space returned');
  assert.equal(s.received, s.expected);
});
