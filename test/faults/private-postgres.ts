// A private PostgreSQL server for fault tests that stop and start it (not a test file): initdb in a
// temp dir, a free port, trust auth on 127.0.0.1 only. The shared PostgreSQL on 5432 is never
// touched. Run as root, the server runs as the `postgres` user (initdb refuses root). Returns a skip
// message when the binaries are missing (throws under CI=true / NCHAT_REQUIRE_SERVICES=1).
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/redis.js';

const required = process.env.CI === 'true' || process.env.NCHAT_REQUIRE_SERVICES === '1';

export interface PrivatePostgres {
  url: string;
  /** `pg_ctl stop -m immediate`: no checkpoint, every backend killed (recovery from WAL at the next start). */
  crash(): void;
  start(): void;
  stop(): void;
}

function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const v = readdirSync(root).sort().at(-1);
  return v && existsSync(join(root, v, 'bin', 'initdb')) ? join(root, v, 'bin') : undefined;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres | string> {
  const bin = binDir();
  if (!bin) {
    const msg = 'PostgreSQL server binaries not found under /usr/lib/postgresql; skipping the PostgreSQL restart test';
    if (required) throw new Error(msg);
    return msg;
  }
  const root = process.getuid?.() === 0;
  const pgUser = root ? spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }) : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'nchat-pg-'));
  if (root) {
    const uid = Number(pgUser?.stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const run = (cmd: string, args: string[]) => {
    const full = root ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args];
    const r = spawnSync(full[0] as string, full[1] as string[], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  };
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=50`;
  const start = () => run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    crash: () => run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']),
    start,
    stop: () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        /* already stopped */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
