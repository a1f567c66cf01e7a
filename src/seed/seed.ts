// `nchat seed`: fills a workspace on the configured backend (SQLite in the data dir, or
// PostgreSQL at NCHAT_DATABASE_URL) through the bulk writers, with search indexing paused during
// the load and rebuilt once at the end (store.search.pauseIndexing / resumeIndexing).
//
// Reuse and safety: the meta row `seed.workspace` (params, password, figures) is written last,
// after the relevance set (`seed.relevance`). A database carrying it with the same params is
// reused as it is; with other params, or with users but no such row (someone's real workspace, or
// a seed that died half-way), the seeder refuses and names the reason — it never writes into a
// workspace it did not finish.
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Algorithm, hash as argonHash } from '@node-rs/argon2';
import type { Config } from '../config.js';
import type { BulkWriter } from '../server/store/bulk.js';
import type { Store } from '../server/store/store.js';
import { startGenThread } from './gen-thread.js';
import { buildPlan, directoryRows, type SeedParams, SEED_LIMITS } from './plan.js';
import { progressBar } from './progress.js';
import { plantRelevance, type RelevanceSet } from './relevance.js';

/** Every seeded account signs in with this password (workspaces for tests and load, not people). */
export const SEED_PASSWORD = 'nchat-seed-password';
const META_WORKSPACE = 'seed.workspace';
const META_RELEVANCE = 'seed.relevance';
const BATCH = 10_000;

export interface SeedInfo {
  params: SeedParams;
  password: string;
  /** Usernames: `admin` (owner), `searcher` (the relevance set's account), then the generated people. */
  admin: string;
  searcher: string;
  seededAt: string;
  /** Messages per second of the bulk write alone, and of the whole seed with the index rebuild. */
  writeSeconds: number;
  /** CPU seconds of the seeding process during the write (generator and writer threads; not PostgreSQL's). */
  writeCpuSeconds: number;
  indexSeconds: number | null;
  writeRate: number;
  totalRate: number;
  /** What the index reported after the rebuild (null when the store has no search yet). */
  index: { documents: number; indexBytes: number } | null;
}

export interface SeedResult {
  info: SeedInfo;
  relevance: RelevanceSet;
  reused: boolean;
  backend: 'sqlite' | 'postgres';
}

/** The part of S1's SearchStore the seeder uses (store.search); absent before search exists. */
interface Indexing {
  pauseIndexing(): Promise<void>;
  resumeIndexing(): Promise<void>;
  stats(): Promise<{ documents: number; indexBytes: number }>;
}
export const indexingOf = (store: Store) => (store as unknown as { search?: Indexing }).search;

export function validateParams(p: SeedParams): string[] {
  const problems: string[] = [];
  for (const k of ['messages', 'users', 'channels'] as const) {
    const v = p[k];
    const lim = SEED_LIMITS[k];
    if (!Number.isInteger(v) || v < lim.min || v > lim.max)
      problems.push(`--${k} must be a whole number in ${lim.min}..${lim.max}, got ${v}`);
  }
  if (!Number.isInteger(p.seed) || p.seed < 0 || p.seed > 0xffffffff)
    problems.push(`--seed must be a whole number in 0..4294967295, got ${p.seed}`);
  return problems;
}

export class SeedError extends Error {
  constructor(
    message: string,
    /** partial: users exist but no finished seed (a seed that died, or a real workspace). */
    readonly reason: 'invalid' | 'other-params' | 'partial',
  ) {
    super(message);
  }
}

/** Opens the configured backend's store (SQLite file created owner-only, as the server does). */
export async function openConfiguredStore(config: Config): Promise<{ store: Store; sqliteFile?: string }> {
  if (config.databaseUrl) {
    const { openPostgresStore } = await import('../server/store/postgres/index.js');
    return { store: await openPostgresStore({ url: config.databaseUrl, poolSize: 4 }) };
  }
  const dir = resolve(config.dataDir);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'nchat.db');
  closeSync(openSync(file, 'a', 0o600));
  const { openSqliteStore } = await import('../server/store/sqlite/index.js');
  return { store: await openSqliteStore({ file, sync: 'normal' }), sqliteFile: file };
}

async function openBulk(config: Config, sqliteFile: string | undefined): Promise<BulkWriter> {
  if (config.databaseUrl) {
    const { openPostgresBulk } = await import('../server/store/postgres/bulk.js');
    return openPostgresBulk(config.databaseUrl);
  }
  const { openSqliteBulk } = await import('../server/store/sqlite/bulk.js');
  return openSqliteBulk(sqliteFile!);
}

