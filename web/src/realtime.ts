// The realtime client: one WebSocket to /ws (subprotocol `nchat.v1, bearer.<token>`), reconnect
// with exponential backoff + full jitter, resume from the last seq per channel (SeqTracker drops
// repeats and finds gaps), and an outbox: a message typed while offline is kept (also across a
// reload, in localStorage) with its stable clientMsgId and sent again after every reconnect until
// its `ack` (or its own message.created) arrives. The server answers a repeated clientMsgId with
// the original's ack, so a resend never doubles a message.
import type { ClientOp, Message, ServerEvent } from '../../src/protocol/index.js';
import { tokenSecondsLeft } from './api.js';
import { SeqTracker, backoffMs } from './seq.js';

export type ConnState = 'connecting' | 'online' | 'offline';

export interface Pending {
  clientMsgId: string;
  channelId: string;
  text: string;
  parentId?: string;
  fileIds?: string[];
  createdAt: string;
  failed?: string;
}

export interface RealtimeHooks {
  /** The current access token, or null when signed out. */
  token(): string | null;
  /** Rotates the tokens ('revoked': the session is over; 'failed': server unreachable, try later). */
  refresh(): Promise<'ok' | 'revoked' | 'failed'>;
  /** The session was revoked (4003): sign in again. */
  revoked(): void;
  /** Every event after dedupe (message.created only once per seq). */
  event(e: ServerEvent): void;
  state(s: ConnState): void;
  outbox(p: Pending[]): void;
  /** Whether the client holds this channel's messages (only those are replayed on resume). */
  holds(channelId: string): boolean;
  /** After each hello: the server's channel positions (refresh lists, unread counts). */
  hello(channels: { channelId: string; lastSeq: number }[]): void;
}

const CLOSE_TOKEN_EXPIRED = 4001;
const CLOSE_REVOKED = 4003;
const CLOSE_RESTART = 1012;
const PING_EVERY_MS = 20_000;
const PONG_WITHIN_MS = 10_000;

