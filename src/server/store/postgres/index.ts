// PostgreSQL implementation of the Store contract (store.ts). Composition only: each concept
// lives in its own module; db.ts holds the pool, type parsers and error mapping.
import type pg from 'pg';
import type { Store } from '../store.js';
import { createPool } from './db.js';
import { PgChannelStore } from './channels.js';
import { PgMessageStore } from './messages.js';
import { PgMetaStore } from './meta.js';
import { migrate } from './migrate.js';
import { PgNotificationStore } from './notifications.js';
import { PgTokenStore } from './tokens.js';
import { PgUserStore } from './users.js';

export { migrations } from './migrations.js';

export interface PostgresStoreOptions {
  url: string;
  /** Connections per node (config dbPoolSize). */
  poolSize: number;
}

class PgStore implements Store {
  readonly kind = 'postgres' as const;
  readonly users: PgUserStore;
  readonly tokens: PgTokenStore;
  readonly channels: PgChannelStore;
  readonly messages: PgMessageStore;
  readonly notifications: PgNotificationStore;
  readonly meta: PgMetaStore;
  private closed?: Promise<void>;

  constructor(private readonly pool: pg.Pool) {
    this.users = new PgUserStore(pool);
    this.tokens = new PgTokenStore(pool);
    this.channels = new PgChannelStore(pool);
    this.messages = new PgMessageStore(pool);
    this.notifications = new PgNotificationStore(pool);
    this.meta = new PgMetaStore(pool);
  }

  migrate(): Promise<string[]> {
    return migrate(this.pool);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  /** Ends the pool (waits for checked-out clients to be released). Idempotent. */
  close(): Promise<void> {
    this.closed ??= this.pool.end();
    return this.closed;
  }

  poolStats() {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }
}

/**
 * Opens a pool; does not migrate (the caller runs migrate(), e.g. `nchat migrate` or at start).
 * Fails fast when the server cannot be reached, so startup reports a bad URL immediately.
 */
export async function openPostgresStore(opts: PostgresStoreOptions): Promise<Store> {
  const pool = createPool(opts.url, opts.poolSize);
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
  return new PgStore(pool);
}