/** The finished seed recorded in this store, if any (info and relevance set). */
export async function readSeed(store: Store): Promise<{ info: SeedInfo; relevance: RelevanceSet } | undefined> {
  const info = await store.meta.get(META_WORKSPACE);
  const rel = await store.meta.get(META_RELEVANCE);
  if (!info || !rel) return undefined;
  return { info: JSON.parse(info) as SeedInfo, relevance: JSON.parse(rel) as RelevanceSet };
}

const sameParams = (a: SeedParams, b: SeedParams) =>
  a.messages === b.messages && a.users === b.users && a.channels === b.channels && a.seed === b.seed;

export interface SeedOptions {
  /** No progress output (tests). */
  quiet?: boolean;
  log?: (line: string) => void;
}

export async function seedWorkspace(config: Config, params: SeedParams, opts: SeedOptions = {}): Promise<SeedResult> {
  const problems = validateParams(params);
  if (problems.length) throw new SeedError(problems.join('\n'), 'invalid');
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const backend = config.databaseUrl ? 'postgres' : 'sqlite';
  const { store, sqliteFile } = await openConfiguredStore(config);
  try {
    await store.migrate();
    const existing = await readSeed(store);
    if (existing) {
      if (sameParams(existing.info.params, params)) return { ...existing, reused: true, backend };
      throw new SeedError(
        `this ${backend} workspace was seeded with ${JSON.stringify(existing.info.params)}; use a fresh data dir / database for ${JSON.stringify(params)}`,
        'other-params',
      );
    }
    if ((await store.users.count()) > 0)
      throw new SeedError(
        `this ${backend} workspace already has users but no finished seed: nchat seed only fills an empty workspace`,
        'partial',
      );

    const passwordHash = await argonHash(SEED_PASSWORD, {
      algorithm: Algorithm.Argon2id,
      memoryCost: config.argon2MemoryKiB,
      timeCost: 2,
      parallelism: 1,
    });
    const plan = buildPlan(params, passwordHash);
    const { set } = plantRelevance(plan);
    const indexing = indexingOf(store);
    if (indexing) await indexing.pauseIndexing();
    else log('note: this store has no search index yet (store.search missing): nothing to pause or rebuild');

    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const bulk = await openBulk(config, sqliteFile);
    // Messages come from a generator thread (gen-worker.ts) that rebuilds the same plan.
    const gen = startGenThread({ params, passwordHash, batchSize: BATCH });
    try {
      const dir = directoryRows(plan);
      await bulk.writeDirectory(dir.users, dir.channels, dir.members);
      const bar = progressBar(params.messages, `seed ${backend}`, process.stderr, opts.quiet);
      let written = 0;
      for await (const batch of gen.batches()) {
        await bulk.writeMessages(batch);
        written += batch.length;
        bar.update(written);
      }
      if (written !== params.messages) throw new Error(`generator produced ${written} of ${params.messages} messages`);
      await bulk.finish(gen.finish());
    } finally {
      await bulk.close();
    }
    const writeSeconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    // CPU of this process, both threads (generator + writer); PostgreSQL's own work is not in it.
    const writeCpuSeconds = (cpu.user + cpu.system) / 1e6;
    log(
      `wrote ${params.messages.toLocaleString('en-US')} messages in ${writeSeconds.toFixed(1)} s (${Math.round(params.messages / writeSeconds).toLocaleString('en-US')}/s), ${writeCpuSeconds.toFixed(1)} s of CPU in this process`,
    );

    let indexSeconds: number | null = null;
    let index: SeedInfo['index'] = null;
    if (indexing) {
      const t1 = performance.now();
      log('rebuilding the search index…');
      await indexing.resumeIndexing();
      indexSeconds = (performance.now() - t1) / 1000;
      index = await indexing.stats();
      log(
        `search index rebuilt in ${indexSeconds.toFixed(1)} s: ${index.documents.toLocaleString('en-US')} documents, ${(index.indexBytes / 1e6).toFixed(1)} MB`,
      );
    }
    const totalSeconds = writeSeconds + (indexSeconds ?? 0);
    const info: SeedInfo = {
      params,
      password: SEED_PASSWORD,
      admin: plan.users[0].username,
      searcher: set.username,
      seededAt: new Date().toISOString(),
      writeSeconds,
      writeCpuSeconds,
      indexSeconds,
      writeRate: params.messages / writeSeconds,
      totalRate: params.messages / totalSeconds,
      index,
    };
    await store.meta.setIfAbsent(META_RELEVANCE, JSON.stringify(set));
    await store.meta.setIfAbsent(META_WORKSPACE, JSON.stringify(info));
    return { info, relevance: set, reused: false, backend };
  } finally {
    await store.close();
  }
}
