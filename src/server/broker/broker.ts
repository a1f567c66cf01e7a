// Every fan-out goes through a Broker, on one node as on many (memory-broker.ts in process,
// redis-broker.ts across nodes). Services publish only after their write has committed.
//
// Contract:
// - Topics are `ch:<channelId>` (channel events, delivered to the channel's subscribers) and
//   `u:<userId>` (events for one user's connections on every node).
// - Per topic, a subscriber sees events in publish order from one publisher node.
// - Delivery is best effort (a hint): the database stays the truth. A subscriber that may have
//   missed events (Redis reconnect) is told through onGap so it can repair from the store.
import type { ChannelEvent, UserEvent } from '../../protocol/events.js';

/**
 * Node-to-node events on topic `sys:presence` (realtime/presence.ts); never sent to clients.
 * `presence.node`: one node's local status for a user; `presence.snapshot`: everything a node
 * has online/away (periodic, and in answer to `presence.sync` from a node that just started).
 */
export type ClusterEvent =
  | { type: 'presence.node'; nodeId: string; userId: string; status: 'online' | 'away' | 'offline' }
  | { type: 'presence.snapshot'; nodeId: string; online: string[]; away: string[] }
  | { type: 'presence.sync'; nodeId: string };

/** Topic `sys:sessions` (services/sessions.ts): sessions revoked / an account's role or status changed. */
export type SessionsEvent = { type: 'session.revoked'; userId: string; sessionIds: string[] } | { type: 'user.changed'; userId: string };

export type BrokerEvent = ChannelEvent | UserEvent | ClusterEvent | SessionsEvent;

export interface Broker {
  readonly kind: 'memory' | 'redis';
  publish(topic: string, event: BrokerEvent): void;
  /** Adds a listener for a topic; returns a function that removes it. */
  subscribe(topic: string, listener: (event: BrokerEvent) => void): () => void;
  /** Called when delivery may have been interrupted (e.g. the Redis subscription dropped and came back). */
  onGap(listener: () => void): void;
  /**
   * Resolves once every subscribe() issued so far is effective (events published from now on
   * reach it). Optional: in-process subscriptions are effective at once. Readers use it to
   * "subscribe first, then read the store" without a window.
   */
  whenSubscribed?(): Promise<void>;
  close(): Promise<void>;
}

export const channelTopic = (channelId: string) => `ch:${channelId}`;
export const userTopic = (userId: string) => `u:${userId}`;
export const presenceTopic = 'sys:presence';
export const sessionsTopic = 'sys:sessions';
