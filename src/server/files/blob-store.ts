// Where file bytes live. One interface, shaped so an S3-compatible object store fits it as well as
// the local disk (local-blob-store.ts, the default):
// - keys, not paths: the store generates every key (callers never name a blob, so a client's
//   filename can never reach the disk or the bucket); keys are opaque strings of [a-z0-9/].
// - streams in and out; never a whole file in memory.
// - put is all-or-nothing: a blob is visible under its key only once every byte is stored and
//   durable (local: temp file + fsync + rename; S3: a single or multipart upload completed only
//   at the end, aborted on failure). There is no rename or append in the interface.
// - byte ranges on get (HTTP Range maps to S3's Range header).
// The contract suite (blob-store.contract.ts) runs against every implementation.
import type { Readable } from 'node:stream';

/** What put learned while the bytes streamed through. */
export interface StoredBlob {
  key: string;
  size: number;
  /** Hex SHA-256 of the bytes. */
  sha256: string;
  /** The first bytes (up to PutOptions.headBytes), for type sniffing without reading the blob again. */
  head: Buffer;
}

export interface PutOptions {
  /** More bytes than this: put rejects with BlobTooLargeError and leaves nothing behind. */
  maxBytes: number;
  /** How many leading bytes to keep in StoredBlob.head (default 4100, what file-type reads). */
  headBytes?: number;
  /** A key namespace chosen by the caller ([a-z]{1,8}: 'f' for files, 't' for thumbnails); the rest is generated. Default 'b'. */
  prefix?: string;
}

/** An inclusive byte range, as HTTP and S3 express it. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobStore {
  readonly kind: string;
  /**
   * Streams `source` into a new blob. Resolves once the blob is whole and durable. Rejects — with
   * nothing left behind under any key, and no temp data kept — when the source errors or ends
   * early (client gone), or with BlobTooLargeError past maxBytes.
   */
  put(source: Readable, opts: PutOptions): Promise<StoredBlob>;
  /** The blob's bytes (or the inclusive range). Rejects with BlobNotFoundError for an unknown key. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Size of the blob, or undefined when there is none under this key. */
  stat(key: string): Promise<{ size: number } | undefined>;
  /** Removes the blob; a missing key is not an error (idempotent). */
  delete(key: string): Promise<void>;
  /**
   * Optional: the blob's path on a local filesystem, for readers that stream a file better than a
   * Node stream (libvips reads it sequentially instead of buffering it). Object stores omit it.
   */
  localPath?(key: string): string | undefined;
  /** Releases resources; puts in flight are aborted (their data removed). */
  close(): Promise<void>;
}

export class BlobTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`blob larger than ${maxBytes} bytes`);
  }
}

export class BlobNotFoundError extends Error {
  constructor(key: string) {
    super(`no blob ${JSON.stringify(key)}`);
  }
}

/** Keys the stores generate and accept: a short prefix and random hex, nothing that walks a path. */
export const BLOB_KEY_RE = /^[a-z]{1,8}\/[0-9a-f]{2}\/[0-9a-f]{32}$/;
