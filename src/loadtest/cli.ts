// `nchat loadtest`: argument parsing, help, Ctrl-C handling and the exit status
// (0 every threshold held, 1 a threshold failed / the run failed / interrupted, 2 usage error).
import { readFileSync } from 'node:fs';
import { profileConfig, applyPatch, setToPatch, PROFILES, type LoadtestConfig } from './config.js';
import { SCENARIOS } from './registry.js';
import { runLoadtest, type RunOptions } from './runner.js';
import { defaultRunDir } from './output.js';
import type { CapacityOptions } from './capacity.js';
import { join } from 'node:path';

export const HELP = `nchat loadtest — load-test an ɳChat server and write a run directory

Usage:
  nchat loadtest --target http://host:port[,http://host2:port] [options]
  nchat loadtest --spawn sqlite|postgres [--redis] [--nodes N] [options]

Target:
  --target URLS           running server(s); several nodes comma-separated (clients are spread round-robin)
  --spawn sqlite|postgres start ɳChat in child processes (fresh data dir / fresh database), stop it after
  --redis                 with --spawn postgres: fan out through Redis
  --nodes N               with --spawn postgres: number of nodes (default 1)
  --database-url URL      PostgreSQL: admin URL for --spawn (default postgres://postgres@127.0.0.1:5432/postgres),
                          or the target's database for the collectors with --target
  --redis-url URL         Redis for --spawn --redis (default redis://127.0.0.1:6379), or the target's for the collectors
  --admin LOGIN:PASSWORD  owner/admin account on a target that already has one (bulk setup)
  --keep                  keep the spawned data dir / database

Load:
  --profile smoke|quick|full|soak   default smoke. smoke < 90 s (CI); quick ~10 min incl. 10,000 users; full = the
                          template; soak = a steady mixed load (ws: 5,000 users chatting 1 msg/min, api: 20 VUs at
                          200 ms think time, at the same time) held for --duration (default 1h), with the trends of
                          server and generator memory, event-loop delay and p95 latency after soak.warmup (120 s)
                          judged flat or not (thresholds soak_*; src/loadtest/trends.ts)
  --scenarios ws,messages,api,files,search  which scenarios, in order (default all). search runs over a workspace
                          made by nchat seed (search.seed: smoke 5,000 messages, quick/full 1M): with --spawn it is
                          seeded, or copied from the seed cache (NCHAT_SEED_CACHE), before the nodes start
  --config FILE           JSON overrides, deep-merged onto the profile (e.g. {"messages":{"rate":500}})
  --set KEY=VALUE         one override by dotted path, repeatable (e.g. --set ws.stages='[{"duration":"30s","target":500}]')
  --users N               ws.users (stage targets scale with it)   --rate N   messages.rate (msg/s)
  --vus N                 api.vus                 --duration D      messages.duration and api.duration (e.g. 90s, 5m);
                                                                    with --profile soak: the hold, soak.duration
  --channel-size N        ws.channelSize and messages.channelSize (fan-out)
  --workers N             generator worker processes per scenario (default 2)
  --threshold M=EXPRS     replace a metric's thresholds, e.g. --threshold 'msg_e2e=p(95)<25,p(99)<50'

Capacity search:
  --find-capacity         run in steps, multiplying users and message rate each step, until a step fails its
                          thresholds; OUT/step-<n>/ per step, OUT/capacity.json with Current Max (src/loadtest/capacity.ts)
  --capacity-steps N      most steps (default 5)      --capacity-factor F   multiplier per step (default 2)

Output:
  --out DIR               run directory (default loadtest-runs/<UTC time>-<profile>)
  --quiet                 no live progress line

Exit status: 0 every threshold held, 1 a threshold failed (or the run failed or was interrupted), 2 usage error.
Ctrl-C stops cleanly and keeps what was measured; a second Ctrl-C exits at once.
Profiling the generator: NCHAT_LOADTEST_WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" passes node flags to its
worker processes (to profile the server, start it yourself with node --cpu-prof and use --target).
`;

class UsageError extends Error {}

interface Parsed {
  opts: Omit<RunOptions, 'signal' | 'log' | 'progress' | 'argv'>;
  quiet: boolean;
  help: boolean;
  capacity?: CapacityOptions;
}

const VALUE_FLAGS = new Set([
  '--target',
  '--spawn',
  '--nodes',
  '--database-url',
  '--redis-url',
  '--admin',
  '--profile',
  '--scenarios',
  '--config',
  '--set',
  '--users',
  '--rate',
  '--vus',
  '--duration',
  '--channel-size',
  '--workers',
  '--threshold',
  '--out',
  '--capacity-steps',
  '--capacity-factor',
]);
const BOOL_FLAGS = new Set(['--redis', '--keep', '--quiet', '--help', '-h', '--find-capacity']);

