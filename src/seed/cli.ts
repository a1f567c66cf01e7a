// nchat seed [--messages N] [--users N] [--channels N] [--seed N] [server options]
// nchat seed --score [--url URL] [server options]
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../config.js';
import { SEED_LIMITS, type SeedParams } from './plan.js';
import { formatScore, scoreRelevance } from './score.js';
import { openConfiguredStore, readSeed, SeedError, seedWorkspace } from './seed.js';

export const DEFAULT_PARAMS: SeedParams = { messages: 1_000_000, users: 1_000, channels: 200, seed: 1 };

const HELP = `Usage: nchat seed [options]          fill an empty workspace (or reuse one seeded with the same options)
       nchat seed --score [--url URL]   run the relevance set against a running server

Seeding (the backend is the usual one: SQLite in --data-dir / NCHAT_DATA_DIR, or PostgreSQL at
--database-url / NCHAT_DATABASE_URL):
  --messages N     messages to write (default ${DEFAULT_PARAMS.messages.toLocaleString('en-US')}, ${SEED_LIMITS.messages.min.toLocaleString('en-US')}..${SEED_LIMITS.messages.max.toLocaleString('en-US')})
  --users N        accounts, including admin (owner) and searcher (default ${DEFAULT_PARAMS.users}, ${SEED_LIMITS.users.min}..${SEED_LIMITS.users.max})
  --channels N     named channels; DMs (~users/2) and group DMs (~users/20) come on top (default ${DEFAULT_PARAMS.channels})
  --seed N         the random seed: same options and seed, same workspace (default ${DEFAULT_PARAMS.seed})

The workspace: #general with everyone, channels shrinking in size with a Zipf-like share of the
talk, DMs, group DMs, threads, mentions, reactions, links, code, accented, CJK and RTL text, one
year of history. Every account's password is printed at the end. A relevance set (queries with
known answers) is planted and stored in the database (meta row seed.relevance).
Progress (rate, ETA) goes to stderr; a summary goes to stdout.

Scoring:
  --score          sign in as the seeded searcher and run every relevance query through
                   GET /api/search; prints precision@10, recall and the Relevance Score
  --url URL        the running server (default http://127.0.0.1:<NCHAT_PORT or 3000>)
                   The relevance set is read from the configured backend's database.

Server options accepted here: --data-dir, --database-url (and the NCHAT_* environment).`;

const OWN = new Set(['--messages', '--users', '--channels', '--seed', '--url']);

function intFlag(v: string | undefined, name: string, def: number): number {
  if (v === undefined) return def;
  const t = v.replace(/_/g, '');
  if (!/^\d+$/.test(t)) throw new ConfigError([`--${name}: expected a whole number, got "${v}"`]);
  return Number(t);
}

export async function seedCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const own: Record<string, string> = {};
  const server: Record<string, string> = {};
  let score = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--score') {
      score = true;
      continue;
    }
    if (!a.startsWith('--')) throw new ConfigError([`unexpected argument "${a}" (nchat seed --help)`]);
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    let value: string;
    if (eq > 0) value = a.slice(eq + 1);
    else if (i + 1 < args.length && !args[i + 1].startsWith('--')) value = args[++i];
    else throw new ConfigError([`${a} needs a value`]);
    (OWN.has(name) ? own : server)[name] = value;
  }
  const config = loadConfig(server);
  if (score) {
    const url = own['--url'] ?? `http://127.0.0.1:${config.port || 3000}`;
    if (!config.databaseUrl && !existsSync(join(resolve(config.dataDir), 'nchat.db'))) {
      process.stderr.write(`nchat seed --score: no database in ${config.dataDir} (give the seeded --data-dir or --database-url)\n`);
      return 2;
    }
    const { store } = await openConfiguredStore(config);
    let seeded: Awaited<ReturnType<typeof readSeed>>;
    try {
      seeded = await readSeed(store);
    } finally {
      await store.close();
    }
    if (!seeded) {
      process.stderr.write('nchat seed --score: this database holds no finished seed (run nchat seed first)\n');
      return 2;
    }
    const result = await scoreRelevance(url, seeded.relevance, seeded.info.password);
    process.stdout.write(`${formatScore(result)}\n`);
    return 0;
  }
  if (own['--url']) throw new ConfigError(['--url is only for --score']);
  const params: SeedParams = {
    messages: intFlag(own['--messages'], 'messages', DEFAULT_PARAMS.messages),
    users: intFlag(own['--users'], 'users', DEFAULT_PARAMS.users),
    channels: intFlag(own['--channels'], 'channels', DEFAULT_PARAMS.channels),
    seed: intFlag(own['--seed'], 'seed', DEFAULT_PARAMS.seed),
  };
  try {
    const r = await seedWorkspace(config, params);
    const i = r.info;
    const where = config.databaseUrl ? 'PostgreSQL' : `SQLite in ${config.dataDir}`;
    const lines = [
      r.reused
        ? `Reused the workspace already seeded in ${where} with these options (${i.seededAt}).`
        : `Seeded ${where}: ${i.params.messages.toLocaleString('en-US')} messages, ${i.params.users} users, ${i.params.channels} named channels (seed ${i.params.seed}).`,
      `Write: ${i.writeSeconds.toFixed(1)} s (${Math.round(i.writeRate).toLocaleString('en-US')} messages/s)${i.indexSeconds === null ? '; no search index in this build' : `; index rebuild ${i.indexSeconds.toFixed(1)} s; overall ${Math.round(i.totalRate).toLocaleString('en-US')} messages/s`}.`,
      i.index ? `Search index: ${i.index.documents.toLocaleString('en-US')} documents, ${(i.index.indexBytes / 1e6).toFixed(1)} MB.` : '',
      `Sign in as "${i.admin}" (owner), "${i.searcher}" or any seeded username, password "${i.password}".`,
      `Relevance set: ${r.relevance.queries.length} queries (nchat seed --score --url <server>).`,
    ].filter(Boolean);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } catch (e) {
    if (e instanceof SeedError) {
      process.stderr.write(`nchat seed: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
