// PostgreSQL implementation of the Store contract (store.ts). Composition only: each concept
// lives in its own module; db.ts holds the pool, type parsers and error mapping.
import type pg from 'pg';
import type { Store } from '../store.js';
import { createPool } from './db.js';
import { PostgresChannels } from './channels.js';
import { PostgresFiles } from './files.js';
import { PostgresMessages } from './messages.js';
import { PostgresMeta } from './meta.js';
import { migrate } from './migrate.js';
import { PostgresNotifications } from './notifications.js';
import { PostgresSearch } from './search.js';
import { PostgresTokens } from './tokens.js';
import { PostgresUsers } from './users.js';

export { migrations } from './migrations.js';

export interface PostgresStoreOptions {
  url: string;
  /** Connections per node (config dbPoolSize), send pool included. */
  poolSize: number;
  /** Connections (= concurrent group-commit batches) for messages.create; see defaultSendSlots. */
  sendSlots?: number;
}

/**
 * Group-commit batches in flight at once (= connections of the send pool). Two let one batch
 * fill while the other commits; more mean smaller batches and more waiting on busy channels' row
 * locks. Measured with 32 concurrent senders over 8 channels: 1 and 2 slots similar, 4 slower.
 */
const defaultSendSlots = (poolSize: number) => Math.max(1, Math.min(2, Math.floor(poolSize / 4)));

class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly users: PostgresUsers;
  readonly tokens: PostgresTokens;
  readonly channels: PostgresChannels;
  readonly messages: PostgresMessages;
  readonly notifications: PostgresNotifications;
  readonly meta: PostgresMeta;
  readonly files: PostgresFiles;
  readonly search: PostgresSearch;
  private closed?: Promise<void>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly sendPool: pg.Pool,
  ) {
    this.users = new PostgresUsers(pool);
    this.tokens = new PostgresTokens(pool);
    this.channels = new PostgresChannels(pool);
    this.files = new PostgresFiles(pool, this.channels);
    this.search = new PostgresSearch(pool);
    this.messages = new PostgresMessages(pool, sendPool, this.files);
    this.notifications = new PostgresNotifications(pool);
    this.meta = new PostgresMeta(pool);
  }

  migrate(): Promise<string[]> {
    return migrate(this.pool);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  /** Ends the pool (waits for checked-out clients to be released). Idempotent. */
  close(): Promise<void> {
    this.closed ??= Promise.all([this.pool.end(), this.sendPool.end()]).then(() => undefined);
    return this.closed;
  }

  /** Both pools together (the send pool holds at most sendSlots connections). */
  poolStats() {
    const a = this.pool;
    const b = this.sendPool;
    return {
      total: a.totalCount + b.totalCount,
      idle: a.idleCount + b.idleCount,
      waiting: a.waitingCount + b.waitingCount,
    };
  }
}

/**
 * Opens a pool; does not migrate (the caller runs migrate(), e.g. `nchat migrate` or at start).
 * Fails fast when the server cannot be reached, so startup reports a bad URL immediately.
 */
export async function openPostgresStore(opts: PostgresStoreOptions): Promise<Store> {
  // messages.create has its own small pool, carved out of poolSize (so a node opens at most
  // poolSize connections, or 2 when poolSize is 1): its batches never queue behind reads, and
  // its sessions use generic plans (see createPool).
  const sendSlots = Math.max(1, Math.floor(opts.sendSlots ?? defaultSendSlots(opts.poolSize)));
  const pool = createPool(opts.url, Math.max(1, opts.poolSize - sendSlots));
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
  const sendPool = createPool(opts.url, sendSlots, true);
  return new PostgresStore(pool, sendPool);
}