export function parseArgs(argv: string[]): Parsed {
  const { single, multi, bools } = tokenize(argv);
  const help = bools.has('--help') || bools.has('-h');
  if (help) return { opts: {} as Parsed['opts'], quiet: true, help };
  const { profile, cfg } = configOf(single, multi);
  // A stage target above ws.users after --users lowered it is clipped by validation; a scenario name must exist.
  for (const s of cfg.scenarios)
    if (!SCENARIOS[s]) throw new UsageError(`unknown scenario "${s}" (known: ${Object.keys(SCENARIOS).join(', ')})`);
  const target = single['--target']
    ?.split(',')
    .map((s) => s.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  const spawnStore = single['--spawn'];
  if (!!target === !!spawnStore) throw new UsageError('give exactly one of --target URL or --spawn sqlite|postgres');
  if (target)
    for (const t of target) {
      try {
        const u = new URL(t);
        if (!/^https?:$/.test(u.protocol)) throw new Error();
      } catch {
        throw new UsageError(`--target: not an http(s) URL: "${t}"`);
      }
    }
  if (spawnStore && spawnStore !== 'sqlite' && spawnStore !== 'postgres')
    throw new UsageError(`--spawn: expected sqlite or postgres, got "${spawnStore}"`);
  const nodes = single['--nodes'] ? Number(single['--nodes']) : 1;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 16) throw new UsageError('--nodes: expected an integer 1–16');
  if (spawnStore === 'sqlite' && (bools.has('--redis') || nodes > 1))
    throw new UsageError('--redis and --nodes > 1 need --spawn postgres (SQLite is one node)');
  if (!spawnStore && (bools.has('--redis') || single['--nodes'])) throw new UsageError('--redis and --nodes apply to --spawn');
  let admin: { login: string; password: string } | undefined;
  if (single['--admin']) {
    const i = single['--admin'].indexOf(':');
    if (i <= 0) throw new UsageError('--admin expects LOGIN:PASSWORD');
    admin = { login: single['--admin'].slice(0, i), password: single['--admin'].slice(i + 1) };
  }
  const opts: Parsed['opts'] = {
    cfg,
    target,
    spawn: spawnStore
      ? {
          store: spawnStore as 'sqlite' | 'postgres',
          redis: bools.has('--redis'),
          nodes,
          postgresUrl: single['--database-url'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
          redisUrl: single['--redis-url'] ?? 'redis://127.0.0.1:6379',
          keep: bools.has('--keep'),
        }
      : undefined,
    outDir: single['--out'] ?? defaultRunDir(profile),
    admin,
    databaseUrl: target ? single['--database-url'] : undefined,
    redisUrl: target ? single['--redis-url'] : undefined,
  };
  return { opts, quiet: bools.has('--quiet'), help: false, capacity: capacityOf(single, bools) };
}

function capacityOf(single: Flags['single'], bools: Set<string>): CapacityOptions | undefined {
  if (!bools.has('--find-capacity')) {
    if (single['--capacity-steps'] || single['--capacity-factor'])
      throw new UsageError('--capacity-steps and --capacity-factor need --find-capacity');
    return undefined;
  }
  const steps = Number(single['--capacity-steps'] ?? 5);
  const factor = Number(single['--capacity-factor'] ?? 2);
  if (!Number.isInteger(steps) || steps < 1 || steps > 20) throw new UsageError('--capacity-steps: expected an integer 1–20');
  if (!Number.isFinite(factor) || factor <= 1 || factor > 10)
    throw new UsageError('--capacity-factor: expected a number above 1 and at most 10');
  return { steps, factor };
}

interface Flags {
  single: Record<string, string>;
  multi: Record<string, string[]>;
  bools: Set<string>;
}

/** The flags as given: `--flag value` or `--flag=value`; each value flag at most once except --set and --threshold. */
function tokenize(argv: string[]): Flags {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = { '--set': [], '--threshold': [] };
  const bools = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let v: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    if (BOOL_FLAGS.has(a)) {
      if (v !== undefined) throw new UsageError(`${a} takes no value`);
      bools.add(a);
      continue;
    }
    if (!VALUE_FLAGS.has(a)) throw new UsageError(`unknown option ${a}`);
    if (v === undefined) {
      v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
    }
    if (a in multi) multi[a].push(v);
    else if (a in single) throw new UsageError(`${a} given twice`);
    else single[a] = v;
  }
  return { single, multi, bools };
}

