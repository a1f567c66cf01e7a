// One authenticated WebSocket: client frames in (ops), frames out through the hub's outbox.
//
// Client ops are one JSON object a frame, each a schema of protocol/ws.ts (ClientOps): ops.ts
// validates a frame against its op's compiled schema (HTTP body rules: unknown fields, types,
// Unicode, sizes) and `Connection.handlers` holds one handler per op, which receives the typed op.
//   send → ack {clientMsgId, id, seq, channelId} · typing · read · resume → replay + resumed
//   ping {t?} → pong {t} · presence {status} · presence.query {channelId} → presence events
// Every refused frame gets `{type:"error", code, message, ref}` with a code of the one error table
// (protocol/errors.ts); `ref` is the frame's `ref` field when given, else its clientMsgId, else
// the channelId, else the op (each ≤ 200 chars, so an echoed ref is bounded). The socket stays
// open. A frame the schema refuses counts as malformed (see MAX_INVALID); a refusal by the
// service (not a member, archived, rate limited …) does not.
// Channel ops (typing, resume, presence.query) on a channel this connection is not subscribed to
// answer what HTTP answers for it: NOT_FOUND when the caller cannot see it (private/DM not a
// member, or no such channel), NOT_A_MEMBER for a visible public channel not joined.
// Bulk replies (resume, presence.query) run one at a time per connection (a second one while
// one runs gets OP_IN_PROGRESS), are sent in pieces of at most `piece` bytes, and wait for the
// socket's unsent bytes to fall under half of wsMaxBuffered between pieces; a resume replays at
// most min(wsResumeMaxBytes, wsMaxBuffered / 2) bytes (see resume.ts).
// Abuse closes it: frames beyond the rate limit get RATE_LIMITED, and more than
// ABUSE_FACTOR × the per-second limit refused within one window, or more than
// MAX_INVALID malformed frames within one window, close with 1008.
// Slow consumer: when the unsent bytes would pass config.wsMaxBuffered the socket is closed
// with 4008 ("resume"); nothing is buffered without bound.
import type { WebSocket, RawData } from 'ws';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { AppError, type ErrorCode } from '../errors.js';
import { channelTopic } from '../broker/broker.js';
import type { Broker } from '../broker/broker.js';
import {
  CloseCodes,
  type ClientOp,
  type ClientOpOf,
  type OpName,
  type PresenceOp,
  type PresenceQueryOp,
  type ResumeOp,
  type SendOp,
  type ServerEvent,
  type TypingOp,
} from '../../protocol/ws.js';
import type { Actor, Services } from '../services/index.js';
import { rawSocket } from './frames.js';
import type { Hub, HubConnection } from './hub.js';
import type { Presence } from './presence.js';
import { replay } from './resume.js';
import { decodeOp, refOf } from './ops.js';
import { isStoreUnavailable, storeUnavailableError } from '../store/unavailable.js';

const WINDOW_MS = 10_000;
const ABUSE_FACTOR = 5;
const MAX_INVALID = 20;
/** presence.query reads at most this many pages of 1,000 members. */
const PRESENCE_QUERY_PAGES = 5;
export const TYPING_EXPIRES_MS = 6000;
export const TYPING_THROTTLE_MS = 3000;

export interface ConnectionDeps {
  config: Config;
  hub: Hub;
  services: Services;
  broker: Broker;
  presence: Presence;
  logger: Logger;
  /** Shared per-node throttle: `${userId}|${channelId}` → last typing publish (ms). */
  typingSeen: Map<string, number>;
  onClosed(conn: Connection): void;
}

export class Connection implements HubConnection {
  readonly channels = new Set<string>();
  ready = false;
  away = false;
  missedPongs = 0;
  private preHello: (string | Buffer)[] = [];
  private preHelloBytes = 0;
  /** The bulk op (resume, presence.query) running, if any. */
  private bulk: string | undefined;
  /** Bytes of bulk replies queued since the last pace(). */
  private sincePace = 0;
  /** Client frames received before hello: handled once the subscriptions exist. */
  private inbox: [RawData, boolean][] | null = [];
  private inboxBytes = 0;
  private tokens: number;
  private last = Date.now();
  private windowStart = Date.now();
  private refused = 0;
  private invalid = 0;
  private rateErrorSent = false;
  private expiryTimer?: NodeJS.Timeout;
  private closedAlready = false;

