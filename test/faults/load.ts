// Steady chat load for the fault tests and the end-of-run check (not a test file).
// A workspace of U users in C public channels (everyone in every channel), one FaultClient per
// user, each sending a message every `intervalMs` to a channel in turn while it has fewer than 3
// unacknowledged. At the end, checkAll() holds every acknowledged message against the store (read
// back through the HTTP API) and against what every client received after its resumes.
import assert from 'node:assert/strict';
import { Api, unique } from '../helpers/server.js';
import type { FaultClient } from './client.js';
import type { FaultCounts } from '../../src/report/faults-data.js';
import { recordFault } from './record.js';

export interface Workspace {
  users: { id: string; token: string }[];
  channelIds: string[];
  api: Api;
}

export async function setupWorkspace(origin: string, users: number, channels = 1): Promise<Workspace> {
  const api = new Api(origin);
  const out: Workspace['users'] = [];
  for (let i = 0; i < users; i++) {
    const username = unique('f');
    const r = await api.post('/api/auth/signup', { email: `${username}@example.test`, username, password: 'correct horse battery' });
    if (r.status !== 201) throw new Error(`signup: ${r.status} ${JSON.stringify(r.body)}`);
    out.push({ id: r.body.user.id, token: r.body.accessToken });
  }
  const owner = api.as(out[0].token);
  const channelIds: string[] = [];
  for (let c = 0; c < channels; c++) {
    const r = await owner.post('/api/channels', { name: unique('fault'), type: 'public' });
    if (r.status !== 201) throw new Error(`channel: ${r.status} ${JSON.stringify(r.body)}`);
    channelIds.push(r.body.id);
    for (const u of out.slice(1)) {
      const j = await api.as(u.token).post(`/api/channels/${r.body.id}/join`);
      if (j.status !== 200) throw new Error(`join: ${j.status} ${JSON.stringify(j.body)}`);
    }
  }
  return { users: out, channelIds, api: owner };
}

/** The end-of-run counts; the report's FaultCounts (one shape for the test line and faults.jsonl). */
export type Summary = FaultCounts;

export class ChatLoad {
  private timer: NodeJS.Timeout | undefined;
  private n = 0;
  constructor(
    readonly clients: FaultClient[],
    readonly channelIds: string[],
    readonly intervalMs: number,
  ) {}

  startSending(): void {
    this.timer = setInterval(() => {
      for (const [i, c] of this.clients.entries()) {
        if (c.pending.size >= 3) continue;
        const k = this.n++;
        c.send(this.channelIds[k % this.channelIds.length], `c${i}-${k}`, `load ${i} ${k}`);
      }
    }, this.intervalMs);
  }

  stopSending(): void {
    clearInterval(this.timer);
  }

  /** Messages acked so far, over all clients. */
  acked(): number {
    return this.clients.reduce((n, c) => n + c.acked.size, 0);
  }

  /** Resolves when every client has a hello after `t0` and finished the resume that followed; returns that moment. */
  async allBackAfter(t0: number, timeoutMs: number): Promise<number> {
    await waitUntil(
      () => this.clients.every((c) => c.helloAt > t0 && c.resumedAt >= c.helloAt),
      'every client back and resumed',
      timeoutMs,
    );
    return Math.max(...this.clients.map((c) => c.resumedAt));
  }