export class RealtimeClient {
  readonly seqs = new SeqTracker();
  private ws: WebSocket | null = null;
  private attempt = 0;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private pinger: ReturnType<typeof setInterval> | undefined;
  private lastPong = 0;
  private ready = false;
  private stopped = true;
  private pending: Pending[] = [];
  /** One resume / presence.query at a time per connection (server: OP_IN_PROGRESS). */
  private lockOps: ClientOp[] = [];
  private lockWaiting: Set<string> | null = null;
  private lockTimer: ReturnType<typeof setTimeout> | undefined;
  private gapTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly url: string,
    private readonly hooks: RealtimeHooks,
    private readonly storageKey: string,
  ) {
    try {
      this.pending = JSON.parse(localStorage.getItem(storageKey) ?? '[]') as Pending[];
    } catch {
      this.pending = [];
    }
  }

  start(): void {
    this.stopped = false;
    addEventListener('online', this.wake);
    addEventListener('offline', this.sleep);
    this.hooks.outbox(this.pending);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    removeEventListener('online', this.wake);
    removeEventListener('offline', this.sleep);
    clearTimeout(this.retry);
    this.drop();
  }

  get outbox(): Pending[] {
    return this.pending;
  }

  /** Queues a message; it leaves now when connected, else after the next hello. */
  send(channelId: string, text: string, parentId?: string, fileIds: string[] = []): Pending {
    const p: Pending = { clientMsgId: newClientMsgId(), channelId, text, createdAt: new Date().toISOString() };
    if (parentId) p.parentId = parentId;
    if (fileIds.length) p.fileIds = fileIds;
    this.pending = [...this.pending, p];
    this.saveOutbox();
    if (this.ready) this.sendPending(p);
    return p;
  }

  discard(clientMsgId: string): void {
    this.pending = this.pending.filter((p) => p.clientMsgId !== clientMsgId);
    this.saveOutbox();
  }

  /** Sends an op when connected; typing/read/presence are dropped while offline (they are not owed). */
  op(op: ClientOp): void {
    if (op.op === 'presence.query' || op.op === 'resume') {
      this.lockOps.push(op);
      this.pumpLock();
      return;
    }
    if (this.ready) this.raw(op);
  }

  private raw(op: ClientOp): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(op));
  }

  private sendPending(p: Pending): void {
    this.raw({
      op: 'send',
      channelId: p.channelId,
      text: p.text,
      clientMsgId: p.clientMsgId,
      ...(p.parentId ? { parentId: p.parentId } : {}),
      ...(p.fileIds ? { fileIds: p.fileIds } : {}),
    });
  }

  private saveOutbox(): void {
    try {
      localStorage.setItem(this.storageKey, JSON.stringify(this.pending));
    } catch {
      /* storage full or disabled: the outbox still lives in memory */
    }
    this.hooks.outbox(this.pending);
  }

  private readonly wake = () => {
    if (this.stopped) return;
    if (!this.ws) {
      clearTimeout(this.retry);
      this.attempt = 0;
      this.connect();
    }
  };

  private readonly sleep = () => {
    this.drop();
    this.hooks.state('offline');
    this.later(backoffMs(this.attempt++));
  };

  private connect(): void {
    if (this.stopped) return;
    const token = this.hooks.token();
    if (!token) return;
    this.hooks.state('connecting');
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url, ['nchat.v1', `bearer.${token}`]);
    } catch {
      this.later(backoffMs(this.attempt++));
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.lastPong = Date.now();
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this.heartbeat(), PING_EVERY_MS);
    };
    ws.onmessage = (m) => this.onFrame(m.data);
    ws.onclose = (c) => {
      if (this.ws !== ws) return;
      this.drop();
      if (this.stopped) return;
      this.hooks.state('offline');
      if (c.code === CLOSE_REVOKED) {
        this.stopped = true;
        this.hooks.revoked();
        return;
      }
      // A refused upgrade (401 among others) shows only as a close before open: refresh when the
      // token is near its end, or every third failed attempt in case it was refused for good.
      if (c.code === CLOSE_TOKEN_EXPIRED || (!opened && (tokenSecondsLeft(token) < 30 || this.attempt % 3 === 2))) {
        const delay = c.code === CLOSE_TOKEN_EXPIRED ? 0 : backoffMs(this.attempt++);
        void this.hooks
          .refresh()
          .then((r) => (r === 'revoked' ? this.hooks.revoked() : this.later(r === 'ok' ? delay : backoffMs(this.attempt++))));
        return;
      }
      if (c.code === CLOSE_RESTART) {
        let hint = 1000;
        try {
          hint = Number((JSON.parse(c.reason) as { retryInMs?: number }).retryInMs) || 1000;
        } catch {
          /* no hint */
        }
        this.later(hint + backoffMs(0, 1000));
        return;
      }
      this.later(backoffMs(this.attempt++));
    };
  }

  private later(ms: number): void {
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.connect(), ms);
  }

  private drop(): void {
    clearInterval(this.pinger);
    clearTimeout(this.lockTimer);
    this.ready = false;
    this.lockOps = [];
    this.lockWaiting = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = ws.onmessage = ws.onopen = null;
      if (ws.readyState <= WebSocket.OPEN) ws.close();
    }
  }

  private heartbeat(): void {
    if (Date.now() - this.lastPong > PING_EVERY_MS + PONG_WITHIN_MS) {
      // No pong for a whole period: the link is dead without a close (network loss).
      this.sleep();
      return;
    }
    this.raw({ op: 'ping', t: Date.now() });
  }

  private onFrame(data: unknown): void {
    let events: ServerEvent[];
    try {
      events = JSON.parse(String(data)) as ServerEvent[];
    } catch {
      return;
    }
    if (!Array.isArray(events)) return;
    for (const e of events) this.onEvent(e);
  }

  private onEvent(e: ServerEvent): void {
    switch (e.type) {
      case 'hello':
        return this.onHello(e.channels);
      case 'pong':
        this.lastPong = Date.now();
        return;
      case 'ack':
        this.settle(e.clientMsgId);
        return;
      case 'resumed':
        if (e.limited)
          this.lockOps.unshift({ op: 'resume', positions: { [e.channelId]: this.seqs.position(e.channelId) ?? e.cursor ?? 0 } });
        this.lockWaiting?.delete(e.channelId);
        if (this.lockWaiting?.size === 0) this.unlock();
        return;
      case 'error':
        if (e.code === 'OP_IN_PROGRESS') return;
        if (e.ref && this.pending.some((p) => p.clientMsgId === e.ref) && e.code !== 'RATE_LIMITED' && e.code !== 'INTERNAL') {
          // Refused for good (not a member, too long, archived): keep it visible as failed, never resend.
          this.pending = this.pending.map((p) => (p.clientMsgId === e.ref ? { ...p, failed: e.message } : p));
          this.saveOutbox();
        }
        this.hooks.event(e);
        return;
      case 'subscription':
        if (e.subscribed) this.seqs.track(e.channelId, e.lastSeq);
        else this.seqs.forget(e.channelId);
        this.hooks.event(e);
        return;
      case 'message.created': {
        const verdict = this.seqs.accept(e.channelId, e.seq);
        if (verdict === 'dup') return;
        if (verdict === 'gap') this.scheduleGapRepair();
        if (e.message.clientMsgId) this.settle(e.message.clientMsgId, e.message);
        this.hooks.event(e);
        return;
      }
      default:
        this.hooks.event(e);
    }
  }

  private onHello(channels: { channelId: string; lastSeq: number }[]): void {
    this.attempt = 0;
    this.ready = true;
    this.hooks.state('online');
    // Channels whose messages this client holds and that moved on: replay what was missed. The
    // others jump to the server's seq (their counts come from GET /api/channels, their history
    // from GET …/messages when opened).
    const behind: Record<string, number> = {};
    for (const c of channels) {
      const mine = this.seqs.position(c.channelId);
      if (mine !== undefined && mine < c.lastSeq && this.hooks.holds(c.channelId)) behind[c.channelId] = mine;
      else this.seqs.track(c.channelId, c.lastSeq);
    }
    this.hooks.hello(channels);
    if (Object.keys(behind).length) this.op({ op: 'resume', positions: behind });
    for (const p of this.pending) if (!p.failed) this.sendPending(p);
  }

  private settle(clientMsgId: string, _m?: Message): void {
    if (!this.pending.some((p) => p.clientMsgId === clientMsgId)) return;
    this.pending = this.pending.filter((p) => p.clientMsgId !== clientMsgId);
    this.saveOutbox();
  }

  private scheduleGapRepair(): void {
    // The server repairs its own broker gaps within ~100 ms; ask only if the gap is still open then.
    clearTimeout(this.gapTimer);
    this.gapTimer = setTimeout(() => {
      const positions: Record<string, number> = {};
      for (const c of this.seqs.gaps()) positions[c] = this.seqs.position(c)!;
      if (Object.keys(positions).length) this.op({ op: 'resume', positions });
    }, 300);
  }

  private pumpLock(): void {
    if (!this.ready || this.lockWaiting || this.lockOps.length === 0) return;
    const op = this.lockOps.shift()!;
    this.raw(op);
    if (op.op === 'resume') {
      this.lockWaiting = new Set(Object.keys(op.positions));
      // Bounded wait: a lost `resumed` must not block presence queries forever.
      this.lockTimer = setTimeout(() => this.unlock(), 15_000);
    } else {
      // presence.query has no end marker: give it a moment, then let the next one go.
      this.lockWaiting = new Set();
      this.lockTimer = setTimeout(() => this.unlock(), 250);
    }
  }

  private unlock(): void {
    clearTimeout(this.lockTimer);
    this.lockWaiting = null;
    this.pumpLock();
  }
}

export function newClientMsgId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return `w:${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