/** The profile's config with --config, the shorthand flags, --set and --threshold applied in that order. */
function configOf(single: Flags['single'], multi: Flags['multi']): { profile: LoadtestConfig['profile']; cfg: LoadtestConfig } {
  const profile = (single['--profile'] ?? 'smoke') as LoadtestConfig['profile'];
  if (!PROFILES.includes(profile)) throw new UsageError(`--profile: expected ${PROFILES.join('|')}, got "${profile}"`);
  let cfg = profileConfig(profile);
  try {
    if (single['--config']) {
      let text: string;
      try {
        text = readFileSync(single['--config'], 'utf8');
      } catch (e) {
        throw new Error(`--config: cannot read ${single['--config']}: ${(e as Error).message}`);
      }
      let patch: unknown;
      try {
        patch = JSON.parse(text);
      } catch (e) {
        throw new Error(`--config: ${single['--config']} is not JSON: ${(e as Error).message}`);
      }
      cfg = applyPatch(cfg, patch);
    }
    const patches: Record<string, unknown>[] = [];
    if (single['--scenarios'])
      patches.push({
        scenarios: single['--scenarios']
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      });
    if (single['--workers']) patches.push({ workers: single['--workers'] });
    if (single['--users']) {
      // The shorthand keeps the profile's stage shape: targets scale with the new user count.
      const n = Number(single['--users']);
      const scale = Number.isFinite(n) && n > 0 ? n / cfg.ws.users : 1;
      patches.push({
        ws: {
          users: single['--users'],
          stages: cfg.ws.stages.map((s) => ({ duration: s.duration, target: Math.min(n, Math.round(s.target * scale)) })),
        },
      });
    }
    if (single['--rate']) patches.push({ messages: { rate: single['--rate'] } });
    if (single['--vus']) patches.push({ api: { vus: single['--vus'] } });
    // In the soak profile --duration is the hold (soak.duration; ws.stages and api.duration follow it).
    if (single['--duration'])
      patches.push(
        profile === 'soak'
          ? { soak: { duration: single['--duration'] } }
          : { messages: { duration: single['--duration'] }, api: { duration: single['--duration'] } },
      );
    if (single['--channel-size'])
      patches.push({ ws: { channelSize: single['--channel-size'] }, messages: { channelSize: single['--channel-size'] } });
    for (const s of multi['--set']) patches.push(setToPatch(s));
    for (const t of multi['--threshold']) {
      const eq = t.indexOf('=');
      if (eq <= 0) throw new Error(`--threshold expects METRIC=EXPR[,EXPR], got "${t}"`);
      const exprs = t
        .slice(eq + 1)
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      patches.push({ thresholds: { [t.slice(0, eq).trim()]: exprs } });
    }
    for (const p of patches) cfg = applyPatch(cfg, p);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return { profile, cfg };
}

/**
 * The performance report of a run (nchat report). Its failure must not lose the run:
 * summary.json/summary.md are already written, and the exit status stays the run's.
 */
async function writeReport(dir: string, log: (m: string) => void): Promise<void> {
  try {
    const { buildReport } = await import('../report/index.js');
    const rep = await buildReport(dir);
    log(`report: ${dir}/report.md and report.html, ${rep.charts} charts (against the template's targets: ${rep.status})`);
  } catch (e) {
    log(`report failed (the run's data and summary.md are kept; rebuild with: nchat report ${dir}): ${(e as Error).message}`);
  }
}

export async function loadtestCommand(argv: string[]): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`nchat loadtest: ${e.message}\n\n${HELP}`);
      return 2;
    }
    throw e;
  }
  if (parsed.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const ac = new AbortController();
  const onSigint = () => {
    if (ac.signal.aborted) {
      process.stderr.write('\nsecond Ctrl-C: exiting now\n');
      process.exit(130);
    }
    process.stderr.write('\nCtrl-C: stopping; keeping what was measured (Ctrl-C again to exit at once)\n');
    ac.abort();
  };
  process.on('SIGINT', onSigint);
  const log = (m: string) => process.stderr.write(`loadtest: ${m}\n`);
  try {
    const { opts } = parsed;
    log(`profile ${opts.cfg.profile}, scenarios ${opts.cfg.scenarios.join(',')}, run dir ${opts.outDir}`);
    if (parsed.capacity) {
      const { findCapacity } = await import('./capacity.js');
      const c = await findCapacity({ ...opts, argv, signal: ac.signal, log, progress: !parsed.quiet }, parsed.capacity);
      for (const st of c.result.steps) await writeReport(join(opts.outDir, st.dir), log);
      return c.exitCode;
    }
    const r = await runLoadtest({ ...opts, argv, signal: ac.signal, log, progress: !parsed.quiet });
    const s = r.summary as {
      run: { status: string; errors: string[] };
      thresholds: { metric: string; expression: string; actual: number | null; verdict: string }[];
      notices: string[];
    };
    for (const n of s.notices) log(`note: ${n}`);
    for (const t of s.thresholds) log(`threshold ${t.metric} ${t.expression}: ${t.verdict} (actual ${t.actual ?? 'not measured'})`);
    for (const e of s.run.errors) log(`error: ${e.split('\n')[0]}`);
    log(`${s.run.status} — ${r.dir}/summary.md`);
    await writeReport(r.dir, log);
    return r.exitCode;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
