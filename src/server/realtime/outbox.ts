// The per-tick outbox: everything the hub routes to local connections in one event-loop turn
// leaves in one setImmediate flush, as ONE frame (a JSON array) per connection.
//
// Fan-out cost contract (the hot path; bench:fanout measures it):
// - Each channel's (and each user's) event list of the tick is serialized once, and the same
//   Buffer, encoded once as a WebSocket frame (frames.ts), is written to every local recipient
//   whose frame holds nothing else. A connection with several sources in one tick gets the pieces
//   spliced into one array. Sending per event per socket cost ~20× more CPU (measured while choosing dependencies: shared/design/stack.md).
// - Within a frame a connection's own events (ack, error, replay, resumed, pong, subscription)
//   come first, so an `ack` precedes the `message.created` it acknowledges when both leave in the
//   same tick.
// - Presence events are queued per subject with the set of recipients, so a recipient who shares
//   several channels with the subject gets one copy per tick.
// - Steps queued with afterFlush run once the tick's frames are written (the hub defers
//   unsubscribes so, e.g., a `member.left` published just before still reaches the leaver).
//
// Nothing in the flush may take the process down (it runs in setImmediate, outside any request's
// error handling):
// - A connection's own events are serialized once, when queued (sendTo), and kept as JSON text
//   with their byte count. An event that cannot be serialized closes THAT connection with 1011
//   (logged, counted in serializeFailures). More than `maxQueuedBytes` of own events not yet
//   flushed closes the connection with 4008 before any frame is built (queuedBytesCloses).
// - If a channel's or user's event list cannot be serialized, each event is serialized alone and
//   the ones that fail are dropped (logged, counted): every recipient still gets the rest, nobody
//   is closed for an event that is not theirs, and message events carry seq, so a client that
//   misses one sees the gap and resumes (the store holds the message).
// - Building or writing one connection's frame is guarded; a failure closes that connection (1011).
//
// The per-connection state (own events queued, the tick's pieces) lives in this module's maps,
// not on the connection object.
import type { Logger } from 'pino';
import type { BrokerEvent } from '../broker/broker.js';
import { CloseCodes, type ServerEvent } from '../../protocol/events.js';
import { encodeTextFrame, encodeTextFrameOf } from './frames.js';

/** What the outbox needs of a connection (the hub's HubConnection extends it; connection.ts implements it). */
export interface OutboxConnection {
  readonly id: string;
  /** False once the socket is closing or closed: nothing more is queued for it. */
  readonly open: boolean;
  /**
   * Writes one frame (JSON array text), applying the slow-consumer bound. `framed`, when given,
   * is the same frame already encoded as a WebSocket text frame, shared by every recipient.
   */
  sendFrame(frame: string | Buffer, framed?: () => Buffer): void;
  close(code: number, reason: string): void;
}

type PresenceEvent = Extract<BrokerEvent, { type: 'presence' }>;

/** One piece of a tick's frame: a JSON array text, shared by every recipient of the same source. */
interface Chunk {
  json: string;
  buf?: Buffer;
  /** The complete WebSocket frame (header + payload), built once and written to every recipient. */
  framed?: Buffer;
  /** Returns `framed` (built on first call): one function per chunk, not one closure per recipient. */
  frame?: () => Buffer;
  /** A connection's own events: never shared, so framed for that connection alone. */
  own?: true;
}

/** Own events (JSON text each) queued for one connection, with their UTF-8 bytes. */
interface OwnQueue {
  json: string[];
  bytes: number;
}

/** Who receives a channel's or a user's events at flush time (the hub's subscriptions). */
export interface Recipients {
  ofChannel(channelId: string): ReadonlySet<OutboxConnection> | undefined;
  ofUser(userId: string): ReadonlySet<OutboxConnection> | undefined;
}

