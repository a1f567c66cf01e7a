// The blob-store contract (blob-store.ts), run unchanged against every implementation: today the
// local disk (local-blob-store.test.ts); an S3-compatible store would register here too.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { BLOB_KEY_RE, BlobNotFoundError, type BlobStore, BlobTooLargeError } from './blob-store.js';

export interface BlobHarness {
  store: BlobStore;
  /** Anything the store keeps besides whole blobs (temp files, pending multipart uploads). */
  leftovers(): Promise<string[]>;
  cleanup(): Promise<void>;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A source that yields `chunks` then fails (a client that went away mid-upload). */
function failingSource(chunks: Buffer[]): Readable {
  let i = 0;
  return new Readable({
    read() {
      if (i < chunks.length) this.push(chunks[i++]);
      else this.destroy(new Error('client went away'));
    },
  });
}

async function bytesOf(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

export function blobStoreContract(label: string, open: () => Promise<BlobHarness>): void {
  describe(`BlobStore contract: ${label}`, () => {
    let h: BlobHarness;
    before(async () => {
      h = await open();
    });
    after(async () => {
      await h.cleanup();
    });

    it('put streams a blob in and reports size, SHA-256 and head; get streams it back', async () => {
      const data = randomBytes(3 * 1024 * 1024 + 17);
      const b = await h.store.put(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), { maxBytes: data.length, prefix: 'f' });
      assert.match(b.key, BLOB_KEY_RE);
      assert.ok(b.key.startsWith('f/'));
      assert.equal(b.size, data.length);
      assert.equal(b.sha256, sha(data));
      assert.deepEqual(b.head, data.subarray(0, 4100));
      assert.deepEqual(await bytesOf(await h.store.get(b.key)), data);
      assert.deepEqual(await h.store.stat(b.key), { size: data.length });
    });

    it('get with a range returns exactly the inclusive bytes', async () => {
      const data = randomBytes(10_000);
      const b = await h.store.put(Readable.from([data]), { maxBytes: 1e6 });
      assert.deepEqual(await bytesOf(await h.store.get(b.key, { start: 0, end: 0 })), data.subarray(0, 1));
      assert.deepEqual(await bytesOf(await h.store.get(b.key, { start: 9000, end: 9999 })), data.subarray(9000));
      assert.deepEqual(await bytesOf(await h.store.get(b.key, { start: 17, end: 4099 })), data.subarray(17, 4100));
    });

    it('a zero-byte blob is a blob', async () => {
      const b = await h.store.put(Readable.from([]), { maxBytes: 10 });
      assert.equal(b.size, 0);
      assert.equal(b.sha256, sha(Buffer.alloc(0)));
      assert.equal(await text(await h.store.get(b.key)), '');
    });

    it('every put gets its own key', async () => {
      const keys = await Promise.all(Array.from({ length: 20 }, () => h.store.put(Readable.from([Buffer.from('same')]), { maxBytes: 10 })));
      assert.equal(new Set(keys.map((k) => k.key)).size, 20);
    });

    it('past maxBytes: BlobTooLargeError and nothing left behind', async () => {
      const before = await h.leftovers();
      await assert.rejects(h.store.put(Readable.from([randomBytes(600), randomBytes(600)]), { maxBytes: 1000 }), BlobTooLargeError);
      assert.deepEqual(await h.leftovers(), before);
      // Exactly maxBytes is fine.
      assert.equal((await h.store.put(Readable.from([randomBytes(1000)]), { maxBytes: 1000 })).size, 1000);
    });

    it('a source that fails mid-stream: the error, and nothing left behind', async () => {
      await assert.rejects(h.store.put(failingSource([randomBytes(70_000), randomBytes(70_000)]), { maxBytes: 1e6 }), /went away/);
      assert.deepEqual(await h.leftovers(), []);
    });

    it('unknown, malformed and path-walking keys are not found (get rejects, stat is undefined, delete is a no-op)', async () => {
      for (const key of ['f/00/00000000000000000000000000000000', '../../etc/passwd', 'f/../../x', '', 'F/00/ABC']) {
        await assert.rejects(h.store.get(key), BlobNotFoundError, key);
        assert.equal(await h.store.stat(key), undefined, key);
        await h.store.delete(key);
      }
    });

    it('delete removes the blob and is idempotent', async () => {
      const b = await h.store.put(Readable.from([Buffer.from('bye')]), { maxBytes: 10 });
      await h.store.delete(b.key);
      await h.store.delete(b.key);
      assert.equal(await h.store.stat(b.key), undefined);
      await assert.rejects(h.store.get(b.key), BlobNotFoundError);
    });
  });
}
