// Pool, type parsing, transactions and error mapping shared by the PostgreSQL store modules.
import pg from 'pg';
import { AppError } from '../../errors.js';

const INT8_OID = 20;
const TIMESTAMPTZ_OID = 1184;
const TIMESTAMP_OID = 1114;

/**
 * Per-pool parsers (the global pg.types stay untouched):
 * - int8 (seq, counts) as JS numbers: seqs and counts stay far below 2^53.
 * - timestamptz as ISO-8601 UTC strings ("2026-01-01T00:00:00.000Z"), the domain's time format.
 */
function makeTypes(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, (v: string) => Number(v));
  const parseDate = pg.types.getTypeParser(TIMESTAMPTZ_OID) as (v: string) => Date;
  const iso = (v: string) => parseDate(v).toISOString();
  types.setTypeParser(TIMESTAMPTZ_OID, iso);
  types.setTypeParser(TIMESTAMP_OID, iso);
  return types;
}

/**
 * The send pool's session settings (createPool's `genericPlans`).
 * - plan_cache_mode = force_generic_plan: each connection plans a send statement once. Planning
 *   the batch statement costs ~4× its execution (measured 1.18 vs 0.24 ms of backend CPU per
 *   message), and the plan cache kept choosing custom plans.
 * - enable_seqscan = off: that one plan is made when the connection first sends, which on a new
 *   deployment (or a load test's fresh database) is when the tables are nearly empty, and a plan
 *   made then kept a sequential scan of `messages` in the statement's parent-counter CTE until
 *   an ANALYZE of the table invalidated it (autovacuum's, in production; never, on a server with
 *   autovacuum off, as on the development machine): every batch read the whole table, more each
 *   minute (2026-12-02: 37% of PostgreSQL's CPU in the quick messages scenario). Every lookup of
 *   the send statements is meant to be an index probe (message-sql.ts); with this setting the
 *   planner picks one whatever the tables held at that moment. write-path.test.ts checks the
 *   plans on an empty database.
 */
export const SEND_SESSION_OPTIONS = '-c plan_cache_mode=force_generic_plan -c enable_seqscan=off';

/**
 * @param genericPlans the send pool's sessions (SEND_SESSION_OPTIONS). Not for the main pool:
 *   e.g. `LIKE $1` needs a custom plan to use an index.
 */
export function createPool(url: string, poolSize: number, genericPlans = false): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    ...(genericPlans ? { options: SEND_SESSION_OPTIONS } : {}),
    types: makeTypes(),
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    application_name: 'nchat',
  });
  // An idle client whose connection dies emits 'error' on the pool; unhandled, it would crash
  // the process. The pool discards that client; the next query reports any lasting failure.
  pool.on('error', () => {});
  return pool;
}

export type Queryable = pg.Pool | pg.PoolClient;

/** Runs fn inside BEGIN/COMMIT on one pooled connection; rolls back on any throw. */
export function tx<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  return txWith(pool, undefined, fn);
}

/**
 * tx() whose BEGIN carries `settings`: parameterless statements (e.g. `SET LOCAL jit = off`) sent
 * with it in one simple-protocol message, which saves their round trip; never user input.
 */
export async function txWith<T>(pool: pg.Pool, settings: string | undefined, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  let broken = false;
  try {
    await c.query(settings ? `BEGIN; ${settings}` : 'BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    try {
      await c.query('ROLLBACK');
    } catch {
      broken = true; // connection unusable: do not return it to the pool
    }
    throw err;
  } finally {
    c.release(broken);
  }
}

export interface PgError {
  code?: string;
  constraint?: string;
}

/** Unique violations the caller can cause, by constraint (index) name; see migrations.ts. */
const UNIQUE_CODES: Record<string, [AppError['code'], string]> = {
  users_username_key: ['USERNAME_TAKEN', 'username is already taken'],
  users_email_key: ['EMAIL_TAKEN', 'email is already registered'],
  channels_name_key: ['CHANNEL_NAME_TAKEN', 'a channel with this name already exists'],
};

/** Re-throws known unique violations as AppError; anything else unchanged. */
export function mapUniqueViolation(err: unknown): never {
  const e = err as PgError;
  if (e?.code === '23505' && e.constraint && UNIQUE_CODES[e.constraint]) {
    const [code, message] = UNIQUE_CODES[e.constraint];
    throw new AppError(code, message);
  }
  throw err;
}

/** Escapes LIKE wildcards so user input is matched literally (with ESCAPE '\'). */
export const likeEscape = (s: string) => s.replace(/[\\%_]/g, (m) => '\\' + m);