export class Outbox {
  /** Connections with own events queued, in the order they were first queued this tick. */
  private readonly own = new Map<OutboxConnection, OwnQueue>();
  private readonly channelEvents = new Map<string, BrokerEvent[]>();
  private readonly userEvents = new Map<string, BrokerEvent[]>();
  /** Presence events per subject this tick, with the set of local recipients (deduplicated across shared channels). */
  private readonly presence = new Map<string, { event: PresenceEvent; to: Set<OutboxConnection> }>();
  private after: (() => void)[] = [];
  private scheduled = false;
  readonly counters = { frames: 0, events: 0, bytes: 0, serializeFailures: 0, queuedBytesCloses: 0 };

  constructor(
    private readonly recipients: Recipients,
    private readonly logger: Logger,
    /** Own events (replies) not yet flushed beyond which a connection is closed with 4008. */
    private readonly maxQueuedBytes: number,
  ) {}

  /**
   * Queues an event for one connection only (ack, error, replayed message, resumed, pong,
   * subscription). Returns the bytes queued, 0 when nothing was (connection closing or closed,
   * event not serializable, or the queued-bytes cap reached: see the header).
   */
  sendTo(conn: OutboxConnection, event: ServerEvent): number {
    if (!conn.open) return 0;
    let json: string;
    try {
      json = JSON.stringify(event);
    } catch (err) {
      this.counters.serializeFailures++;
      this.logger.error({ err, connection: conn.id, type: event.type }, 'event not serializable: connection closed');
      conn.close(CloseCodes.INTERNAL_ERROR, 'internal error');
      return 0;
    }
    const bytes = Buffer.byteLength(json);
    const queued = this.own.get(conn)?.bytes ?? 0;
    if (queued + bytes > this.maxQueuedBytes) {
      this.counters.queuedBytesCloses++;
      this.logger.info({ connection: conn.id, queued, bytes }, 'queued replies over the bound: closed');
      this.own.delete(conn);
      conn.close(CloseCodes.RESUME, 'slow consumer: reconnect and resume');
      return 0;
    }
    const q = this.own.get(conn);
    if (q) {
      q.json.push(json);
      q.bytes += bytes;
    } else this.own.set(conn, { json: [json], bytes });
    this.schedule();
    return bytes;
  }

  /** Sends this connection's queued own events now (before a close so the error that explains it arrives; between resume pages). */
  flushOwn(conn: OutboxConnection): void {
    const q = this.own.get(conn);
    if (!q) return;
    this.own.delete(conn);
    try {
      conn.sendFrame('[' + q.json.join(',') + ']');
    } catch (err) {
      this.logger.warn({ err, connection: conn.id }, 'send failed');
    }
  }

  /** Drops whatever is queued for a closed connection. */
  forget(conn: OutboxConnection): void {
    this.own.delete(conn);
  }

  /** Queues an event for every local subscriber of the channel at flush time. */
  toChannel(channelId: string, e: BrokerEvent): void {
    const list = this.channelEvents.get(channelId);
    if (list) list.push(e);
    else this.channelEvents.set(channelId, [e]);
    this.schedule();
  }

  /** Queues an event for every local connection of the user at flush time. */
  toUser(userId: string, e: BrokerEvent): void {
    const list = this.userEvents.get(userId);
    if (list) list.push(e);
    else this.userEvents.set(userId, [e]);
    this.schedule();
  }

  /** Queues a presence event for these connections; the latest status of the subject this tick wins, one copy per recipient. */
  toPresence(e: PresenceEvent, to: Iterable<OutboxConnection>): void {
    let p = this.presence.get(e.userId);
    if (!p || p.event.status !== e.status) this.presence.set(e.userId, (p = { event: e, to: new Set() }));
    for (const c of to) p.to.add(c);
    this.schedule();
  }