  constructor(
    readonly id: string,
    readonly actor: Actor,
    readonly ws: WebSocket,
    private readonly d: ConnectionDeps,
    tokenExpiresAtMs: number | undefined,
  ) {
    this.tokens = 2 * d.config.wsFramesPerSec;
    ws.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    ws.on('pong', () => (this.missedPongs = 0));
    ws.on('close', () => this.onClose());
    ws.on('error', (err) => d.logger.debug({ err, connection: id }, 'websocket error'));
    if (tokenExpiresAtMs !== undefined) {
      const ms = Math.max(0, Math.min(tokenExpiresAtMs - Date.now(), 2 ** 31 - 1));
      this.expiryTimer = setTimeout(() => this.close(CloseCodes.TOKEN_EXPIRED, 'token expired'), ms).unref();
    }
  }

  get userId(): string {
    return this.actor.userId;
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /** Called by the hub's flush. Frames before hello are held so hello is always the first frame. */
  sendFrame(frame: string | Buffer, framed?: () => Buffer): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (!this.ready) {
      // Held until hello, bounded like the socket's own buffer (frames and bytes).
      this.preHello.push(frame);
      this.preHelloBytes += frame.length;
      if (this.preHello.length > 1000 || this.preHelloBytes > this.d.config.wsMaxBuffered) {
        this.preHello = [];
        slowConsumerCloses++;
        this.close(CloseCodes.RESUME, 'slow consumer: reconnect and resume');
      }
      return;
    }
    this.write(frame, framed);
  }

  private write(frame: string | Buffer, framed?: () => Buffer): void {
    if (this.ws.bufferedAmount + frame.length > this.d.config.wsMaxBuffered) {
      this.d.logger.info({ connection: this.id, buffered: this.ws.bufferedAmount }, 'slow consumer closed');
      slowConsumerCloses++;
      this.close(CloseCodes.RESUME, 'slow consumer: reconnect and resume');
      return;
    }
    // A frame shared by many recipients is encoded once and written as is (~20% less CPU per
    // send than ws.send measured here). Only when ws's sender is idle: without compression it
    // writes synchronously, so frames cannot interleave; otherwise fall back to ws.send.
    const raw = framed && rawSocket(this.ws);
    if (raw) raw.write(framed!());
    else this.ws.send(frame, { binary: false });
  }

