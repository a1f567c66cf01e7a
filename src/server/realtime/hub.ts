// The hub: which local connection listens to which topic, and where each broker event goes.
// It routes; the per-tick outbox (outbox.ts) batches and writes; repair.ts reads back from the store.
//
// Contract:
// - One broker subscription per topic per node (refcounted over local connections): `ch:<id>`
//   while any local connection is in the channel, `u:<id>` while any connection of the user is here.
// - Channel events go to the channel's local subscribers, user events to the user's local
//   connections, presence events (published on each of the subject's channel topics) once per
//   recipient per tick; all through the outbox, which sends each connection ONE frame per tick
//   (see outbox.ts for the cost and ordering contract).
// - `subscription` events (user topic) move every local connection of that user at once, on every
//   node (each node hears `u:<id>`). They are also forwarded to the client so it can update its
//   channel list. Unsubscribes take effect after the tick's flush, so a `member.left` published
//   just before still reaches the leaver.
// - Redis is a hint: per channel the hub remembers the highest `message.created` seq it delivered.
//   A seq jump, a new subscription, or a broker gap (onGap) triggers a re-read from the store
//   through services.messages.history (repair.ts); duplicates are allowed (same seq, clients drop
//   them). A repair queues at most about maxQueuedBytes / 4 before letting the flush send it.
import type { Logger } from 'pino';
import type { Broker, BrokerEvent } from '../broker/broker.js';
import { channelTopic, userTopic } from '../broker/broker.js';
import type { ServerEvent } from '../../protocol/events.js';
import type { Actor, Services } from '../services/index.js';
import { Outbox, type OutboxConnection } from './outbox.js';
import { reconcileUsers, repairFromStore } from './repair.js';

/** What the hub needs of a connection (connection.ts implements it). */
export interface HubConnection extends OutboxConnection {
  readonly actor: Actor;
  /** Channels this connection is subscribed to. Owned by the hub. */
  readonly channels: Set<string>;
}

interface ChannelSub {
  conns: Set<HubConnection>;
  off: () => void;
  /** Highest message seq this node delivered or knows the client was told about (hello/subscription). */
  lastSeq: number;
  repairing: boolean;
  /**
   * While a repair is scheduled or running: the lowest seq a later request asked to read after,
   * read once more when it ends. The lowest, not lastSeq then: by the time the repair ends,
   * lastSeq has moved past the later gap, and reading after it would leave that gap unfilled.
   */
  againFrom: number | undefined;
}

const REPAIR_DELAY_MS = 100;

export class Hub {
  private readonly channelSubs = new Map<string, ChannelSub>();
  private readonly userSubs = new Map<string, { conns: Set<HubConnection>; off: () => void }>();
  /** Latest `subscription` state per `${userId}|${channelId}` while an unsubscribe waits for the flush. */
  private readonly wanted = new Map<string, boolean>();
  readonly outbox: Outbox;
  readonly counters = { repairs: 0, repairedMessages: 0 };

  constructor(
    private readonly broker: Broker,
    private readonly services: Services,
    private readonly logger: Logger,
    /** Own events (replies) not yet flushed beyond which a connection is closed with 4008. */
    private readonly maxQueuedBytes: number,
  ) {
    this.outbox = new Outbox(
      { ofChannel: (id) => this.channelSubs.get(id)?.conns, ofUser: (id) => this.userSubs.get(id)?.conns },
      logger,
      maxQueuedBytes,
    );
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
      s = { conns: new Set(), off: () => {}, lastSeq: knownSeq, repairing: false, againFrom: undefined };
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
    if (!s?.conns.delete(conn) || s.conns.size) return;
    s.off();
    this.channelSubs.delete(channelId);
  }

  /** Drops every subscription of a closed connection. */
  remove(conn: HubConnection): void {
    for (const ch of [...conn.channels]) this.unsubscribe(conn, ch);
    this.outbox.forget(conn);
    const userId = conn.actor.userId;
    const s = this.userSubs.get(userId);
    if (s?.conns.delete(conn) && s.conns.size === 0) {
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

  /** Queues an event for this connection only (see Outbox.sendTo); returns the bytes queued. */
  sendTo(conn: HubConnection, event: ServerEvent): number {
    return this.outbox.sendTo(conn, event);
  }

  /** Sends this connection's queued own events now (see Outbox.flushOwn). */
  flushOwn(conn: HubConnection): void {
    this.outbox.flushOwn(conn);
  }

  /** Sends everything queued (drain). */
  flush(): void {
    this.outbox.flush();
  }

  // ---- broker events ------------------------------------------------------------------------

  private onChannelEvent(channelId: string, s: ChannelSub, e: BrokerEvent): void {
    if (e.type === 'presence') {
      // Presence goes out on the subject's channel topics; a recipient sharing several channels
      // with the subject still gets it once per tick.
      this.outbox.toPresence(e, s.conns);
      return;
    }
    if (e.type === 'message.created') {
      if (e.seq > s.lastSeq + 1) this.scheduleRepair(channelId, REPAIR_DELAY_MS);
      if (e.seq > s.lastSeq) s.lastSeq = e.seq;
    }
    this.outbox.toChannel(channelId, e);
  }

  private onUserEvent(userId: string, e: BrokerEvent): void {
    if (e.type === 'subscription') this.applySubscription(userId, e.channelId, e.subscribed, e.lastSeq);
    this.outbox.toUser(userId, e);
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
      this.outbox.afterFlush(() => {
        // A re-join in the same tick wins over the leave.
        const still = this.wanted.get(key) === false;
        this.wanted.delete(key);
        if (still) for (const c of this.connectionsOf(userId)) this.unsubscribe(c, channelId);
      });
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
   * subscriber as `message.created` (duplicates allowed). `fromSeq` defaults to the channel's
   * lastSeq now (callers ask before they move it). One repair per channel at a time; requests
   * during one run once more afterwards, from the lowest seq they asked for.
   */
  scheduleRepair(channelId: string, delayMs: number, fromSeq?: number): void {
    const s = this.channelSubs.get(channelId);
    if (!s) return;
    const start = fromSeq ?? s.lastSeq;
    if (s.repairing) {
      s.againFrom = Math.min(s.againFrom ?? start, start);
      return;
    }
    s.repairing = true;
    setTimeout(() => {
      this.repair(channelId, s, start)
        .catch((err: unknown) => this.logger.warn({ err, channelId }, 'repair from the store failed'))
        .finally(() => {
          s.repairing = false;
          const again = s.againFrom;
          if (again !== undefined) {
            s.againFrom = undefined;
            this.scheduleRepair(channelId, REPAIR_DELAY_MS, again);
          }
        });
    }, delayMs).unref();
  }

  private async repair(channelId: string, s: ChannelSub, after: number): Promise<void> {
    this.counters.repairs++;
    const current = () => (this.channelSubs.get(channelId) === s ? s.conns.values().next().value : undefined);
    this.counters.repairedMessages += await repairFromStore(this.services, channelId, after, this.maxQueuedBytes / 4, current, (m) => {
      this.outbox.toChannel(channelId, { type: 'message.created', channelId, seq: m.seq, message: m });
      if (m.seq > s.lastSeq) s.lastSeq = m.seq;
    });
  }
}
