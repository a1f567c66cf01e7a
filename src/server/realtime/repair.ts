// Reading back from the store what the broker may have lost (hub.ts decides when; see its header).
//
// - repairFromStore: the messages of one channel after a seq, in pages, handed to `deliver` in seq
//   order. At most REPAIR_MAX messages per repair. Frames stay bounded: once about `batchBytes`
//   (estimated, worst case 6 bytes of JSON per text character) is queued, it waits for the hub's
//   flush (already scheduled with setImmediate, so it runs first) before queueing more; so a
//   repair of many large messages is many frames under the slow-consumer bound, not one over it.
// - reconcileUsers: after a broker gap, `subscription` events may have been lost too; each local
//   user's channel list is read again and the user's connections are moved to match it.
import type { Logger } from 'pino';
import type { ServerEvent } from '../../protocol/events.js';
import type { Actor, Services } from '../services/index.js';
import type { Message } from '../store/types.js';

/** A local connection as repair reads and reconciles it (the hub's HubConnection is one). */
export interface Subscriber {
  readonly actor: Actor;
  readonly channels: ReadonlySet<string>;
}

/** What reconcileUsers needs of the hub. */
export interface Subscriptions<C extends Subscriber> {
  connectionsOf(userId: string): Iterable<C>;
  subscribe(conn: C, channelId: string, knownSeq: number): void;
  unsubscribe(conn: C, channelId: string): void;
  sendTo(conn: C, event: ServerEvent): number;
}

const REPAIR_PAGE = 200;
const REPAIR_MAX = 2000;
const RECONCILE_WORKERS = 8;

/** Resolves after the flush already scheduled (setImmediate callbacks run in order). */
const afterFlush = () => new Promise<void>((r) => setImmediate(r));

/**
 * Delivers the channel's messages after `after`; `reader()` is a local subscriber to read as, or
 * undefined once the channel has none here (or its subscription was replaced): then it stops.
 * Returns how many messages were delivered.
 */
export async function repairFromStore(
  services: Services,
  channelId: string,
  after: number,
  batchBytes: number,
  reader: () => Subscriber | undefined,
  deliver: (m: Message) => void,
): Promise<number> {
  let cursor = after;
  let read = 0;
  while (read < REPAIR_MAX) {
    const r = reader();
    if (!r) return read;
    const page: Message[] = await services.messages.history(r.actor, channelId, { after: cursor, limit: REPAIR_PAGE });
    let batch = 0;
    for (const m of page) {
      deliver(m);
      cursor = m.seq;
      read++;
      batch += 512 + m.text.length * 6;
      if (batch >= batchBytes) {
        batch = 0;
        await afterFlush();
        if (!reader()) return read;
      }
    }
    await afterFlush();
    if (page.length < REPAIR_PAGE) return read;
  }
  return read;
}

export async function reconcileUsers<C extends Subscriber>(
  hub: Subscriptions<C>,
  services: Services,
  logger: Logger,
  users: string[],
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < users.length) {
      const userId = users[next++];
      const conns = [...hub.connectionsOf(userId)];
      if (!conns.length) continue;
      try {
        const positions = await services.channels.positions(conns[0].actor);
        const want = new Map(positions.map((p) => [p.channelId, p.lastSeq]));
        for (const c of conns) {
          for (const [channelId, lastSeq] of want) {
            if (c.channels.has(channelId)) continue;
            hub.subscribe(c, channelId, lastSeq);
            hub.sendTo(c, { type: 'subscription', channelId, subscribed: true, lastSeq });
          }
          for (const channelId of [...c.channels]) {
            if (want.has(channelId)) continue;
            hub.unsubscribe(c, channelId);
            hub.sendTo(c, { type: 'subscription', channelId, subscribed: false, lastSeq: 0 });
          }
        }
      } catch (err) {
        logger.warn({ err, userId }, 'reconcile after gap failed');
      }
    }
  };
  await Promise.all(Array.from({ length: RECONCILE_WORKERS }, worker));
}