  /** Sends hello (first frame), then anything that arrived while connecting. */
  hello(channels: { channelId: string; lastSeq: number }[], heartbeatMs: number): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ready = true;
    this.write(
      JSON.stringify([{ type: 'hello', userId: this.userId, connectionId: this.id, channels, heartbeatMs } satisfies ServerEvent]),
    );
    const held = this.preHello;
    this.preHello = [];
    this.preHelloBytes = 0;
    for (const f of held) this.write(f);
  }

  /** Handles the frames that arrived before hello (call after presence has counted this connection). */
  start(): void {
    const inbox = this.inbox ?? [];
    this.inbox = null;
    for (const [data, isBinary] of inbox) this.onFrame(data, isBinary);
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === this.ws.CLOSED || this.ws.readyState === this.ws.CLOSING) return;
    if (code !== CloseCodes.RESUME) this.d.hub.flushOwn(this);
    this.ws.close(code, reason);
    // A peer that does not read will not complete the closing handshake either.
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  /** Queues an own event; returns its bytes (0 when nothing was queued). Counts toward the current bulk piece. */
  private emit(e: ServerEvent): number {
    const n = this.d.hub.sendTo(this, e);
    this.sincePace += n;
    return n;
  }

  /** Largest piece of a bulk reply sent before waiting for the socket (1/8 of the bound, 8–256 KiB). */
  private get piece(): number {
    return Math.max(8 * 1024, Math.min(256 * 1024, this.d.config.wsMaxBuffered / 8));
  }

  /**
   * Between pieces of a bulk reply: once a piece is queued, sends it now and waits until the
   * socket's unsent bytes are under half of wsMaxBuffered. False once the connection is gone.
   */
  private async pace(): Promise<boolean> {
    if (this.sincePace < this.piece) return this.open;
    this.sincePace = 0;
    this.d.hub.flushOwn(this);
    const low = this.d.config.wsMaxBuffered / 2;
    while (this.open && this.ws.bufferedAmount > low) await new Promise((r) => setTimeout(r, 20));
    return this.open;
  }

  /** Runs a bulk op unless one is running on this connection (then OP_IN_PROGRESS). */
  private async oneBulk(op: string, ref: string | undefined, fn: () => Promise<void>): Promise<void> {
    if (this.bulk) return this.error('OP_IN_PROGRESS', `a ${this.bulk} is still running on this connection; send ${op} after it ends`, ref);
    this.bulk = op;
    this.sincePace = 0;
    try {
      await fn();
    } finally {
      this.bulk = undefined;
    }
  }

  /**
   * The answer for a channel op on a channel this connection is not subscribed to, the same as
   * HTTP's: NOT_FOUND when the caller cannot see the channel, NOT_A_MEMBER when it is visible
   * (public) but not joined, or joined but its subscription has not reached this connection yet.
   */
  private async refuseChannel(channelId: string, ref: string | undefined): Promise<void> {
    try {
      const { member } = await this.d.services.channels.visible(this.actor, channelId);
      if (member) this.error('NOT_A_MEMBER', 'not subscribed to this channel on this connection yet; wait for its subscription event', ref);
      else this.error('NOT_A_MEMBER', 'not a member of this channel', ref);
    } catch (err) {
      if (err instanceof AppError) this.error(err.code, err.message, ref);
      else throw err;
    }
  }

  private error(code: ErrorCode, message: string, ref?: string): void {
    this.emit(ref === undefined ? { type: 'error', code, message } : { type: 'error', code, message, ref });
  }

  private onClose(): void {
    if (this.closedAlready) return;
    this.closedAlready = true;
    clearTimeout(this.expiryTimer);
    this.d.onClosed(this);
  }

  // ---- inbound ------------------------------------------------------------------------------

  private allowFrame(): boolean {
    const now = Date.now();
    if (now - this.windowStart > WINDOW_MS) {
      this.windowStart = now;
      this.refused = 0;
      this.invalid = 0;
      this.rateErrorSent = false;
    }
    if (this.d.config.loadtestAllowance) return true;
    const rate = this.d.config.wsFramesPerSec;
    this.tokens = Math.min(2 * rate, this.tokens + ((now - this.last) / 1000) * rate);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.refused++;
    if (this.refused > ABUSE_FACTOR * rate) {
      this.close(CloseCodes.POLICY_VIOLATION, 'frame flood');
    } else if (!this.rateErrorSent) {
      this.rateErrorSent = true; // one error per window, so the answer cannot become a flood itself
      this.error('RATE_LIMITED', `more than ${rate} frames per second`);
    }
    return false;
  }

  private bad(code: ErrorCode, message: string, ref?: string): void {
    this.error(code, message, ref);
    if (++this.invalid > MAX_INVALID) this.close(CloseCodes.POLICY_VIOLATION, 'too many invalid frames');
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    // A socket the server has begun closing (revoked session, role change, slow consumer) acts on
    // nothing more: its actor may no longer hold the rights it had when it connected.
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.inbox) {
      // Held frames are bounded by count and by bytes (at most wsMaxBuffered per socket).
      this.inboxBytes += rawLength(data);
      if (this.inbox.length >= 100 || this.inboxBytes > this.d.config.wsMaxBuffered)
        this.close(CloseCodes.POLICY_VIOLATION, 'too many frames before hello');
      else this.inbox.push([data, isBinary]);
      return;
    }
    if (!this.allowFrame()) return;
    if (isBinary) return this.bad('INVALID_JSON', 'frames must be JSON text');
    let frame: unknown;
    try {
      frame = JSON.parse(data.toString());
    } catch {
      return this.bad('INVALID_JSON', 'frame is not valid JSON');
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame))
      return this.bad('VALIDATION_FAILED', 'frame must be a JSON object');
    const ref = refOf(frame as Record<string, unknown>);
    let op: ClientOp;
    try {
      op = decodeOp(frame as Record<string, unknown>);
    } catch (err) {
      if (err instanceof AppError) return this.bad(err.code, err.message, ref);
      throw err;
    }
    const done = (Connection.handlers[op.op] as OpHandler<OpName>)(this, op, ref);
    if (done) {
      done.catch((err: unknown) => {
        if (err instanceof AppError) this.error(err.code, err.message, ref);
        else if (isStoreUnavailable(err)) {
          const e = storeUnavailableError(err);
          this.d.logger.warn({ err, op: op.op, connection: this.id }, 'websocket op refused: store unavailable');
          this.error(e.code, e.message, ref);
        } else {
          this.d.logger.error({ err, op: op.op, connection: this.id }, 'websocket op failed');
          this.error('INTERNAL', 'internal error', ref);
        }
      });
    }
  }

  /**
   * One handler per client op of protocol/ws.ts (a missing one fails the type check), called with
   * the frame already validated and typed by ops.ts. A returned promise is the op's work: its
   * AppError is answered as an `error` event with the frame's ref, a store that cannot be used right
   * now (database down, disk full) as UNAVAILABLE, anything else as INTERNAL.
   */
  private static readonly handlers: { [K in OpName]: OpHandler<K> } = {
    send: (c, op) => c.opSend(op),
    typing: (c, op, ref) => c.opTyping(op, ref),
    read: (c, op) => c.d.services.channels.markRead(c.actor, op.channelId, op.seq).then(() => undefined),
    resume: (c, op, ref) => c.oneBulk('resume', ref, () => c.opResume(op)),
    // Only what the contract allows is echoed (a finite number or a short string, see PingOp).
    ping: (c, op) => void c.emit(op.t === undefined ? { type: 'pong' } : { type: 'pong', t: op.t }),
    presence: (c, op) => c.opPresence(op),
    'presence.query': (c, op, ref) => c.oneBulk('presence.query', ref, () => c.opPresenceQuery(op, ref)),
  };

  private async opSend(op: SendOp): Promise<void> {
    const { message } = await this.d.services.messages.send(this.actor, {
      channelId: op.channelId,
      text: op.text,
      clientMsgId: op.clientMsgId,
      parentId: op.parentId,
      fileIds: op.fileIds,
    });
    this.emit({ type: 'ack', clientMsgId: op.clientMsgId, id: message.id, seq: message.seq, channelId: message.channelId });
  }

  private async opTyping({ channelId }: TypingOp, ref: string | undefined): Promise<void> {
    if (!this.channels.has(channelId)) return this.refuseChannel(channelId, ref);
    const key = `${this.userId}|${channelId}`;
    const now = Date.now();
    const last = this.d.typingSeen.get(key);
    if (last !== undefined && now - last < TYPING_THROTTLE_MS) return; // throttled: silently coalesced
    this.d.typingSeen.set(key, now);
    this.d.broker.publish(channelTopic(channelId), { type: 'typing', channelId, userId: this.userId, expiresInMs: TYPING_EXPIRES_MS });
  }

  private async opResume({ positions }: ResumeOp): Promise<void> {
    const { wsResumeMaxBytes, wsMaxBuffered, wsResumeLimit } = this.d.config;
    const budget = { bytesLeft: Math.min(wsResumeMaxBytes, wsMaxBuffered / 2) };
    const sink = { emit: (e: ServerEvent) => this.emit(e), pace: () => this.pace() };
    for (const [channelId, seq] of Object.entries(positions)) {
      if (!this.channels.has(channelId)) await this.refuseChannel(channelId, channelId);
      // Budget spent before this channel's turn: nothing replayed, resume again from where it was.
      else if (budget.bytesLeft <= 0) this.emit({ type: 'resumed', channelId, limited: true, cursor: seq });
      else {
        try {
          if (!(await replay(this.d.services, this.actor, channelId, seq, wsResumeLimit, budget, sink)).open) return;
        } catch (err) {
          if (err instanceof AppError) this.error(err.code, err.message, channelId);
          else throw err;
        }
      }
      if (!(await this.pace())) return;
    }
  }

  /** Current presence of a channel's members (those not offline), for a client opening the channel. */
  private async opPresenceQuery({ channelId }: PresenceQueryOp, ref: string | undefined): Promise<void> {
    if (!this.channels.has(channelId)) return this.refuseChannel(channelId, ref);
    let after: string | undefined;
    for (let page = 0; page < PRESENCE_QUERY_PAGES; page++) {
      const members = await this.d.services.channels.members(this.actor, channelId, 1000, after);
      for (const m of members) {
        const status = this.d.presence.status(m.userId);
        if (status !== 'offline') this.emit({ type: 'presence', userId: m.userId, status });
      }
      if (!(await this.pace())) return;
      if (members.length < 1000) return;
      after = members[members.length - 1].userId;
    }
  }

  private opPresence({ status }: PresenceOp): void {
    const away = status === 'away';
    if (away === this.away) return;
    this.away = away;
    this.d.presence.setAway(this.userId, away);
  }
}

/** Handles one validated op of type K (see Connection.handlers). */
type OpHandler<K extends OpName> = (c: Connection, op: ClientOpOf<K>, ref: string | undefined) => void | Promise<void>;

export let slowConsumerCloses = 0;

/** Bytes of a received frame as ws hands it over (Buffer, fragments, or ArrayBuffer). */
function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}
