// Redis broker: fan-out across several nodes through Redis pub/sub (node-redis 6).
//
// Contract (see broker.ts), and how it is kept here:
// - Two connections: `pub` publishes, `sub` holds the SUBSCRIBEs (a subscribed connection cannot
//   publish). One Redis channel per topic, refcounted: a node subscribes only to the topics its
//   local connections need, so a message reaches only the nodes that have a recipient.
// - Local delivery is immediate and in process (like MemoryBroker); the copy that comes back
//   from Redis carries this node's id and is dropped. So a node's own users never depend on
//   Redis, and per-topic order from one publisher is the publish order on every node (one pub
//   connection = one ordered stream into Redis; one sub connection = one ordered stream out).
// - Redis is a hint, the database the truth. While the pub connection is not ready, publishes
//   are dropped (not queued without bound); while the sub connection is down, deliveries are
//   lost. Both are gaps, and the nodes that may have missed something are told: a node whose
//   sub connection comes back runs its `onGap` listeners (the realtime layer re-reads from the
//   store); a node that dropped or failed a publish sends a loss notice on the `<prefix>__gap`
//   channel, once its pub connection is ready again, and every other node runs its `onGap`
//   listeners on it. Without the notice, a publish lost on one node's pub connection alone (its
//   sub and the other nodes' connections fine) was never repaired when no later message of the
//   channel came to reveal the seq gap: the end of a burst stayed undelivered until a resume.
// - Wire format: `<nodeId>|<JSON event>`; the Redis channel is `<prefix><topic>`. The prefix
//   (default `nchat:`) comes from the URL query `?prefix=` (removed before connecting) so several
//   deployments or test runs can share one Redis: pub/sub ignores the db index.
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import type pino from 'pino';
import type { Broker, BrokerEvent } from './broker.js';

type Listener = (e: BrokerEvent) => void;
type RedisClient = ReturnType<typeof createClient>;

/** Splits `?prefix=` off a redis URL (node-redis rejects unknown query options). */
export function parseRedisUrl(url: string): { url: string; prefix: string } {
  const u = new URL(url);
  const prefix = u.searchParams.get('prefix') ?? 'nchat:';
  u.searchParams.delete('prefix');
  return { url: u.toString(), prefix };
}

class RedisBroker implements Broker {
  readonly kind = 'redis' as const;
  readonly nodeId = randomBytes(6).toString('hex');
  private readonly topics = new Map<string, Set<Listener>>();
  private readonly gapListeners: (() => void)[] = [];
  private closed = false;
  private readonly pendingSubscribes = new Set<Promise<void>>();
  /** Deliveries dropped because the pub connection was not ready (for logs/metrics). */
  droppedPublishes = 0;
  /** Loss notices sent (see announceLoss). */
  lossNotices = 0;
  /** A publish was dropped or failed and the other nodes have not been told yet. */
  private lost = false;

  constructor(
    private readonly pub: RedisClient,
    private readonly sub: RedisClient,
    private readonly prefix: string,
    private readonly logger: pino.Logger,
  ) {}

  publish(topic: string, event: BrokerEvent): void {
    this.deliver(topic, event);
    if (this.closed) return;
    if (!this.pub.isReady) {
      this.droppedPublishes++;
      this.lost = true;
      return;
    }
    this.pub.publish(this.prefix + topic, this.nodeId + '|' + JSON.stringify(event)).catch((err: unknown) => {
      this.droppedPublishes++;
      this.logger.warn({ err, topic }, 'redis publish failed (subscribers repair from the store)');
      this.lost = true;
      // The connection may still be ready (a failed command, not a lost socket): then no 'ready'
      // event will come to send the notice, so try shortly.
      setTimeout(() => this.announceLoss(), LOSS_RETRY_MS).unref();
    });
  }

  /**
   * Sends the loss notice if publishes were dropped or failed since the last one (called when
   * the pub connection is ready again, and after a failed publish). Every other node runs its
   * onGap listeners on it. A notice that fails is retried on the next call.
   */
  announceLoss(): void {
    if (!this.lost || this.closed || !this.pub.isReady) return;
    this.lost = false;
    this.lossNotices++;
    this.logger.warn({ droppedPublishes: this.droppedPublishes }, 'redis publishes were lost: telling the other nodes to repair');
    this.pub.publish(this.prefix + GAP_CHANNEL, this.nodeId).catch(() => {
      this.lost = true;
      setTimeout(() => this.announceLoss(), LOSS_RETRY_MS).unref();
    });
  }

  /** Subscribes to the other nodes' loss notices (createRedisBroker calls it once). */
  async listenForLoss(): Promise<void> {
    await this.sub.subscribe(this.prefix + GAP_CHANNEL, (message: string) => {
      if (message === this.nodeId || this.closed) return;
      this.logger.info({ from: message }, 'another node lost redis publishes; repairing from the store');
      this.raiseGap();
    });
  }