  /** Runs `fn` once this tick's frames are written. */
  afterFlush(fn: () => void): void {
    this.after.push(fn);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  /**
   * One shared chunk for a list of events (serialized once for every recipient). When the list
   * cannot be serialized, each event alone; the ones that fail are dropped, logged and counted.
   */
  private chunkOf(events: BrokerEvent[], topic: string): Chunk | undefined {
    try {
      return { json: JSON.stringify(events) };
    } catch {
      const ok: string[] = [];
      for (const e of events) {
        try {
          ok.push(JSON.stringify(e));
        } catch (err) {
          this.counters.serializeFailures++;
          this.logger.error({ err, topic, type: e.type }, 'event not serializable: dropped for every recipient');
        }
      }
      return ok.length ? { json: '[' + ok.join(',') + ']' } : undefined;
    }
  }

  /** Sends everything queued: one frame per connection. Also called directly by drain. */
  readonly flush = (): void => {
    this.scheduled = false;
    // The tick's pieces per connection: one Chunk (the common case: a shared frame as is) or
    // several to splice. Insertion order = own events first, then users, channels, presence.
    const tick = new Map<OutboxConnection, Chunk | Chunk[]>();
    const add = (c: OutboxConnection, chunk: Chunk) => {
      const t = tick.get(c);
      if (t === undefined) tick.set(c, chunk);
      else if (Array.isArray(t)) t.push(chunk);
      else tick.set(c, [t, chunk]);
    };
    for (const [c, q] of this.own) add(c, { json: '[' + q.json.join(',') + ']', own: true });
    this.own.clear();
    for (const [userId, events] of this.userEvents) this.fanOut(events, userId, this.recipients.ofUser(userId), add);
    this.userEvents.clear();
    for (const [channelId, events] of this.channelEvents) this.fanOut(events, channelId, this.recipients.ofChannel(channelId), add);
    this.channelEvents.clear();
    for (const { event, to } of this.presence.values()) this.fanOut([event], 'presence', to, add);
    this.presence.clear();
    tick.forEach((t, c) => this.write(c, t)); // forEach: no [key, value] array per recipient
    const after = this.after;
    this.after = [];
    for (const fn of after) {
      try {
        fn();
      } catch (err) {
        this.logger.error({ err }, 'after-flush step failed');
      }
    }
  };

  private fanOut(
    events: BrokerEvent[],
    topic: string,
    to: ReadonlySet<OutboxConnection> | undefined,
    add: (c: OutboxConnection, chunk: Chunk) => void,
  ): void {
    if (!to) return;
    const chunk = this.chunkOf(events, topic);
    if (!chunk) return;
    this.counters.events += events.length * to.size;
    for (const c of to) add(c, chunk);
  }

  /** Writes one connection's frame for this tick; a failure closes only that connection (1011). */
  private write(c: OutboxConnection, t: Chunk | Chunk[]): void {
    try {
      let frame: Buffer;
      let framed: () => Buffer;
      if (!Array.isArray(t) && t.own !== true) {
        // A shared chunk: the same bytes, framed once, for every recipient whose frame holds nothing else.
        const chunk = t;
        frame = chunk.buf ??= Buffer.from(chunk.json);
        framed = chunk.frame ??= () => (chunk.framed ??= encodeTextFrame(chunk.buf!));
      } else {
        // This connection's own frame (its own events, or pieces spliced into one array): encoded
        // straight into a WebSocket frame, so it too can take the raw write instead of ws.send.
        const text = Array.isArray(t) ? '[' + t.map((x) => x.json.slice(1, -1)).join(',') + ']' : t.json;
        const built = encodeTextFrameOf(text);
        frame = built.payload;
        framed = () => built.framed;
      }
      this.counters.frames++;
      this.counters.bytes += frame.length;
      c.sendFrame(frame, framed);
    } catch (err) {
      this.counters.serializeFailures++;
      this.logger.error({ err, connection: c.id }, 'frame could not be built or sent: connection closed');
      try {
        c.close(CloseCodes.INTERNAL_ERROR, 'internal error');
      } catch {
        // already gone
      }
    }
  }
}