  /**
   * Stops sending, waits for outstanding acks, then checks: the store's seqs are 1..N without a gap;
   * every acked clientMsgId is stored exactly once, at the acked seq and id; every client holds
   * exactly the stored messages (same id at each seq). Returns the counts for the log.
   */
  async checkAll(api: Api, timeoutMs = 30_000): Promise<Summary> {
    this.stopSending();
    await waitUntil(() => this.clients.every((c) => c.pending.size === 0), 'every sent message acknowledged', timeoutMs).catch(
      () => undefined,
    );
    const stored = new Map<string, { seq: number; id: string; clientMsgId: string | null }[]>();
    for (const ch of this.channelIds) stored.set(ch, await history(api, ch));
    const ackedAll = this.clients.flatMap((c) => [...c.acked.entries()]);
    for (const [ch, list] of stored) {
      list.forEach((m, i) => assert.equal(m.seq, i + 1, `channel ${ch}: seqs 1..N without a gap`));
      const ids = list.map((m) => m.clientMsgId).filter((x) => x !== null);
      assert.equal(new Set(ids).size, ids.length, `channel ${ch}: no clientMsgId stored twice`);
    }
    for (const [clientMsgId, a] of ackedAll) {
      const m = stored.get(a.channelId)?.[a.seq - 1];
      assert.ok(m, `acked ${clientMsgId} (seq ${a.seq}) is in the store`);
      assert.equal(m.id, a.id, `acked ${clientMsgId}: same id at seq ${a.seq}`);
      assert.equal(m.clientMsgId, clientMsgId);
    }
    // Every client catches up (a real client resumes on a gap; catchUp covers a tail nobody announced).
    const caughtUp = () => this.clients.every((c) => this.channelIds.every((ch) => (c.contiguous.get(ch) ?? 0) >= stored.get(ch)!.length));
    const poke = setInterval(() => {
      for (const c of this.clients) c.catchUp(this.channelIds);
    }, 1000);
    try {
      await waitUntil(caughtUp, 'every client holds every stored message', timeoutMs);
    } finally {
      clearInterval(poke);
    }
    for (const [i, c] of this.clients.entries())
      for (const [ch, list] of stored) {
        const got = c.got.get(ch) ?? new Map();
        assert.equal(got.size, list.length, `client ${i}, channel ${ch}: exactly the stored messages`);
        for (const m of list) assert.equal(got.get(m.seq)?.id, m.id, `client ${i}: seq ${m.seq} is the stored message`);
      }
    const storedCount = [...stored.values()].reduce((n, l) => n + l.length, 0);
    return {
      sent: this.clients.reduce((n, c) => n + c.sent, 0),
      acked: ackedAll.length,
      stored: storedCount,
      received: this.clients.reduce((n, c) => n + [...c.got.values()].reduce((k, m) => k + m.size, 0), 0),
      expected: storedCount * this.clients.length,
      duplicates: this.clients.reduce((n, c) => n + c.duplicates, 0),
      outOfOrder: this.clients.reduce((n, c) => n + c.outOfOrder, 0),
      reconnects: this.clients.reduce((n, c) => n + c.reconnects, 0),
      unacked: this.clients.reduce((n, c) => n + c.pending.size, 0),
    };
  }

  stop(): void {
    this.stopSending();
    for (const c of this.clients) c.stop();
  }
}

/** The whole channel history, oldest first, through GET /api/channels/:id/messages?after=. */
async function history(api: Api, channelId: string): Promise<{ seq: number; id: string; clientMsgId: string | null }[]> {
  const out: { seq: number; id: string; clientMsgId: string | null }[] = [];
  for (;;) {
    const r = await api.get(`/api/channels/${channelId}/messages?after=${out.length ? out[out.length - 1].seq : 0}&limit=200`);
    if (r.status !== 200) throw new Error(`history: ${r.status} ${JSON.stringify(r.body)}`);
    const page = r.body.messages as { seq: number; id: string; clientMsgId?: string | null }[];
    for (const m of page) out.push({ seq: m.seq, id: m.id, clientMsgId: m.clientMsgId ?? null });
    if (page.length < 200) return out;
  }
}

export async function waitUntil(pred: () => boolean, what: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One line a test prints: the counts and the recovery time (also a faults.jsonl record, see record.ts). */
export function report(name: string, s: Summary, extra: Record<string, string | number> = {}): string {
  recordFault(name, extra, s);
  const parts = Object.entries(extra).map(([k, v]) => `${k} ${v}`);
  return (
    `[faults] ${name}: sent ${s.sent}, acked ${s.acked}, stored ${s.stored}, received ${s.received}/${s.expected} ` +
    `(repeats dropped ${s.duplicates}, out-of-order arrivals ${s.outOfOrder}), reconnects ${s.reconnects}, never acked ${s.unacked}` +
    (parts.length ? `; ${parts.join(', ')}` : '')
  );
}