  subscribe(topic: string, listener: Listener): () => void {
    let set = this.topics.get(topic);
    if (!set) {
      this.topics.set(topic, (set = new Set()));
      if (!this.closed) {
        const p: Promise<void> = this.sub
          .subscribe(this.prefix + topic, this.onRedisMessage)
          .catch((err: unknown) => {
            // node-redis re-sends SUBSCRIBE for every live listener on reconnect, and the
            // reconnect raises onGap, so a failure here is repaired like any other gap.
            this.logger.warn({ err, topic }, 'redis subscribe failed');
          })
          .finally(() => this.pendingSubscribes.delete(p));
        this.pendingSubscribes.add(p);
      }
    }
    set.add(listener);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      set!.delete(listener);
      if (set!.size === 0 && this.topics.get(topic) === set) {
        this.topics.delete(topic);
        if (!this.closed) {
          this.sub.unsubscribe(this.prefix + topic, this.onRedisMessage).catch((err: unknown) => {
            this.logger.debug({ err, topic }, 'redis unsubscribe failed');
          });
        }
      }
    };
  }

  async whenSubscribed(): Promise<void> {
    await Promise.all([...this.pendingSubscribes]);
  }

  onGap(listener: () => void): void {
    this.gapListeners.push(listener);
  }

  /** Runs the gap listeners (sub connection came back, or a caller knows deliveries were lost). */
  raiseGap(): void {
    for (const l of this.gapListeners) {
      try {
        l();
      } catch (err) {
        this.logger.error({ err }, 'onGap listener failed');
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.topics.clear();
    await Promise.allSettled([closeBounded(this.pub), closeBounded(this.sub)]);
  }

  private readonly onRedisMessage = (message: string, channel: string): void => {
    const bar = message.indexOf('|');
    if (bar < 0 || message.slice(0, bar) === this.nodeId) return;
    let event: BrokerEvent;
    try {
      event = JSON.parse(message.slice(bar + 1)) as BrokerEvent;
    } catch {
      this.logger.warn({ channel }, 'unparseable broker message dropped');
      return;
    }
    this.deliver(channel.slice(this.prefix.length), event);
  };

  private deliver(topic: string, event: BrokerEvent): void {
    const set = this.topics.get(topic);
    if (!set) return;
    for (const l of set) {
      try {
        l(event);
      } catch (err) {
        // One listener's failure must not stop delivery to the others.
        this.logger.error({ err, topic }, 'broker listener failed');
      }
    }
  }
}

/**
 * Connects both Redis connections (rejects if Redis is unreachable at start: fail fast), then
 * reconnects forever with capped, jittered backoff. Every reconnect of the sub connection
 * raises onGap once it is ready again (its SUBSCRIBEs are re-sent by node-redis first).
 */
export async function createRedisBroker(url: string, logger: pino.Logger): Promise<Broker & { nodeId: string; raiseGap(): void }> {
  const { url: clean, prefix } = parseRedisUrl(url);
  // Before the first successful connect a failure is final (startup fails fast with the cause);
  // afterwards the connections retry forever.
  let started = false;
  const options = {
    url: clean,
    socket: {
      connectTimeout: 5000,
      reconnectStrategy: (retries: number, cause: Error) =>
        started
          ? Math.min(50 * 2 ** Math.min(retries, 6), 2000) + Math.floor(Math.random() * 100)
          : new Error(`Redis unreachable at ${clean}: ${cause.message}`),
    },
  };
  const pub = createClient(options);
  const sub = createClient(options);
  let broker: RedisBroker | undefined;
  let subWasLost = false;
  for (const [name, c] of [
    ['pub', pub],
    ['sub', sub],
  ] as const) {
    c.on('error', (err: unknown) => logger.warn({ err, connection: name }, 'redis connection error'));
  }
  sub.on('end', () => (subWasLost = true));
  sub.on('reconnecting', () => {
    if (!subWasLost) logger.warn('redis subscription lost; will repair from the store on reconnect');
    subWasLost = true;
  });
  sub.on('ready', () => {
    if (!subWasLost) return;
    subWasLost = false;
    logger.info('redis subscription back; repairing from the store');
    // node-redis awaits the re-sent SUBSCRIBEs before it emits 'ready', so live delivery is
    // flowing again when the store is read (subscribe first, then read).
    broker?.raiseGap();
  });
  try {
    await Promise.all([pub.connect(), sub.connect()]);
    started = true;
  } catch (err) {
    await Promise.allSettled([pub.destroy(), sub.destroy()]);
    throw err;
  }
  broker = new RedisBroker(pub as RedisClient, sub as RedisClient, prefix, logger);
  const b = broker;
  pub.on('ready', () => b.announceLoss());
  try {
    await b.listenForLoss();
  } catch (err) {
    await Promise.allSettled([pub.destroy(), sub.destroy()]);
    throw err;
  }
  return broker;
}

/** The Redis channel (after the prefix) of the loss notices; no topic has this name. */
const GAP_CHANNEL = '__gap';
/** How soon a node retries its loss notice after a publish failed on a ready connection. */
const LOSS_RETRY_MS = 100;

/**
 * How long a graceful close may wait for replies before the connection is destroyed. node-redis's
 * close() waits for every queued command, and a connection to a Redis that is down never answers:
 * without a bound a node could not shut down while Redis is down.
 */
const CLOSE_GRACE_MS = 2000;

async function closeBounded(client: RedisClient): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = client.close().then(
    () => 'closed' as const,
    () => 'failed' as const,
  );
  const outcome = await Promise.race([closed, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), CLOSE_GRACE_MS)))]);
  clearTimeout(timer);
  if (outcome !== 'closed') client.destroy();
}
