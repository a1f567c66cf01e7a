// The store timer decorator: every repository method of a Store wrapped with a duration
// histogram and an error counter per operation (`users.create`, `messages.create`, …).
import type { Store } from './store.js';

/** What the decorator records into (http/metrics.ts's Metrics provides it, prom-client shaped). */
export interface StoreTimings {
  storeDuration: { labels(op: string): { startTimer(): () => unknown } };
  storeErrors: { labels(op: string): { inc(): void } };
}

/**
 * Wraps every method of the store's repositories with a timer (the Mattermost "timer layer"
 * pattern): the store itself never knows about metrics.
 */
export function timedStore(store: Store, m: StoreTimings): Store {
  const wrapRepo = <T extends object>(name: string, repo: T): T => {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(repo).concat(Object.getOwnPropertyNames(Object.getPrototypeOf(repo)))) {
      const fn = (repo as Record<string, unknown>)[key];
      if (key === 'constructor' || typeof fn !== 'function') continue;
      const op = `${name}.${key}`;
      // The series is made on the first call: helpers that are never called through the
      // Store interface (private methods, statement caches) leave no empty series in /metrics.
      let end: ReturnType<StoreTimings['storeDuration']['labels']> | undefined;
      out[key] = async (...args: unknown[]) => {
        const stop = (end ??= m.storeDuration.labels(op)).startTimer();
        try {
          return await (fn as (...a: unknown[]) => Promise<unknown>).apply(repo, args);
        } catch (e) {
          m.storeErrors.labels(op).inc();
          throw e;
        } finally {
          stop();
        }
      };
    }
    return out as T;
  };
  return {
    kind: store.kind,
    migrate: () => store.migrate(),
    ping: () => store.ping(),
    close: () => store.close(),
    poolStats: () => store.poolStats(),
    ...(store.indexStats ? { indexStats: () => store.indexStats!() } : {}),
    users: wrapRepo('users', store.users),
    tokens: wrapRepo('tokens', store.tokens),
    channels: wrapRepo('channels', store.channels),
    messages: wrapRepo('messages', store.messages),
    notifications: wrapRepo('notifications', store.notifications),
    meta: wrapRepo('meta', store.meta),
    files: wrapRepo('files', store.files),
    search: wrapRepo('search', store.search),
  };
}
