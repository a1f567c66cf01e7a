// A chat client as a real one behaves through faults (not a test file), built on the load test's
// own socket (src/loadtest/clients/ws.ts):
// - on an unexpected close it reconnects with exponential backoff and full jitter, trying its
//   origins in turn after a failed attempt (another node when one is down);
// - on `hello` it resumes every channel from the last seq it holds (paging while `limited`), and
//   sends again every message not yet acknowledged, with the same clientMsgId (the server answers
//   a repeat with the original's ack and writes nothing), and sends again a message refused for a
//   passing reason (store unavailable, rate limited) after a short jittered pause;
// - it keeps what it received per channel by seq, drops repeats (counted), and resumes from the
//   last contiguous seq when a gap stays open for a second (docs/REALTIME.md, Frames).
// What it holds is checked against the store at the end (see load.ts).
import { NchatSocket, wsUrlOf } from '../../src/loadtest/clients/ws.js';
import type { ServerEvent } from '../../src/protocol/ws.js';

export interface Received {
  id: string;
  clientMsgId: string | null;
}

export interface ClientOptions {
  origins: string[];
  token: string;
  /** Backoff: base and cap of the full-jitter exponential delay. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
}

export class FaultClient {
  readonly sock: NchatSocket[];
  private originIdx = 0;
  private cur: NchatSocket | undefined;
  private attempt = 0;
  private stopped = false;
  /** Per channel: seq → message; `contiguous` is the highest seq with every seq before it held. */
  readonly got = new Map<string, Map<number, Received>>();
  readonly contiguous = new Map<string, number>();
  private maxSeen = new Map<string, number>();
  private resuming = false;
  private gapSince = new Map<string, number>();
  readonly pending = new Map<string, { channelId: string; text: string }>();
  readonly acked = new Map<string, { seq: number; id: string; channelId: string }>();
  sent = 0;
  duplicates = 0;
  outOfOrder = 0;
  reconnects = 0;
  connectFailures = 0;
  /** Failed connection attempts by error (TIMEOUT, ECONNREFUSED, HTTP_503, …). */
  readonly failureKinds = new Map<string, number>();
  readonly closeCodes: number[] = [];
  readonly errors: string[] = [];
  /** performance.now() of the last hello and of the end of the resume that followed it. */
  helloAt = 0;
  resumedAt = 0;
  connected = false;
  private gapTimer: NodeJS.Timeout;

  constructor(readonly o: ClientOptions) {
    this.sock = o.origins.map((origin) => new NchatSocket(wsUrlOf(origin), o.token));
    this.gapTimer = setInterval(() => this.checkGaps(), 250);
  }

  /** Connects (retrying with backoff until it succeeds or stop()). */
  async start(): Promise<void> {
    while (!this.stopped) {
      const s = this.sock[this.originIdx % this.sock.length];
      this.cur = s;
      s.onEvent = (e) => this.onEvent(e);
      s.onClose = (code, intentional) => this.onClose(code, intentional);
      const r = await s.connect(10_000);
      if (r.ok) return;
      this.connectFailures++;
      this.failureKinds.set(r.error ?? '?', (this.failureKinds.get(r.error ?? '?') ?? 0) + 1);
      this.originIdx++;
      await this.backoff();
    }
  }

  private async backoff(): Promise<void> {
    const cap = this.o.backoffCapMs ?? 5000;
    const base = this.o.backoffBaseMs ?? 100;
    const delay = Math.random() * Math.min(cap, base * 2 ** this.attempt);
    this.attempt++;
    await new Promise((r) => setTimeout(r, delay));
  }

  private onClose(code: number, intentional: boolean): void {
    this.connected = false;
    this.resuming = false;
    this.closeCodes.push(code);
    if (intentional || this.stopped) return;
    this.reconnects++;
    void this.backoff().then(() => this.start());
  }

  /** Sends one message (kept until acked; sent again after a reconnect). */
  send(channelId: string, clientMsgId: string, text: string): void {
    this.pending.set(clientMsgId, { channelId, text });
    this.sent++;
    this.cur?.send({ op: 'send', channelId, text, clientMsgId });
  }

