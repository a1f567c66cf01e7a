// nchat serve | migrate | loadtest | report | seed — each with --help.
import { ConfigError, loadConfig, schema } from './config.js';
import { VERSION } from './server/version.js';

const HELP = `ɳChat ${VERSION}

Usage: nchat <command> [options]

Commands:
  serve      start the server (SQLite in ./data unless --database-url is given)
  migrate    apply database migrations and exit
  backup     copy the SQLite database online, consistent while the server runs (nchat backup --help)
  loadtest   run the load-test scenarios against a ɳChat URL (nchat loadtest --help)
  report     write the performance report from a loadtest run directory (nchat report --help)
  seed       fill a workspace with generated data and a relevance set; --score rates search (nchat seed --help)

Run "nchat <command> --help" for options.`;

function serverHelp(cmd: string): string {
  const rows = Object.values(schema)
    .filter((o) => 'flag' in o && o.flag)
    .map((o) => `  ${(o as { flag: string }).flag.padEnd(20)} ${o.env.padEnd(26)} ${o.doc}`);
  return `Usage: nchat ${cmd} [options]\n\nOptions (flag, environment variable, meaning; all options: docs/CONFIG.md):\n${rows.join('\n')}`;
}

/** Splits "--name value" / "--name=value" pairs; a flag without a value is an error. */
export function parseFlags(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) throw new ConfigError([`unexpected argument "${a}"`]);
    const eq = a.indexOf('=');
    if (eq > 0) out[a.slice(0, eq)] = a.slice(eq + 1);
    else if (i + 1 < args.length && !args[i + 1].startsWith('--')) out[a] = args[++i];
    else throw new ConfigError([`${a} needs a value`]);
  }
  return out;
}

async function serve(args: string[]): Promise<number> {
  const config = loadConfig(parseFlags(args));
  const { startServer } = await import('./server/main.js');
  const server = await startServer(config);
  const dbDesc = config.databaseUrl ? 'PostgreSQL' : `SQLite in ${config.dataDir}`;
  process.stdout.write(`listening on ${server.url}\n`);
  process.stdout.write(
    `ɳChat ${VERSION} on ${dbDesc}. API at ${server.url}/api (OpenAPI: ${server.url}/api/openapi.json, WebSocket: ${server.url.replace('http', 'ws')}/ws).\n`,
  );
  process.stdout.write(
    `Sign in: the first account signed up becomes the workspace owner — POST ${server.url}/api/auth/signup {email, username, password}, then POST /api/auth/signin {login, password}.\n`,
  );
  let signals = 0;
  const stop = (sig: string) => {
    if (++signals > 1) process.exit(130);
    server.logger.info({ sig }, 'shutting down');
    const force = setTimeout(() => process.exit(1), config.shutdownGraceMs + 5000);
    force.unref();
    server.drain().then(
      () => process.exit(0),
      (e) => {
        server.logger.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return new Promise(() => {}); // runs until a signal
}

async function migrate(args: string[]): Promise<number> {
  const config = loadConfig(parseFlags(args));
  const { openStore } = await import('./server/main.js');
  const { pino } = await import('pino');
  const store = await openStore(config, pino({ level: config.logLevel }));
  const applied = await store.migrate();
  await store.close();
  process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'schema is up to date\n');
  return 0;
}

const BACKUP_HELP = `Usage: nchat backup --out FILE [--data-dir DIR]

Copies <data dir>/nchat.db to FILE with SQLite's online backup API: safe while the server runs,
the copy is the database as of one moment (every message acknowledged before it started).
FILE must not exist. Uploaded files (<data dir>/files) are not included: copy that folder too.
Restore: stop the server, put FILE at <new data dir>/nchat.db, start. PostgreSQL: use
pg_dump -Fc / pg_restore (docs/OPERATIONS.md).`;

async function backup(args: string[]): Promise<number> {
  const flags = parseFlags(args);
  const out = flags['--out'];
  delete flags['--out'];
  if (!out) throw new ConfigError(['--out FILE is required']);
  const config = loadConfig(flags);
  if (config.databaseUrl) {
    process.stderr.write('nchat backup copies SQLite; for PostgreSQL use pg_dump -Fc (docs/OPERATIONS.md)\n');
    return 2;
  }
  const { backupSqlite, BackupError } = await import('./server/store/sqlite/backup.js');
  try {
    const r = await backupSqlite(config.dataDir, out);
    process.stdout.write(`backup written: ${r.out} (${r.bytes} bytes, ${r.pages} pages, ${r.messages} messages, ${r.ms} ms)\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof BackupError)) throw e;
    process.stderr.write(`nchat backup: ${e.message}\n`);
    return 2;
  }
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  switch (cmd) {
    case 'serve':
    case 'migrate':
      if (wantsHelp) {
        process.stdout.write(serverHelp(cmd) + '\n');
        return 0;
      }
      return cmd === 'serve' ? serve(rest) : migrate(rest);
    case 'backup':
      if (wantsHelp) {
        process.stdout.write(BACKUP_HELP + '\n');
        return 0;
      }
      return backup(rest);
    case 'loadtest': {
      const { loadtestCommand } = await import('./loadtest/cli.js');
      return loadtestCommand(rest);
    }
    case 'seed': {
      const { seedCommand } = await import('./seed/cli.js');
      return seedCommand(rest);
    }
    case 'report': {
      const { reportCommand } = await import('./report/cli.js');
      return reportCommand(rest);
    }
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(HELP + '\n');
      return 0;
    case '--version':
      process.stdout.write(VERSION + '\n');
      return 0;
    default:
      process.stderr.write(`unknown command "${cmd}"\n\n${HELP}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (e) => {
    if (e instanceof ConfigError) {
      process.stderr.write(e.message + '\n');
      process.exit(2);
    }
    process.stderr.write(`nchat: ${e?.stack ?? e}\n`);
    process.exit(1);
  },
);
