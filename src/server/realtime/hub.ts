// The hub: which local connection listens to which topic, and the per-tick outbox.
//
// Fan-out contract:
// - One broker subscription per topic per node (refcounted over local connections): `ch:<id>`
//   while any local connection is in the channel, `u:<id>` while any connection of the user is here.
// - Events are not sent as they arrive. Every event of one event-loop turn is queued, and one
//   setImmediate flush sends each connection ONE frame (a JSON array). Each channel's (and each
//   user's) event list is serialized once per tick and the same Buffer is handed to every local
//   recipient; a connection with several sources in one tick gets the pieces spliced into one
//   array. Sending per event per socket cost ~20× more CPU (stack.md).
// - Within a frame a connection's own events (ack, error, replay, resumed, pong) come first, so an
//   `ack` precedes the `message.created` it acknowledges when both leave in the same tick.
// - `subscription` events (user topic) move every local connection of that user at once, on every
//   node (each node hears `u:<id>`). They are also forwarded to the client so it can update its
//   channel list. Unsubscribes take effect after the tick's flush, so a `member.left` published
//   just before still reaches the leaver.
// - Redis is a hint: per channel the hub remembers the highest `message.created` seq it delivered.
//   A seq jump, a new subscription, or a broker gap (onGap) triggers a re-read from the store
//   through services.messages.history; duplicates are allowed (same seq, clients drop them).
//
// Nothing in the flush may take the process down (it runs in setImmediate, outside any request's
// error handling):
// - A connection's own events are serialized once, when queued (sendTo), and kept as JSON text
//   with their byte count. An event that cannot be serialized closes THAT connection with 1011
//   (logged, counted in serializeFailures). More than `maxQueuedBytes` of own events not yet
//   flushed closes the connection with 4008 before any frame is built (queuedBytesCloses).
// - A channel's or user's event list is serialized once per tick, as before (no extra cost on the
//   broadcast path). If that throws, each event is serialized alone and the ones that fail are
//   dropped (logged, counted): every recipient still gets the rest, nobody is closed for an event
//   that is not theirs, and message events carry seq, so a client that misses one sees the gap
//   and resumes (the store holds the message).
// - Building or writing one connection's frame is guarded; a failure closes that connection (1011).
// - A repair queues at most about maxQueuedBytes / 4 before letting the flush send it (repair.ts).
import type { Logger } from 'pino';
import type { Broker, BrokerEvent } from '../broker/broker.js';
import { channelTopic, userTopic } from '../broker/broker.js';
import { CloseCodes, type ServerEvent } from '../../protocol/events.js';
import type { Actor, Services } from '../services/index.js';
import { encodeTextFrame } from './frames.js';
import { reconcileUsers, repairFromStore } from './repair.js';

export { encodeTextFrame };

/** What the hub needs of a connection (connection.ts implements it). */
export interface HubConnection {
  readonly id: string;
  readonly actor: Actor;
  /** Channels this connection is subscribed to. Owned by the hub. */
  readonly channels: Set<string>;
  /**
   * Writes one frame (JSON array text), applying the slow-consumer bound. `framed`, when given,
   * is the same frame already encoded as a WebSocket text frame, shared by every recipient.
   */
  sendFrame(frame: string | Buffer, framed?: () => Buffer): void;
  /** False once the socket is closing or closed: nothing more is queued for it. */
  readonly open: boolean;
  close(code: number, reason: string): void;
  /** @internal per-tick outbox state, owned by the hub. */
  _tick: Chunk[] | null;
  /** @internal events addressed to this connection only (JSON text each), queued for the next flush. */
  _own: string[];
  /** @internal UTF-8 bytes in _own. */
  _ownBytes: number;
}

interface Chunk {
  /** JSON array text. */
  json: string;
  buf?: Buffer;
  /** The complete WebSocket frame (header + payload), built once and written to every recipient. */
  framed?: Buffer;
}

interface ChannelSub {
  conns: Set<HubConnection>;
  off: () => void;
  /** Highest message seq this node delivered or knows the client was told about (hello/subscription). */
  lastSeq: number;
  repairing: boolean;
  repairAgain: boolean;
}

const REPAIR_DELAY_MS = 100;

