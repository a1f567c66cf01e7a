// Test helper: a fresh, throw-away PostgreSQL database per call.
//
//   const db = await freshPostgres(t);      // t: node:test TestContext (optional)
//   if (!db) return;                        // skipped: PostgreSQL not reachable
//   ... use db.url ...
//   await db.drop();
//
// Admin connection: postgres://postgres@127.0.0.1:5432/test, or env NCHAT_TEST_PG_URL.
// Each call creates `nchat_t_<random>` on that server and never touches any other database.
// When the server is unreachable the helper returns undefined (and calls t.skip with the
// reason when given t) — unless CI=true or NCHAT_REQUIRE_SERVICES=1, then it throws so the
// test fails instead of silently passing.
//
// Whole suites: `await describePostgres('name', () => { ... })` (top-level await in the test
// file) registers a describe that is skipped with the reason when PostgreSQL is unreachable.
import { randomBytes } from 'node:crypto';
import { describe } from 'node:test';
import pg from 'pg';

export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

export const adminUrl = () => process.env.NCHAT_TEST_PG_URL || DEFAULT_PG_URL;

export const servicesRequired = () => process.env.CI === 'true' || process.env.NCHAT_REQUIRE_SERVICES === '1';

/** Host:port/db without credentials, for messages. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(unparseable NCHAT_TEST_PG_URL)';
  }
}

export const skipMessage = (url = adminUrl()) => `PostgreSQL not reachable at ${describeUrl(url)}: skipped`;

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl(), connectionTimeoutMillis: 15_000 }); // generous: a loaded 2-core box can take seconds to fork a backend
  c.on('error', () => {});
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

let probe: Promise<string | undefined> | undefined;

/** undefined when reachable, else the error text. Probed once per process. */
function unreachableReason(): Promise<string | undefined> {
  probe ??= withAdmin(async (c) => {
    await c.query('SELECT 1');
  }).then(
    () => undefined,
    (err: unknown) => (err instanceof Error ? err.message : String(err)) || 'connection failed',
  );
  return probe;
}

/** true when the admin database answers (never throws). */
export async function pgAvailable(): Promise<boolean> {
  return (await unreachableReason()) === undefined;
}

/**
 * The reason to skip PostgreSQL tests, or undefined when they can run.
 * Throws instead when services are required (CI=true / NCHAT_REQUIRE_SERVICES=1).
 */
export async function pgSkipReason(): Promise<string | undefined> {
  const why = await unreachableReason();
  if (why === undefined) return undefined;
  const msg = skipMessage();
  if (servicesRequired()) throw new Error(`${msg.replace(': skipped', '')} (${why}) and CI/NCHAT_REQUIRE_SERVICES requires it`);
  return msg;
}

/** A describe() skipped cleanly (with the reason) when PostgreSQL is unreachable. Await it. */
export async function describePostgres(name: string, fn: () => void): Promise<void> {
  const skip = await pgSkipReason();
  describe(name, skip ? { skip } : {}, fn);
}

export interface FreshPostgres {
  /** Connection URL of the new, empty database. */
  url: string;
  /** Drops the database (terminating leftover connections). Idempotent. */
  drop(): Promise<void>;
}

const dbUrl = (base: string, name: string) => {
  const u = new URL(base);
  u.pathname = '/' + name;
  return u.toString();
};

export async function freshPostgres(t?: { skip(message?: string): void }): Promise<FreshPostgres | undefined> {
  const skip = await pgSkipReason();
  if (skip) {
    t?.skip(skip);
    return undefined;
  }
  const name = `nchat_t_${randomBytes(6).toString('hex')}`;
  // The name is generated here ([a-z0-9_] only), so quoting it as an identifier is safe.
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}"`));
  let dropped: Promise<void> | undefined;
  return {
    url: dbUrl(adminUrl(), name),
    drop: () =>
      (dropped ??= withAdmin(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      })),
  };
}
