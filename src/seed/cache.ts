// Seeded workspaces kept between runs, for the load test's search scenario and bench:search:
// seeding 1M messages takes a while, copying a seeded database takes seconds.
// - SQLite: a data dir per parameter set under NCHAT_SEED_CACHE (default <tmp>/nchat-seed-cache);
//   a run copies its nchat.db into the fresh node's data dir before the node starts.
// - PostgreSQL: a database nchat_seed_<key> on the run's PostgreSQL server, used as the
//   TEMPLATE of the run's fresh database (CREATE DATABASE … TEMPLATE, a file-level copy).
// The key holds the parameters, SEED_FORMAT (bumped when the generator changes) and a hash of
// the schema, so an old entry is never taken for a new format or schema. Password hashing uses the load test's cheap
// argon2 cost (1 MiB), stated by the caller with the run.
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../config.js';
import { migrations as postgresMigrations } from '../server/store/postgres/migrations.js';
import { migrations as sqliteMigrations } from '../server/store/sqlite/migrations.js';
import type { SeedParams } from './plan.js';
import { SeedError, type SeedResult, seedWorkspace } from './seed.js';

/** Bumped whenever generated content or the relevance set changes for the same parameters. */
export const SEED_FORMAT = 3; // 3: PostgreSQL seeds end with VACUUM (ANALYZE), not ANALYZE alone
export const CACHE_ARGON2_KIB = '1024';

/** 8 hex chars of both backends' migration SQL: a schema change (a new or edited migration) is a new cache entry. */
const schemaHash = createHash('sha256')
  .update(JSON.stringify([sqliteMigrations, postgresMigrations]))
  .digest('hex')
  .slice(0, 8);

export const cacheKey = (p: SeedParams) => `f${SEED_FORMAT}_m${p.messages}_u${p.users}_c${p.channels}_s${p.seed}_${schemaHash}`;
export const cacheDir = () => process.env.NCHAT_SEED_CACHE || join(tmpdir(), 'nchat-seed-cache');

export interface CachedSeed {
  /** SQLite: the seeded database file to copy. */
  sqliteFile?: string;
  /** PostgreSQL: the seeded database to use as a template. */
  postgresTemplate?: string;
  result: SeedResult;
  /** Seconds spent here (seeding, or only checking the cache). */
  seconds: number;
  /** Where it lives, for the run's notes. */
  where: string;
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/**
 * The cached workspace for these params on this backend, seeded first when missing.
 * `postgresUrl`: any database URL of the PostgreSQL server (the admin connection of the run).
 */
export async function cachedSeed(
  store: 'sqlite' | 'postgres',
  params: SeedParams,
  o: { postgresUrl?: string; log?: (l: string) => void; quiet?: boolean } = {},
): Promise<CachedSeed> {
  const t0 = performance.now();
  const key = cacheKey(params);
  const env: Record<string, string> = { NCHAT_LOG_LEVEL: 'silent', NCHAT_ARGON2_MEMORY_KIB: CACHE_ARGON2_KIB };
  let where: string;
  let postgresTemplate: string | undefined;
  let sqliteFile: string | undefined;
  if (store === 'postgres') {
    if (!o.postgresUrl) throw new Error('cachedSeed: postgresUrl is required for PostgreSQL');
    postgresTemplate = `nchat_seed_${key}`;
    const admin = new pg.Client({ connectionString: o.postgresUrl });
    await admin.connect();
    try {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [postgresTemplate]);
      // The name is built from integers and fixed text only, so it needs no quoting.
      if (!exists.rowCount) await admin.query(`CREATE DATABASE ${postgresTemplate}`);
    } finally {
      await admin.end();
    }
    env.NCHAT_DATABASE_URL = withDatabase(o.postgresUrl, postgresTemplate);
    where = `PostgreSQL database ${postgresTemplate}`;
  } else {
    const dir = join(cacheDir(), `sqlite_${key}`);
    env.NCHAT_DATA_DIR = dir;
    sqliteFile = join(dir, 'nchat.db');
    where = dir;
  }
  const config = loadConfig({}, env);
  let result: SeedResult;
  try {
    result = await seedWorkspace(config, params, { quiet: o.quiet, log: o.log });
  } catch (e) {
    // A cache entry whose seed died half-way (no seed.workspace row): start it again, once.
    if (!(e instanceof SeedError && e.reason === 'partial')) throw e;
    o.log?.(`seed cache ${where} holds an unfinished seed: recreating it`);
    if (sqliteFile) rmSync(join(cacheDir(), `sqlite_${key}`), { recursive: true, force: true });
    else await recreateDatabase(o.postgresUrl!, postgresTemplate!);
    result = await seedWorkspace(config, params, { quiet: o.quiet, log: o.log });
  }
  return { sqliteFile, postgresTemplate, result, seconds: (performance.now() - t0) / 1000, where };
}

async function recreateDatabase(url: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
}
