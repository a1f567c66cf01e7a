// Which sessions (refresh-token families, the `sid` claim of access tokens) are revoked, known
// on every node at once, so a revoked session's access tokens and sockets stop working now and
// not at access-token expiry.
//
// Contract:
// - isRevoked(sid) is a Map lookup: verifyAccessToken calls it on every request.
// - A node learns a revocation (a) at once when it revokes itself, (b) from the broker event
//   `session.revoked` on topic `sys:sessions` that every revocation publishes (delivered locally
//   in process, to other nodes through Redis), and (c) on start and after a broker gap (Redis
//   reconnect: events may have been lost) from the store: every family revoked within the last
//   access-token TTL (+ skew). Older revocations need no entry: every access token of that
//   session has expired by then (tokens of a family are only minted before its revocation,
//   TokenStore.rotate guarantees it).
// - `user.changed` (role change, deactivation, reactivation) tells every node to drop its cached
//   copy of that user and lets the realtime layer close that user's sockets.
// - Listeners (the realtime layer) see every event, from this node or another one.
import type { Logger } from 'pino';
import { sessionsTopic, type Broker, type SessionsEvent } from '../broker/broker.js';
import type { Store } from '../store/store.js';

export type { SessionsEvent };

/** Clock skew allowed between nodes when deciding how long a revoked sid must be remembered. */
const SKEW_MS = 60_000;

export class SessionRegistry {
  /** sid → time (ms) after which every access token of it has expired and the entry can go. */
  private readonly revoked = new Map<string, number>();
  private readonly listeners = new Set<(e: SessionsEvent) => void>();
  private lastSweep = Date.now();
  private loading: Promise<void> | undefined;
  private loaded = false;

  constructor(
    private readonly d: {
      store: Store;
      broker: Broker;
      logger: Logger;
      accessTtlMs: number;
      onUserChanged(userId: string): void;
      /** After a broker gap: `user.changed` events may have been lost, so every cached user is dropped. */
      onResync(): void;
    },
  ) {
    d.broker.subscribe(sessionsTopic, (e) => {
      if (e.type === 'session.revoked' || e.type === 'user.changed') this.apply(e);
    });
    d.broker.onGap(() => {
      d.onResync();
      void this.load();
    });
    this.loading = this.load();
  }

  /** Resolves once the start-up read of recent revocations is in (verify awaits it only until then). */
  ready(): Promise<void> | undefined {
    return this.loaded ? undefined : this.loading;
  }

  isRevoked(sid: string): boolean {
    return this.revoked.has(sid);
  }

  /** Publishes a revocation to every node (this one included, synchronously). */
  revoke(userId: string, sessionIds: string[]): void {
    if (sessionIds.length) this.d.broker.publish(sessionsTopic, { type: 'session.revoked', userId, sessionIds });
  }

  /** Publishes that a user's role or status changed (caches dropped, sockets closed everywhere). */
  userChanged(userId: string): void {
    this.d.broker.publish(sessionsTopic, { type: 'user.changed', userId });
  }

  onEvent(listener: (e: SessionsEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private apply(e: SessionsEvent): void {
    if (e.type === 'session.revoked') {
      const until = Date.now() + this.d.accessTtlMs + SKEW_MS;
      for (const sid of e.sessionIds) this.revoked.set(sid, until);
      this.sweep();
    }
    this.d.onUserChanged(e.userId);
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.d.logger.error({ err }, 'sessions listener failed');
      }
    }
  }

  private async load(): Promise<void> {
    const since = new Date(Date.now() - this.d.accessTtlMs - SKEW_MS).toISOString();
    try {
      const rows = await this.d.store.tokens.revokedSince(since);
      const until = Date.now() + this.d.accessTtlMs + SKEW_MS;
      for (const r of rows) if (!this.revoked.has(r.familyId)) this.revoked.set(r.familyId, until);
    } catch (err) {
      // The store is down: requests fail on it anyway; the next gap or restart retries.
      this.d.logger.error({ err }, 'could not read recently revoked sessions');
    } finally {
      this.loaded = true;
    }
  }

  /** At most once a minute: drops entries whose tokens have all expired (memory stays bounded). */
  private sweep(now = Date.now()): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [sid, until] of this.revoked) if (until <= now) this.revoked.delete(sid);
  }
}
