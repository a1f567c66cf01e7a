// The blob-store contract against the local disk store, plus what only the disk store promises:
// owner-only modes, and stale temp files of a crashed process removed at open (recent ones kept).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { it } from 'node:test';
import { blobStoreContract } from './blob-store.contract.js';
import { LocalBlobStore } from './local-blob-store.js';

for (const fsync of [false, true]) {
  blobStoreContract(`local disk${fsync ? ', fsync' : ''}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nchat-blobs-'));
    const store = await LocalBlobStore.open(join(dir, 'files'), { fsync });
    return {
      store,
      leftovers: () => store.tempFiles(),
      cleanup: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}

it('local disk: blobs are 0600, their dirs 0700; stale temp files left by a crash are removed at open, recent ones kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nchat-blobs-'));
  try {
    const root = join(dir, 'files');
    const store = await LocalBlobStore.open(root);
    const b = await store.put(Readable.from([Buffer.from('secret')]), { maxBytes: 100, prefix: 'f' });
    assert.equal(statSync(join(root, b.key)).mode & 0o777, 0o600);
    assert.equal(statSync(join(root, 'f')).mode & 0o777, 0o700);
    assert.equal(statSync(join(root, 'tmp')).mode & 0o777, 0o700);
    writeFileSync(join(root, 'tmp', 'crashed.part'), 'half');
    // A recent temp file may be another node's upload in flight (shared volume): kept.
    assert.deepEqual(await (await LocalBlobStore.open(root)).tempFiles(), ['crashed.part']);
    const old = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(join(root, 'tmp', 'crashed.part'), old, old);
    const reopened = await LocalBlobStore.open(root);
    assert.deepEqual(await reopened.tempFiles(), []);
    assert.equal((await reopened.stat(b.key))?.size, 6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
