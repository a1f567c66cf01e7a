// Debian's nginx in front of ɳChat nodes, for the tests (not a test file): its own prefix and
// configuration in a temp dir, a free port, `daemon off`, using ops/nginx/nchat.conf as shipped
// except for the `listen` line and the upstream's `server` lines.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/redis.js';

const CONF = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ops', 'nginx', 'nchat.conf');
const required = process.env.CI === 'true' || process.env.NCHAT_REQUIRE_SERVICES === '1';

/** false when nginx can run; else the skip message (throws under CI=true / NCHAT_REQUIRE_SERVICES=1). */
export function nginxSkip(): string | false {
  const v = spawnSync('nginx', ['-v']);
  if (!v.error && v.status === 0) return false;
  const msg = 'nginx not installed (apt-get install nginx-light); skipping the tests through nginx';
  if (required) throw new Error(`${msg} — but CI=true / NCHAT_REQUIRE_SERVICES=1 requires it`);
  return msg;
}

/** ops/nginx/nchat.conf with our port and upstreams (the rest verbatim). */
export function siteConfig(port: number, upstreams: string[]): string {
  const src = readFileSync(CONF, 'utf8');
  const lines = upstreams.map((u) => `    server ${u} max_fails=1 fail_timeout=5s;`).join('\n');
  const out = src
    .replace(/^ {4}listen 80;$/m, `    listen 127.0.0.1:${port};`)
    .replace(/(upstream nchat \{[\s\S]*?)((?:^ {4}server .*\n)+)/m, (_m, head: string) => `${head}${lines}\n`);
  if (!out.includes(`listen 127.0.0.1:${port};`) || !out.includes(lines))
    throw new Error('ops/nginx/nchat.conf: listen or upstream lines not found');
  return out;
}

export interface Nginx {
  origin: string;
  errorLog: string;
  stop(): Promise<void>;
}

export async function startNginx(upstreams: string[]): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'nchat-nginx-'));
  // Run as root, nginx's workers are `nobody`: they must reach the temp paths (request bodies
  // over client_body_buffer_size are spooled there).
  chmodSync(dir, 0o755);
  const port = await freePort();
  writeFileSync(join(dir, 'nchat.conf'), siteConfig(port, upstreams));
  const errorLog = join(dir, 'error.log');
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${errorLog} warn;`,
      'events { worker_connections 4096; }',
      'http {',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, t)};`),
      `  include ${join(dir, 'nchat.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  const test = spawnSync('nginx', ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' });
  if (test.status !== 0) throw new Error(`nginx -t refused the configuration:\n${test.stderr}`);
  const child: ChildProcess = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  for (let i = 0; ; i++) {
    if (await listening(port)) break;
    if (child.exitCode !== null || i > 200) throw new Error(`nginx did not listen on ${port}; see ${errorLog}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    origin: `http://127.0.0.1:${port}`,
    errorLog,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGQUIT');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
