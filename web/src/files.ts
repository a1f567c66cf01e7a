// Files: uploads with progress and cancel (XMLHttpRequest: fetch has no upload progress), and
// authenticated reads. File bytes and thumbnails need the bearer token, which an <img src> cannot
// send, so they are fetched and shown through blob: URLs (the CSP allows img-src blob:). A blob
// of an image is only ever put in an <img> (never a document), so an SVG or HTML upload cannot run.
import type { FileObject } from '../../src/protocol/files.js';
import { ApiError, type Api } from './api.js';

export interface Upload {
  key: string;
  name: string;
  size: number;
  loaded: number;
  state: 'uploading' | 'done' | 'failed' | 'cancelled';
  file?: FileObject;
  error?: string;
  abort(): void;
}

/** Uploads one file; `onChange` sees progress. Resolves when done, failed or cancelled. */
export function upload(api: Api, file: File, channelId: string | undefined, onChange: (u: Upload) => void): Upload {
  const xhr = new XMLHttpRequest();
  const u: Upload = {
    key: `${Date.now()}-${Math.random()}`,
    name: file.name,
    size: file.size,
    loaded: 0,
    state: 'uploading',
    abort: () => xhr.abort(),
  };
  const emit = (patch: Partial<Upload>) => {
    Object.assign(u, patch);
    onChange({ ...u });
  };
  const form = new FormData();
  // channelId must come before the file part (the server reads the parts in order).
  if (channelId) form.append('channelId', channelId);
  form.append('file', file, file.name);
  const start = (retried: boolean) => {
    xhr.open('POST', '/api/files');
    const token = api.current?.accessToken;
    if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (e) => emit({ loaded: e.loaded });
    xhr.onload = () => {
      if (xhr.status === 401 && !retried) {
        void api.refresh().then((r) => (r === 'ok' ? start(true) : emit({ state: 'failed', error: 'signed out' })));
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      if (xhr.status === 201) emit({ state: 'done', loaded: file.size, file: body as FileObject });
      else emit({ state: 'failed', error: (body as { error?: { message?: string } })?.error?.message ?? `HTTP ${xhr.status}` });
    };
    xhr.onerror = () => emit({ state: 'failed', error: 'network error' });
    xhr.onabort = () => emit({ state: 'cancelled' });
    xhr.send(form);
  };
  start(false);
  return u;
}

const blobs = new Map<string, Promise<string>>();

/** A blob: URL for an authenticated GET (cached per URL). Retries NOT_READY thumbnails a few times. */
export function authedBlobUrl(api: Api, url: string): Promise<string> {
  let p = blobs.get(url);
  if (!p) {
    p = (async () => {
      for (let attempt = 0; ; attempt++) {
        const token = api.current?.accessToken;
        const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
        if (res.ok) return URL.createObjectURL(await res.blob());
        if (res.status === 401 && attempt === 0 && (await api.refresh()) === 'ok') continue;
        const code = ((await res.json().catch(() => ({}))) as { error?: { code?: string } }).error?.code;
        if (code === 'NOT_READY' && attempt < 10) {
          await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
          continue;
        }
        throw new ApiError(res.status, 'NOT_FOUND', `cannot load ${url}`);
      }
    })();
    p.catch(() => blobs.delete(url));
    blobs.set(url, p);
  }
  return p;
}

/** Forgets a cached URL (a thumbnail that just became ready). */
export function forgetBlob(url: string): void {
  blobs.delete(url);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