  private onEvent(e: ServerEvent): void {
    switch (e.type) {
      case 'hello': {
        this.connected = true;
        this.attempt = 0;
        this.helloAt = performance.now();
        const positions: Record<string, number> = {};
        for (const c of e.channels) positions[c.channelId] = this.contiguous.get(c.channelId) ?? 0;
        this.resume(positions);
        for (const [clientMsgId, p] of this.pending) this.cur?.send({ op: 'send', channelId: p.channelId, text: p.text, clientMsgId });
        break;
      }
      case 'ack':
        if (this.pending.delete(e.clientMsgId)) this.acked.set(e.clientMsgId, { seq: e.seq, id: e.id, channelId: e.channelId });
        break;
      case 'message.created':
        this.receive(e.channelId, e.seq, { id: e.message.id, clientMsgId: e.message.clientMsgId ?? null });
        break;
      case 'resumed':
        if (e.limited) this.resume({ [e.channelId]: e.cursor ?? this.contiguous.get(e.channelId) ?? 0 });
        else this.resumeDone();
        break;
      case 'error': {
        this.errors.push(`${e.code}:${e.ref ?? ''}`);
        if (e.code === 'OP_IN_PROGRESS') this.resuming = false;
        // A send refused for a passing reason (store down, rate limited): try again in 0.2–0.7 s
        // with the same clientMsgId; a refusal of the message itself is not retried.
        const p = e.ref !== undefined ? this.pending.get(e.ref) : undefined;
        if (p && !['VALIDATION_FAILED', 'TEXT_TOO_LONG', 'NOT_FOUND', 'NOT_A_MEMBER', 'FORBIDDEN'].includes(e.code)) {
          const id = e.ref as string;
          setTimeout(
            () => this.pending.has(id) && this.cur?.send({ op: 'send', channelId: p.channelId, text: p.text, clientMsgId: id }),
            200 + Math.random() * 500,
          );
        }
        break;
      }
    }
  }

  private openResumes = 0;
  private resume(positions: Record<string, number>): void {
    const n = Object.keys(positions).length;
    if (n === 0) return this.resumeDone();
    this.resuming = true;
    this.openResumes = n;
    this.cur?.send({ op: 'resume', positions });
  }
  private resumeDone(): void {
    if (--this.openResumes > 0) return;
    this.resuming = false;
    this.resumedAt = performance.now();
  }

  private receive(channelId: string, seq: number, m: Received): void {
    let map = this.got.get(channelId);
    if (!map) this.got.set(channelId, (map = new Map()));
    if (map.has(seq)) {
      this.duplicates++;
      return;
    }
    if (seq < (this.maxSeen.get(channelId) ?? 0)) this.outOfOrder++;
    map.set(seq, m);
    this.maxSeen.set(channelId, Math.max(seq, this.maxSeen.get(channelId) ?? 0));
    let c = this.contiguous.get(channelId) ?? 0;
    while (map.has(c + 1)) c++;
    this.contiguous.set(channelId, c);
  }

  /** A gap open for more than a second: resume from the last contiguous seq (one resume at a time). */
  private checkGaps(): void {
    if (!this.connected || this.resuming) return;
    const now = performance.now();
    const positions: Record<string, number> = {};
    for (const [ch, max] of this.maxSeen) {
      const c = this.contiguous.get(ch) ?? 0;
      if (c >= max) {
        this.gapSince.delete(ch);
        continue;
      }
      const since = this.gapSince.get(ch) ?? now;
      this.gapSince.set(ch, since);
      if (now - since > 1000) positions[ch] = c;
    }
    if (Object.keys(positions).length > 0) {
      for (const ch of Object.keys(positions)) this.gapSince.delete(ch);
      this.resume(positions);
    }
  }

  /** Asks for everything after what it holds (used at the end, when the sender stopped). */
  catchUp(channelIds: string[]): void {
    if (!this.connected || this.resuming) return;
    this.resume(Object.fromEntries(channelIds.map((ch) => [ch, this.contiguous.get(ch) ?? 0])));
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.gapTimer);
    for (const s of this.sock) s.close();
  }

  /** Drops the connection without a close frame, as a dead network would (the client then reconnects). */
  dropNow(): void {
    this.cur?.ws?.terminate();
  }
}