export class Hub {
  private readonly channelSubs = new Map<string, ChannelSub>();
  private readonly userSubs = new Map<string, { conns: Set<HubConnection>; off: () => void }>();
  private readonly pendingChannel = new Map<string, BrokerEvent[]>();
  private readonly pendingUser = new Map<string, BrokerEvent[]>();
  private readonly pendingOwn = new Set<HubConnection>();
  /** Presence events per subject this tick, with the set of local recipients (deduplicated across shared channels). */
  private readonly pendingPresence = new Map<string, { event: BrokerEvent; to: Set<HubConnection> }>();
  private afterFlush: (() => void)[] = [];
  /** Latest `subscription` state per `${userId}|${channelId}` while an unsubscribe waits for the flush. */
  private readonly wanted = new Map<string, boolean>();
  private scheduled = false;
  readonly counters = { frames: 0, events: 0, bytes: 0, repairs: 0, repairedMessages: 0, serializeFailures: 0, queuedBytesCloses: 0 };

  constructor(
    private readonly broker: Broker,
    private readonly services: Services,
    private readonly logger: Logger,
    /** Own events (replies) not yet flushed beyond which a connection is closed with 4008. */
    private readonly maxQueuedBytes: number,
  ) {
    broker.onGap(() => this.onGap());
  }

  get channelCount(): number {
    return this.channelSubs.size;
  }

  // ---- subscriptions ------------------------------------------------------------------------

  addUser(conn: HubConnection): void {
    const userId = conn.actor.userId;
    let s = this.userSubs.get(userId);
    if (!s) {
      const conns = new Set<HubConnection>();
      s = { conns, off: this.broker.subscribe(userTopic(userId), (e) => this.onUserEvent(userId, e)) };
      this.userSubs.set(userId, s);
    }
    s.conns.add(conn);
  }

  /** Subscribes the connection to a channel; `knownSeq` is a seq the client is (or will be) told about. */
  subscribe(conn: HubConnection, channelId: string, knownSeq: number): void {
    let s = this.channelSubs.get(channelId);
    if (!s) {
      s = { conns: new Set(), off: () => {}, lastSeq: knownSeq, repairing: false, repairAgain: false };
      const sub = s;
      s.off = this.broker.subscribe(channelTopic(channelId), (e) => this.onChannelEvent(channelId, sub, e));
      this.channelSubs.set(channelId, s);
    } else if (knownSeq > s.lastSeq) s.lastSeq = knownSeq;
    s.conns.add(conn);
    conn.channels.add(channelId);
  }

  unsubscribe(conn: HubConnection, channelId: string): void {
    conn.channels.delete(channelId);
    const s = this.channelSubs.get(channelId);
    if (!s || !s.conns.delete(conn) || s.conns.size) return;
    s.off();
    this.channelSubs.delete(channelId);
  }

  /** Drops every subscription of a closed connection. */
  remove(conn: HubConnection): void {
    for (const ch of [...conn.channels]) this.unsubscribe(conn, ch);
    this.pendingOwn.delete(conn);
    const userId = conn.actor.userId;
    const s = this.userSubs.get(userId);
    if (s && s.conns.delete(conn) && s.conns.size === 0) {
      s.off();
      this.userSubs.delete(userId);
    }
  }

  /** How many connections the user has on this node. */
  connectionCount(userId: string): number {
    return this.userSubs.get(userId)?.conns.size ?? 0;
  }

  /** Every local connection of a user (for presence and reconciliation). */
  connectionsOf(userId: string): Iterable<HubConnection> {
    return this.userSubs.get(userId)?.conns ?? [];
  }

  /** Resolves when the broker has made every subscription issued so far effective. */
  async subscriptionsActive(): Promise<void> {
    await this.broker.whenSubscribed?.();
  }

  // ---- outbox -------------------------------------------------------------------------------

  /**
   * Queues an event for one connection only (ack, error, replayed message, resumed, pong,
   * subscription). Returns the bytes queued, 0 when nothing was (connection closing or closed,
   * event not serializable, or the queued-bytes cap reached: see the header).
   */
  sendTo(conn: HubConnection, event: ServerEvent): number {
    if (!conn.open) return 0;
    let json: string;
    try {
      json = JSON.stringify(event);
    } catch (err) {
      this.serializeFailed(conn, err, event.type);
      return 0;
    }
    const bytes = Buffer.byteLength(json);
    if (conn._ownBytes + bytes > this.maxQueuedBytes) {
      this.counters.queuedBytesCloses++;
      this.logger.info({ connection: conn.id, queued: conn._ownBytes, bytes }, 'queued replies over the bound: closed');
      this.dropOwn(conn);
      conn.close(CloseCodes.RESUME, 'slow consumer: reconnect and resume');
      return 0;
    }
    conn._own.push(json);
    conn._ownBytes += bytes;
    this.pendingOwn.add(conn);
    this.schedule();
    return bytes;
  }

