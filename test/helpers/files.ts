// Upload helpers for the file tests: real multipart over real sockets (fetch + FormData), raw
// multipart bodies for the malformed cases, and what a test checks after a refused upload (no
// temp file, no blob, no row).
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Reply, TestServer } from './server.js';

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** POST /api/files with FormData: optional channelId, then the file. */
export async function upload(
  url: string,
  user: { token: string },
  data: Uint8Array,
  opts: { name?: string; type?: string; channelId?: string } = {},
): Promise<Reply> {
  const fd = new FormData();
  if (opts.channelId) fd.append('channelId', opts.channelId);
  fd.append('file', new Blob([data], { type: opts.type ?? 'application/octet-stream' }), opts.name ?? 'file.bin');
  const res = await fetch(`${url}/api/files`, { method: 'POST', headers: { authorization: `Bearer ${user.token}` }, body: fd });
  return { status: res.status, body: await res.json().catch(() => undefined), headers: res.headers };
}

/** A hand-written multipart body (for names and shapes FormData would not produce). */
export function rawMultipart(
  parts: { name: string; filename?: string; type?: string; data: Uint8Array | string }[],
  boundary = 'nchatBoundary7x',
): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disp = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disp}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`, 'utf8'));
    chunks.push(typeof p.data === 'string' ? Buffer.from(p.data, 'utf8') : Buffer.from(p.data));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

export async function postRaw(url: string, user: { token: string }, body: Buffer | string, contentType: string): Promise<Reply> {
  const res = await fetch(`${url}/api/files`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.token}`, 'content-type': contentType },
    body,
  });
  return { status: res.status, body: await res.json().catch(() => undefined), headers: res.headers };
}

export async function getBytes(url: string, user: { token: string }, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(url + path, { headers: { authorization: `Bearer ${user.token}`, ...headers } });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** Everything under <dataDir>/files: temp files and stored blobs. */
export async function storedFiles(srv: TestServer): Promise<{ temp: string[]; blobs: string[] }> {
  const root = join(resolve(srv.running.config.dataDir), 'files');
  const temp = await readdir(join(root, 'tmp'));
  const blobs = (await readdir(root, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile() && !e.parentPath.endsWith('tmp'))
    .map((e) => join(e.parentPath, e.name));
  return { temp, blobs };
}

/** Polls until the thumbnail is served (or answers something other than NOT_READY). */
export async function waitThumbnail(url: string, user: { token: string }, id: string, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await getBytes(url, user, `/api/files/${id}/thumbnail`);
    const notReady = r.status === 404 && JSON.parse(r.bytes.toString() || '{}')?.error?.code === 'NOT_READY';
    if (!notReady || Date.now() > until) return r;
    await new Promise((res) => setTimeout(res, 50));
  }
}
