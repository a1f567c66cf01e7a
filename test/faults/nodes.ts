// ɳChat nodes as child processes for the fault tests (not a test file): `nchat serve` on a fixed
// port, so a node killed with SIGKILL can be restarted on the same port and data dir and its
// clients find it again at the same URL. Logs go to <logDir>/<name>.log (appended across restarts).
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOADTEST_ENV } from '../../src/loadtest/spawn.js';
import { freePort } from '../helpers/redis.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface NodeSpec {
  name: string;
  dataDir: string;
  logDir: string;
  databaseUrl?: string;
  redisUrl?: string;
  /** Extra NCHAT_* settings (the load-test allowance and cheap hashing are always on). */
  env?: Record<string, string>;
}

export interface ChildNode {
  readonly name: string;
  readonly port: number;
  readonly origin: string;
  readonly pid: number | undefined;
  readonly logFile: string;
  /** SIGKILL: no drain, no WAL checkpoint, no goodbye to the sockets. Resolves once the process is gone. */
  kill9(): Promise<void>;
  /** Starts the process again on the same port and data dir; resolves with ms until it printed "listening on". */
  restart(): Promise<number>;
  /** SIGTERM (graceful drain), SIGKILL after 15 s. */
  stop(): Promise<void>;
}

export async function startChildNode(spec: NodeSpec): Promise<ChildNode> {
  mkdirSync(spec.logDir, { recursive: true });
  const port = await freePort();
  const logFile = join(spec.logDir, `${spec.name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const args = ['serve', '--port', String(port), '--host', '127.0.0.1', '--data-dir', spec.dataDir];
  if (spec.databaseUrl) args.push('--database-url', spec.databaseUrl);
  if (spec.redisUrl) args.push('--redis-url', spec.redisUrl);
  const env = { ...process.env, ...LOADTEST_ENV, NCHAT_LOG_LEVEL: 'warn', ...spec.env };
  let child: ChildProcess | undefined;

  const launch = (): Promise<number> => {
    const t0 = performance.now();
    const c = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(ROOT, 'src', 'cli.ts'), ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    c.stderr!.pipe(log, { end: false });
    return new Promise((resolve, reject) => {
      let buf = '';
      let ready = false;
      const timer = setTimeout(() => {
        c.kill('SIGKILL');
        reject(new Error(`${spec.name} did not print "listening on" within 60 s (see ${logFile})`));
      }, 60_000);
      c.stdout!.on('data', (d: Buffer) => {
        log.write(d);
        if (ready) return;
        buf += d.toString();
        if (buf.includes('listening on')) {
          ready = true;
          buf = '';
          clearTimeout(timer);
          resolve(performance.now() - t0);
        }
      });
      c.once('exit', (code, sig) => {
        clearTimeout(timer);
        if (!ready) reject(new Error(`${spec.name} exited (${code ?? sig}) before it was ready; see ${logFile}`));
      });
    });
  };

  const waitExit = (c: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> =>
    new Promise((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      const t = setTimeout(() => c.kill('SIGKILL'), graceMs);
      c.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      c.kill(signal);
    });

  await launch();
  return {
    name: spec.name,
    port,
    origin: `http://127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    logFile,
    kill9: async () => {
      if (child) await waitExit(child, 'SIGKILL', 0);
    },
    restart: launch,
    stop: async () => {
      if (child) await waitExit(child, 'SIGTERM', 15_000);
      log.end();
    },
  };
}
