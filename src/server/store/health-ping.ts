// The ping behind /api/health's readiness (http/readiness.ts). On PostgreSQL it runs on its own
// one-connection pool, not the store's: the store's pools may be fully busy under a heavy send load,
// and a health check queued behind them would call a busy-but-healthy node "unavailable" and make
// the load balancer drop it exactly when it is working hardest. The question asked is only "does
// the database answer", so it gets its own connection (one more backend per node).
// On SQLite the store's own ping is enough: SELECT 1 never waits for the file.
import { createPool } from './postgres/db.js';
import type { Store } from './store.js';

export interface HealthPing {
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function healthPing(store: Store, databaseUrl: string | undefined): HealthPing {
  if (!databaseUrl) return { ping: () => store.ping(), close: async () => {} };
  const pool = createPool(databaseUrl, 1);
  let closed: Promise<void> | undefined;
  return {
    ping: async () => {
      await pool.query('SELECT 1');
    },
    close: () => (closed ??= pool.end()),
  };
}
