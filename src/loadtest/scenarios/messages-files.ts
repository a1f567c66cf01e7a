// The messages scenario's "file" share (the template's 10%): each file message carries a real
// uploaded file in `fileIds`. The server attaches only the author's own files, each to one
// message, so every file message needs a fresh upload by its sender. Uploading inside the
// measured path would put upload time into the message latency, so the files are uploaded at
// setup (main process, the scenario's setup phase): per channel, enough for the file messages
// that channel can get (the channel of message i is fixed, i mod channels of its worker; the kind
// is random, so binomial mean + 4 standard deviations), spread over its members. A file message
// takes an entry whose uploader is online; with none left it is sent as plain text and counted
// (msg_file_pool_empty), never silently. Without POST /api/files (a 404 at setup) the file share
// stays plain text and the run says "not measured" with the reason.
import { createHash } from 'node:crypto';
import type { PrepareContext } from '../scenario.js';
import type { Account } from '../setup.js';
import { UploadClient, bufferSource } from '../clients/upload.js';

/** Small real files, base64. */
export interface AttachFile {
  name: string;
  mime: string;
  b64: string;
  sha256: string;
}

async function smallFiles(): Promise<AttachFile[]> {
  const { default: sharp } = await import('sharp');
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 40, g: 120, b: 200 } } })
    .png()
    .toBuffer();
  const text = Buffer.from(
    Array.from({ length: 60 }, (_, i) => `line ${i}: quarterly figures, region ${i % 7}, total ${i * 37}\n`).join(''),
  );
  const file = (name: string, mime: string, b: Buffer): AttachFile => ({
    name,
    mime,
    b64: b.toString('base64'),
    sha256: createHash('sha256').update(b).digest('hex'),
  });
  return [file('screenshot.png', 'image/png', png), file('notes.txt', 'text/plain', text)];
}

/** Per channel of one worker's part: the uploaded files, as (member index in the channel, file id). */
export interface AttachPlan {
  byCh: { m: number; id: string }[][];
}

export interface AttachSetup {
  /** One plan per worker part, or null when the route is absent. */
  plans: AttachPlan[] | null;
  note: string;
  uploaded: number;
  errors: Record<string, number>;
}

/** How many file messages a channel may get: binomial(n, share) mean + 4 sd + 2. */
export function poolSize(messagesInChannel: number, share: number): number {
  const mean = messagesInChannel * share;
  return Math.ceil(mean + 4 * Math.sqrt(mean * (1 - share)) + 2);
}

/**
 * Probes the route, then uploads every channel's files (16 at a time). `parts` are the workers'
 * channels, `rates` their message rates (msg/s), `seconds` the scheduled window, `share` the
 * file share of the mix.
 */
export async function prepareAttachments(
  ctx: PrepareContext,
  parts: { channelId: string; members: Account[] }[][],
  rates: number[],
  seconds: number,
  share: number,
): Promise<AttachSetup> {
  const files = await smallFiles();
  const clients = ctx.nodes.map((o) => new UploadClient(o, 16));
  const src = (k: number) => {
    const f = files[k % files.length];
    return bufferSource(f.name, f.mime, Buffer.from(f.b64, 'base64'), f.sha256);
  };
  const first = parts[0][0];
  const probe = await clients[first.members[0].node].upload(first.members[0].accessToken, src(1), { channelId: first.channelId });
  if (!probe.verified) {
    await Promise.all(clients.map((c) => c.close()));
    const why =
      probe.status === 404
        ? 'POST /api/files answered 404 at setup'
        : `the setup upload failed: HTTP ${probe.status} ${probe.error ?? probe.mismatch ?? ''}`;
    return {
      plans: null,
      note: `messages: "file" messages: attachments not measured (${why}); they are sent as plain text naming a file`,
      uploaded: 0,
      errors: {},
    };
  }
  const plans: AttachPlan[] = parts.map((p) => ({ byCh: p.map(() => [] as AttachPlan['byCh'][number]) }));
  const jobs: { w: number; ci: number; m: number; k: number }[] = [];
  parts.forEach((p, w) => {
    const total = Math.ceil(rates[w] * seconds);
    p.forEach((ch, ci) => {
      const n = poolSize(Math.ceil((total - ci) / p.length), share);
      for (let k = 0; k < n; k++) jobs.push({ w, ci, m: k % ch.members.length, k });
    });
  });
  ctx.log(`messages: uploading ${jobs.length} files for the "file" messages`);
  let next = 0;
  let uploaded = 0;
  const errors: Record<string, number> = {};
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < jobs.length) {
        const { w, ci, m, k } = jobs[next++];
        const ch = parts[w][ci];
        const acc = ch.members[m];
        const r = await clients[acc.node].upload(acc.accessToken, src(k), { channelId: ch.channelId });
        if (r.verified) {
          uploaded++;
          plans[w].byCh[ci].push({ m, id: r.body.id });
        } else {
          const code = r.ok ? 'MISMATCH' : (r.error ?? String(r.status));
          errors[code] = (errors[code] ?? 0) + 1;
        }
      }
    }),
  );
  await Promise.all(clients.map((c) => c.close()));
  return {
    plans,
    uploaded,
    errors,
    note: `messages: "file" messages attach a real file their sender uploaded at setup (${uploaded} uploaded: a ${Math.round(Buffer.from(files[0].b64, 'base64').length / 100) / 10} KB PNG or a ${Math.round(Buffer.from(files[1].b64, 'base64').length / 100) / 10} KB text file, alternately) through fileIds; upload time is not in the message latency; a file message with no uploaded file of an online member left is sent as text and counted as msg_file_pool_empty`,
  };
}

/** One worker's uploaded files per channel, taken one per file message. */
export class AttachmentPool {
  constructor(private readonly plan: AttachPlan) {}

  /** A file of channel `ci` whose uploader (member index) is online, removed from the pool; or null. */
  take(ci: number, online: (m: number) => boolean): { m: number; id: string } | null {
    const list = this.plan.byCh[ci] ?? [];
    const i = list.findIndex((e) => online(e.m));
    return i < 0 ? null : list.splice(i, 1)[0];
  }
}