  /** Sends this connection's queued own events now (before a close so the error that explains it arrives; between resume pages). */
  flushOwn(conn: HubConnection): void {
    if (!conn._own.length) return;
    const json = '[' + conn._own.join(',') + ']';
    this.dropOwn(conn);
    try {
      conn.sendFrame(json);
    } catch (err) {
      this.logger.warn({ err, connection: conn.id }, 'send failed');
    }
  }

  private dropOwn(conn: HubConnection): void {
    conn._own = [];
    conn._ownBytes = 0;
    this.pendingOwn.delete(conn);
  }

  /** An event for this connection could not be serialized: what was queued before it goes out, then 1011. */
  private serializeFailed(conn: HubConnection, err: unknown, type: string): void {
    this.counters.serializeFailures++;
    this.logger.error({ err, connection: conn.id, type }, 'event not serializable: connection closed');
    conn.close(CloseCodes.INTERNAL_ERROR, 'internal error');
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

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  /** Sends everything queued: one frame per connection. Also called directly by drain. */
  readonly flush = (): void => {
    this.scheduled = false;
    const touched: HubConnection[] = [];
    const add = (c: HubConnection, chunk: Chunk) => {
      if (c._tick === null) {
        c._tick = [];
        touched.push(c);
      }
      c._tick.push(chunk);
    };
    // Own events first (see the ordering contract above).
    for (const c of this.pendingOwn) {
      if (!c._own.length) continue;
      add(c, { json: '[' + c._own.join(',') + ']' });
      c._own = [];
      c._ownBytes = 0;
    }
    this.pendingOwn.clear();
    for (const [userId, events] of this.pendingUser) {
      const s = this.userSubs.get(userId);
      if (!s) continue;
      const chunk = this.chunkOf(events, userId);
      if (!chunk) continue;
      this.counters.events += events.length * s.conns.size;
      for (const c of s.conns) add(c, chunk);
    }
    this.pendingUser.clear();
    for (const [channelId, events] of this.pendingChannel) {
      const s = this.channelSubs.get(channelId);
      if (!s) continue;
      const chunk = this.chunkOf(events, channelId);
      if (!chunk) continue;
      this.counters.events += events.length * s.conns.size;
      for (const c of s.conns) add(c, chunk);
    }
    this.pendingChannel.clear();
    for (const { event, to } of this.pendingPresence.values()) {
      const chunk = this.chunkOf([event], 'presence');
      if (!chunk) continue;
      this.counters.events += to.size;
      for (const c of to) add(c, chunk);
    }
    this.pendingPresence.clear();
    for (const c of touched) {
      const t = c._tick!;
      c._tick = null;
      try {
        let frame: string | Buffer;
        let framed: (() => Buffer) | undefined;
        if (t.length === 1) {
          const chunk = t[0];
          frame = chunk.buf ??= Buffer.from(chunk.json);
          framed = () => (chunk.framed ??= encodeTextFrame(chunk.buf!));
        } else frame = '[' + t.map((x) => x.json.slice(1, -1)).join(',') + ']';
        this.counters.frames++;
        this.counters.bytes += frame.length;
        c.sendFrame(frame, framed);
      } catch (err) {
        // Splicing or writing this one connection's frame failed: only it is closed.
        this.counters.serializeFailures++;
        this.logger.error({ err, connection: c.id }, 'frame could not be built or sent: connection closed');
        try {
          c.close(CloseCodes.INTERNAL_ERROR, 'internal error');
        } catch {
          // already gone
        }
      }
    }
    const after = this.afterFlush;
    this.afterFlush = [];
    for (const fn of after) {
      try {
        fn();
      } catch (err) {
        this.logger.error({ err }, 'after-flush step failed');
      }
    }
  };

  // ---- broker events ------------------------------------------------------------------------

  private onChannelEvent(channelId: string, s: ChannelSub, e: BrokerEvent): void {
    if (e.type === 'presence') {
      // Presence goes out on the subject's channel topics; a recipient sharing several channels
      // with the subject still gets it once per tick.
      let p = this.pendingPresence.get(e.userId);
      if (!p || (p.event as { status: string }).status !== e.status) this.pendingPresence.set(e.userId, (p = { event: e, to: new Set() }));
      for (const c of s.conns) p.to.add(c);
      this.schedule();
      return;
    }
    if (e.type === 'message.created') {
      if (e.seq > s.lastSeq + 1) this.scheduleRepair(channelId, REPAIR_DELAY_MS);
      if (e.seq > s.lastSeq) s.lastSeq = e.seq;
    }
    this.queueChannel(channelId, e);
  }

  private queueChannel(channelId: string, e: BrokerEvent): void {
    const list = this.pendingChannel.get(channelId);
    if (list) list.push(e);
    else this.pendingChannel.set(channelId, [e]);
    this.schedule();
  }

  private onUserEvent(userId: string, e: BrokerEvent): void {
    if (e.type === 'subscription') this.applySubscription(userId, e.channelId, e.subscribed, e.lastSeq);
    const list = this.pendingUser.get(userId);
    if (list) list.push(e);
    else this.pendingUser.set(userId, [e]);
    this.schedule();
  }

  private applySubscription(userId: string, channelId: string, subscribed: boolean, lastSeq: number): void {
    const conns = [...this.connectionsOf(userId)];
    if (!conns.length) return;
    const key = `${userId}|${channelId}`;
    if (this.wanted.has(key)) this.wanted.set(key, subscribed);
    if (subscribed) {
      const fresh = !this.channelSubs.has(channelId);
      for (const c of conns) this.subscribe(c, channelId, lastSeq);
      // Messages sent between the membership commit and this subscribe (Redis SUBSCRIBE is a
      // round trip) are read back from the store once the subscription is live.
      if (fresh) void this.subscriptionsActive().then(() => this.scheduleRepair(channelId, 0, lastSeq));
    } else {
      this.wanted.set(key, false);
      this.afterFlush.push(() => {
        // A re-join in the same tick wins over the leave.
        const still = this.wanted.get(key) === false;
        this.wanted.delete(key);
        if (still) for (const c of this.connectionsOf(userId)) this.unsubscribe(c, channelId);
      });
      this.schedule();
    }
  }

  // ---- repair from the store ----------------------------------------------------------------

  private onGap(): void {
    this.logger.info({ channels: this.channelSubs.size, users: this.userSubs.size }, 'broker gap: repairing from the store');
    for (const channelId of this.channelSubs.keys()) this.scheduleRepair(channelId, 0);
    void reconcileUsers(this, this.services, this.logger, [...this.userSubs.keys()]);
  }

  /**
   * Re-reads messages after the channel's last known seq and delivers them to every local
   * subscriber as `message.created` (duplicates allowed). One repair per channel at a time; a
   * request during a repair runs it once more afterwards.
   */
  scheduleRepair(channelId: string, delayMs: number, fromSeq?: number): void {
    const s = this.channelSubs.get(channelId);
    if (!s) return;
    if (s.repairing) {
      s.repairAgain = true;
      return;
    }
    s.repairing = true;
    const start = fromSeq ?? s.lastSeq;
    setTimeout(() => {
      this.repair(channelId, s, start)
        .catch((err: unknown) => this.logger.warn({ err, channelId }, 'repair from the store failed'))
        .finally(() => {
          s.repairing = false;
          if (s.repairAgain) {
            s.repairAgain = false;
            this.scheduleRepair(channelId, REPAIR_DELAY_MS);
          }
        });
    }, delayMs).unref();
  }

  private async repair(channelId: string, s: ChannelSub, after: number): Promise<void> {
    this.counters.repairs++;
    const current = () => (this.channelSubs.get(channelId) === s ? s.conns.values().next().value : undefined);
    this.counters.repairedMessages += await repairFromStore(this.services, channelId, after, this.maxQueuedBytes / 4, current, (m) => {
      this.queueChannel(channelId, { type: 'message.created', channelId, seq: m.seq, message: m });
      if (m.seq > s.lastSeq) s.lastSeq = m.seq;
    });
  }
}
