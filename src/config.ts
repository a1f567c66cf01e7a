// One typed configuration schema: defaults, NCHAT_* environment names, CLI flags,
// validation and the generated docs/CONFIG.md all come from the table below.
// Precedence: CLI flag > environment variable > default.

import { isIP } from 'node:net';

type Kind = 'string' | 'int' | 'bool' | 'list' | 'url';

interface Option<K extends Kind> {
  kind: K;
  env: string;
  flag?: string;
  default: KindType<K> | undefined;
  doc: string;
  min?: number;
  max?: number;
  oneOf?: readonly string[];
  /** Extra rule; returns an error text or undefined. */
  check?: (v: KindType<K>) => string | undefined;
}
type KindType<K extends Kind> = K extends 'int' ? number : K extends 'bool' ? boolean : K extends 'list' ? string[] : string;

function opt<K extends Kind>(o: Option<K>): Option<K> {
  return o;
}

export const schema = {
  port: opt({
    kind: 'int',
    env: 'NCHAT_PORT',
    flag: '--port',
    default: 3000,
    min: 0,
    max: 65535,
    doc: 'TCP port the HTTP and WebSocket server listens on (0 = any free port).',
  }),
  host: opt({ kind: 'string', env: 'NCHAT_HOST', flag: '--host', default: '0.0.0.0', doc: 'Address to bind.' }),
  dataDir: opt({
    kind: 'string',
    env: 'NCHAT_DATA_DIR',
    flag: '--data-dir',
    default: './data',
    doc: 'Directory for the embedded SQLite database, the generated secrets and uploaded files. Created on first start.',
  }),
  databaseUrl: opt({
    kind: 'url',
    env: 'NCHAT_DATABASE_URL',
    flag: '--database-url',
    default: undefined,
    doc: 'postgres://… to run on PostgreSQL instead of the embedded SQLite file.',
    check: (v) => (/^postgres(ql)?:\/\//.test(v) ? undefined : 'must start with postgres:// or postgresql://'),
  }),
  dbPoolSize: opt({
    kind: 'int',
    env: 'NCHAT_DB_POOL_SIZE',
    flag: '--db-pool-size',
    default: 20,
    min: 1,
    max: 500,
    doc: 'PostgreSQL connection pool size per node.',
  }),
  sqliteSync: opt({
    kind: 'string',
    env: 'NCHAT_SQLITE_SYNC',
    default: 'normal',
    oneOf: ['normal', 'full'],
    doc: 'SQLite `synchronous` in WAL mode. `normal` survives a process crash (kill -9) with every acknowledged write; `full` also survives power loss, at a cost per commit.',
  }),
  sqliteSearchReaders: opt({
    kind: 'int',
    env: 'NCHAT_SQLITE_SEARCH_READERS',
    default: 2,
    min: 0,
    max: 16,
    doc: 'Threads that run searches on their own read-only SQLite connections, off the event loop (started on the first search). 0: searches run on the main connection. See docs/SEARCH.md.',
  }),
  redisUrl: opt({
    kind: 'url',
    env: 'NCHAT_REDIS_URL',
    flag: '--redis-url',
    default: undefined,
    doc: 'redis://… to fan out through Redis so several nodes behave as one server.',
    check: (v) => (/^rediss?:\/\//.test(v) ? undefined : 'must start with redis:// or rediss://'),
  }),
  jwtSecret: opt({
    kind: 'string',
    env: 'NCHAT_JWT_SECRET',
    default: undefined,
    doc: 'HMAC secret for access tokens (≥ 32 chars). When unset, one is generated once and kept in the data dir (SQLite) or the database (PostgreSQL), so every node shares it.',
    check: (v) => (v.length >= 32 ? undefined : 'must be at least 32 characters'),
  }),
  accessTokenTtlSec: opt({
    kind: 'int',
    env: 'NCHAT_ACCESS_TOKEN_TTL',
    default: 900,
    min: 30,
    max: 86400,
    doc: 'Access token lifetime in seconds.',
  }),
  refreshTokenTtlSec: opt({
    kind: 'int',
    env: 'NCHAT_REFRESH_TOKEN_TTL',
    default: 30 * 86400,
    min: 60,
    max: 365 * 86400,
    doc: 'Refresh token lifetime in seconds.',
  }),
  signinLimitPerAccount: opt({
    kind: 'int',
    env: 'NCHAT_SIGNIN_LIMIT_ACCOUNT',
    default: 10,
    min: 1,
    max: 1_000_000,
    doc: 'Failed sign-ins per account (username and email count together, from every IP) per 15 minutes; beyond it an IP that never signed in to the account gets 429, an IP that did is only slowed down (1 s per attempt).',
  }),
  signinLimitPerAccountIp: opt({
    kind: 'int',
    env: 'NCHAT_SIGNIN_LIMIT_ACCOUNT_IP',
    default: 5,
    min: 1,
    max: 1_000_000,
    doc: 'Failed sign-ins per (account, client IP; IPv6 by /64) per 15 minutes before that IP gets 429 for that account.',
  }),
  signupMode: opt({
    kind: 'string',
    env: 'NCHAT_SIGNUP_MODE',
    default: 'open',
    oneOf: ['open', 'invite'],
    doc: '`open`: anyone who can reach the server may sign up. `invite`: only the first account (the owner) signs up freely; later sign-ups need an invite from POST /api/admin/invites, or an admin creates the accounts.',
  }),
  signinLimitPerIp: opt({
    kind: 'int',
    env: 'NCHAT_SIGNIN_LIMIT_IP',
    default: 50,
    min: 1,
    max: 10_000_000,
    doc: 'Sign-in and sign-up attempts allowed per client IP per 15 minutes before 429. A load test raises this with an explicit allowance.',
  }),
  argon2MemoryKiB: opt({
    kind: 'int',
    env: 'NCHAT_ARGON2_MEMORY_KIB',
    default: 19456,
    min: 1024,
    max: 1_048_576,
    doc: 'argon2id memory cost (KiB). Default follows the OWASP minimum (19 MiB, t=2, p=1).',
  }),
  allowedOrigins: opt({
    kind: 'list',
    env: 'NCHAT_ALLOWED_ORIGINS',
    flag: '--allowed-origins',
    default: [],
    doc: "Comma-separated Origin values allowed to open /ws from a browser, besides the server's own origin. Requests without Origin (non-browser clients) are allowed.",
  }),
  bodyLimitBytes: opt({
    kind: 'int',
    env: 'NCHAT_BODY_LIMIT',
    default: 256 * 1024,
    min: 1024,
    max: 64 * 1024 * 1024,
    doc: 'Largest JSON request body in bytes; larger bodies get 413.',
  }),
  wsMaxPayload: opt({
    kind: 'int',
    env: 'NCHAT_WS_MAX_PAYLOAD',
    default: 64 * 1024,
    min: 1024,
    max: 4 * 1024 * 1024,
    doc: 'Largest WebSocket frame a client may send, in bytes.',
  }),
  wsMaxBuffered: opt({
    kind: 'int',
    env: 'NCHAT_WS_MAX_BUFFERED',
    default: 2 * 1024 * 1024,
    min: 64 * 1024,
    max: 64 * 1024 * 1024,
    doc: 'A connection whose unsent bytes exceed this is closed with code 4008 (resume).',
  }),
  requestTimeoutMs: opt({
    kind: 'int',
    env: 'NCHAT_REQUEST_TIMEOUT_MS',
    default: 30_000,
    min: 100,
    max: 3_600_000,
    doc: 'Whole HTTP request (headers and body) must arrive within this many ms, else 408 and the connection is closed (slow-body defence). Does not apply to a WebSocket once upgraded.',
  }),
  headersTimeoutMs: opt({
    kind: 'int',
    env: 'NCHAT_HEADERS_TIMEOUT_MS',
    default: 10_000,
    min: 100,
    max: 600_000,
    doc: 'HTTP request headers must arrive within this many ms (slow-headers defence); capped at NCHAT_REQUEST_TIMEOUT_MS.',
  }),
  keepAliveTimeoutMs: opt({
    kind: 'int',
    env: 'NCHAT_KEEPALIVE_TIMEOUT_MS',
    default: 72_000,
    min: 100,
    max: 600_000,
    doc: "An idle keep-alive HTTP connection is closed after this many ms (keep it above a load balancer's idle timeout).",
  }),
  idleTimeoutMs: opt({
    kind: 'int',
    env: 'NCHAT_IDLE_TIMEOUT_MS',
    default: 120_000,
    min: 0,
    max: 3_600_000,
    doc: 'An HTTP socket with no traffic either way for this many ms is destroyed (0 = never). WebSockets turn it off once upgraded (they have their own ping).',
  }),
  trustProxy: opt({
    kind: 'list',
    env: 'NCHAT_TRUST_PROXY',
    default: [],
    doc: 'Comma-separated addresses or CIDR ranges of reverse proxies to trust: only when the direct peer is one of them is the client address taken from X-Forwarded-For (per-IP rate limits key on it). Empty = trust none, X-Forwarded-For is ignored.',
    check: (v) => {
      const bad = v.filter((e) => !isIpOrCidr(e));
      return bad.length ? `not an IP address or CIDR range: ${bad.join(', ')}` : undefined;
    },
  }),
  metricsPort: opt({
    kind: 'int',
    env: 'NCHAT_METRICS_PORT',
    default: 0,
    min: 0,
    max: 65535,
    doc: 'Serve /metrics (Prometheus, no auth) on a separate listener on this port at NCHAT_METRICS_HOST; 0 = no separate listener. /metrics is never public on the main port unless NCHAT_METRICS_TOKEN is set.',
  }),
  metricsHost: opt({
    kind: 'string',
    env: 'NCHAT_METRICS_HOST',
    default: '127.0.0.1',
    doc: 'Address of the separate /metrics listener (see NCHAT_METRICS_PORT).',
  }),
  metricsToken: opt({
    kind: 'string',
    env: 'NCHAT_METRICS_TOKEN',
    default: undefined,
    doc: 'When set, /metrics on the main port answers requests carrying `Authorization: Bearer <token>` (401 otherwise); when unset it is 404 there.',
    check: (v) => (v.length >= 16 ? undefined : 'must be at least 16 characters'),
  }),
  sendLimit: opt({
    kind: 'int',
    env: 'NCHAT_SEND_LIMIT',
    default: 30,
    min: 1,
    max: 1_000_000,
    doc: 'Messages one user may send per NCHAT_SEND_LIMIT_WINDOW_MS, REST and WebSocket together (429 RATE_LIMITED beyond); shared across nodes through Redis when NCHAT_REDIS_URL is set. Lifted by NCHAT_LOADTEST_ALLOWANCE.',
  }),
  sendLimitWindowMs: opt({
    kind: 'int',
    env: 'NCHAT_SEND_LIMIT_WINDOW_MS',
    default: 10_000,
    min: 100,
    max: 3_600_000,
    doc: 'Window of NCHAT_SEND_LIMIT in ms (fixed window).',
  }),
  channelCreateLimit: opt({
    kind: 'int',
    env: 'NCHAT_CHANNEL_CREATE_LIMIT',
    default: 20,
    min: 1,
    max: 1_000_000,
    doc: 'Channels one user may create per hour (429 RATE_LIMITED beyond); workspace owners/admins are exempt. Shared across nodes through Redis when configured.',
  }),
  searchLimit: opt({
    kind: 'int',
    env: 'NCHAT_SEARCH_LIMIT',
    default: 60,
    min: 1,
    max: 1_000_000,
    doc: 'Searches (GET /api/search and /api/search/suggest together) one user may make per NCHAT_SEARCH_LIMIT_WINDOW_MS (429 RATE_LIMITED beyond); shared across nodes through Redis when configured. Lifted by NCHAT_LOADTEST_ALLOWANCE.',
  }),
  searchLimitWindowMs: opt({
    kind: 'int',
    env: 'NCHAT_SEARCH_LIMIT_WINDOW_MS',
    default: 60_000,
    min: 100,
    max: 3_600_000,
    doc: 'Window of NCHAT_SEARCH_LIMIT in ms (fixed window).',
  }),
  searchWindow: opt({
    kind: 'int',
    env: 'NCHAT_SEARCH_WINDOW',
    // 500, not 1,000: at 1M messages on the 2-core machine PostgreSQL's p95 at 100 clients went
    // from 41–56 ms (text) and 42–65 ms (filtered) to 26–28 and 29–44 ms, alternated runs
    // 2026-12-01 (docs/PERFORMANCE.md); a common word's candidates are rows read with their text.
    default: 500,
    min: 50,
    max: 100_000,
    doc: "Candidates one search ranks: the newest matches in the caller's channels. Bounds the work of a search on a very common word, the deepest page (offset + limit ≤ this: 25 pages of 20 at the default) and `total` (exact below it). See docs/SEARCH.md.",
  }),
  searchTimeoutMs: opt({
    kind: 'int',
    env: 'NCHAT_SEARCH_TIMEOUT_MS',
    default: 2000,
    min: 10,
    max: 600_000,
    doc: 'PostgreSQL statement_timeout of one search query (400 BAD_REQUEST "narrow the search" when hit). SQLite cannot interrupt a statement; there NCHAT_SEARCH_WINDOW is the bound.',
  }),
  reactionsPerUserLimit: opt({
    kind: 'int',
    env: 'NCHAT_REACTIONS_PER_USER',
    default: 20,
    min: 1,
    max: 10_000,
    doc: 'Distinct reactions one user may put on one message (409 LIMIT_REACHED beyond).',
  }),
  emojiPerMessageLimit: opt({
    kind: 'int',
    env: 'NCHAT_EMOJI_PER_MESSAGE',
    default: 50,
    min: 1,
    max: 10_000,
    doc: 'Distinct emoji one message may carry (409 LIMIT_REACHED for a new one beyond; existing ones can still be added to).',
  }),
  wsPingIntervalMs: opt({
    kind: 'int',
    env: 'NCHAT_WS_PING_INTERVAL',
    default: 25_000,
    min: 100,
    max: 600_000,
    doc: 'Server ping interval; a connection that misses two pongs is terminated.',
  }),
  wsResumeLimit: opt({
    kind: 'int',
    env: 'NCHAT_WS_RESUME_LIMIT',
    default: 200,
    min: 1,
    max: 10_000,
    doc: 'Most messages replayed per channel on resume; beyond it the server answers limited:true.',
  }),
  wsFramesPerSec: opt({
    kind: 'int',
    env: 'NCHAT_WS_FRAMES_PER_SEC',
    default: 50,
    min: 1,
    max: 100_000,
    doc: 'Client frames allowed per second per connection (burst = 2×) before error RATE_LIMITED; sustained abuse closes with 1008.',
  }),
  wsResumeMaxBytes: opt({
    kind: 'int',
    env: 'NCHAT_WS_RESUME_MAX_BYTES',
    default: 1024 * 1024,
    min: 16 * 1024,
    max: 64 * 1024 * 1024,
    doc: 'Most bytes (JSON) of messages replayed by one resume op, over all its channels (at least one message is always sent; capped at half of NCHAT_WS_MAX_BUFFERED). Beyond it the server answers limited:true with a cursor and the client resumes again from there.',
  }),
  wsMaxSocketsPerUser: opt({
    kind: 'int',
    env: 'NCHAT_WS_MAX_SOCKETS_PER_USER',
    default: 20,
    min: 1,
    max: 100_000,
    doc: 'Open WebSocket connections allowed per user on one node; a further upgrade is refused with 429 TOO_MANY_CONNECTIONS.',
  }),
  notifyChannelMaxMembers: opt({
    kind: 'int',
    env: 'NCHAT_NOTIFY_CHANNEL_MAX',
    default: 1000,
    min: 0,
    max: 1_000_000,
    doc: '@channel/@here create a notification per member only in channels up to this size (as Slack warns in large channels); the mention still counts.',
  }),
  reportsDir: opt({
    kind: 'string',
    env: 'NCHAT_REPORTS_DIR',
    default: 'loadtest-runs',
    doc: 'Folder of load-test runs the admin performance page lists (GET /api/admin/reports); `nchat loadtest` writes there by default. Relative to the working directory.',
  }),
  uploadMaxBytes: opt({
    kind: 'int',
    env: 'NCHAT_UPLOAD_MAX_BYTES',
    default: 50 * 1024 * 1024,
    min: 1,
    max: 5 * 1024 * 1024 * 1024,
    doc: 'Largest file one upload (POST /api/files) may carry, in bytes; larger uploads get 413 PAYLOAD_TOO_LARGE and nothing is kept.',
  }),
  uploadQuotaBytes: opt({
    kind: 'int',
    env: 'NCHAT_UPLOAD_QUOTA_BYTES',
    default: 10 * 1024 * 1024 * 1024,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    doc: 'Total bytes of files one user may have uploaded (0 = no quota); an upload past it gets 413 QUOTA_EXCEEDED and nothing is kept.',
  }),
  uploadAllowedTypes: opt({
    kind: 'list',
    env: 'NCHAT_UPLOAD_ALLOWED_TYPES',
    default: ['*'],
    doc: 'Comma-separated types accepted for upload, matched against the type sniffed from the bytes (`*`, `image/*`, `application/pdf`; unrecognised content is `application/octet-stream`); others get 415. Whatever is accepted, only JPEG, PNG, WebP and GIF are ever served inline.',
  }),
  uploadLimit: opt({
    kind: 'int',
    env: 'NCHAT_UPLOAD_LIMIT',
    default: 60,
    min: 1,
    max: 1_000_000,
    doc: 'Uploads one user may start per minute (429 RATE_LIMITED beyond), over all nodes together when NCHAT_REDIS_URL is set, per node without. Lifted by NCHAT_LOADTEST_ALLOWANCE.',
  }),
  uploadTimeoutMs: opt({
    kind: 'int',
    env: 'NCHAT_UPLOAD_TIMEOUT_MS',
    default: 600_000,
    min: 1000,
    max: 86_400_000,
    doc: 'An authenticated upload (POST /api/files) must arrive within this many ms, in place of NCHAT_REQUEST_TIMEOUT_MS (50 MB in 30 s needs 14 Mbit/s); a stalled one is still cut by NCHAT_IDLE_TIMEOUT_MS. The connection is closed after every upload.',
  }),
  uploadFsync: opt({
    kind: 'bool',
    env: 'NCHAT_UPLOAD_FSYNC',
    default: false,
    doc: 'fsync every uploaded file before it is recorded, so it survives power loss (not only a process crash). Off by default: it cuts upload throughput by more than half on this class of disk (docs/OPERATIONS.md).',
  }),
  uploadUnattachedTtlMs: opt({
    kind: 'int',
    env: 'NCHAT_UPLOAD_UNATTACHED_TTL_MS',
    default: 24 * 3600 * 1000,
    min: 0,
    max: 365 * 24 * 3600 * 1000,
    doc: 'An uploaded file never attached to a message is deleted (row and bytes) once it is this many ms old; a current avatar is never deleted. Every node sweeps, every TTL/10 (at most every 15 min); 0 = keep unattached files forever.',
  }),
  thumbnailConcurrency: opt({
    kind: 'int',
    env: 'NCHAT_THUMBNAIL_CONCURRENCY',
    // 3, not 2: on the 2-core machine with uploads saturating it, 2 render threads got too small
    // a share of the CPU and the queue grew all run (processing p95 7.4–9.1 s); 3 kept up (0.9 s),
    // upload throughput and p95 unchanged, RSS peak +15–20 MB (docs/PERFORMANCE.md, 2026-12-02).
    default: 3,
    min: 1,
    max: 64,
    doc: 'Image thumbnails made at once per node (a queue off the request path; the rest wait).',
  }),
  imageMaxPixels: opt({
    kind: 'int',
    env: 'NCHAT_IMAGE_MAX_PIXELS',
    default: 40_000_000,
    min: 1,
    max: 1_000_000_000,
    doc: 'Images with more pixels than this (width × height from the header) are stored as files without a thumbnail and are never decoded (decompression-bomb defence).',
  }),
  logLevel: opt({
    kind: 'string',
    env: 'NCHAT_LOG_LEVEL',
    flag: '--log-level',
    default: 'info',
    oneOf: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    doc: 'pino log level.',
  }),
  shutdownGraceMs: opt({
    kind: 'int',
    env: 'NCHAT_SHUTDOWN_GRACE',
    default: 10_000,
    min: 0,
    max: 600_000,
    doc: 'On SIGTERM: how long to drain before closing stores.',
  }),
  loadtestAllowance: opt({
    kind: 'bool',
    env: 'NCHAT_LOADTEST_ALLOWANCE',
    default: false,
    doc: 'Lifts sign-in/sign-up, message-send and channel-create rate limits and per-connection frame limits for a load-test run. Logged loudly at start; never for production.',
  }),
} as const;

type Schema = typeof schema;
export type Config = {
  [K in keyof Schema]: Schema[K]['default'] extends undefined ? KindType<Schema[K]['kind']> | undefined : KindType<Schema[K]['kind']>;
};
/** An IPv4/IPv6 address, optionally with a /prefix length (for NCHAT_TRUST_PROXY). */
function isIpOrCidr(v: string): boolean {
  const [addr, bits, extra] = v.split('/');
  const kind = isIP(addr);
  if (!kind || extra !== undefined) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (kind === 4 ? 32 : 128));
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super('Invalid configuration:\n' + problems.map((p) => `  - ${p}`).join('\n'));
  }
}

function parseValue(kind: Kind, raw: string): { ok: true; value: unknown } | { ok: false; why: string } {
  switch (kind) {
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) return { ok: false, why: `expected a whole number, got "${raw}"` };
      return { ok: true, value: Number(raw) };
    }
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return { ok: true, value: true };
      if (['0', 'false', 'no', 'off', ''].includes(v)) return { ok: true, value: false };
      return { ok: false, why: `expected true/false, got "${raw}"` };
    }
    case 'list':
      return {
        ok: true,
        value: raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      };
    default:
      return { ok: true, value: raw };
  }
}

/**
 * Builds the config from flags (already split into `--name value` pairs), env and defaults.
 * Throws ConfigError listing every problem at once, so an operator fixes them in one go.
 */
export function loadConfig(flags: Record<string, string> = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  const knownFlags = new Set(
    Object.values(schema)
      .map((o) => (o as Option<Kind>).flag)
      .filter(Boolean),
  );
  for (const f of Object.keys(flags)) if (!knownFlags.has(f)) problems.push(`unknown option ${f}`);
  for (const [key, o] of Object.entries(schema) as [string, Option<Kind>][]) {
    const source = o.flag && flags[o.flag] !== undefined ? o.flag : env[o.env] !== undefined && env[o.env] !== '' ? o.env : undefined;
    if (!source) {
      out[key] = o.default;
      continue;
    }
    const raw = source === o.flag ? flags[o.flag!] : env[o.env]!;
    const parsed = parseValue(o.kind, raw);
    if (!parsed.ok) {
      problems.push(`${source}: ${parsed.why}`);
      continue;
    }
    const v = parsed.value as never;
    if (o.kind === 'int') {
      if (o.min !== undefined && (v as number) < o.min) problems.push(`${source}: must be ≥ ${o.min}, got ${v}`);
      if (o.max !== undefined && (v as number) > o.max) problems.push(`${source}: must be ≤ ${o.max}, got ${v}`);
    }
    if (o.oneOf && !o.oneOf.includes(v as string)) problems.push(`${source}: must be one of ${o.oneOf.join(', ')}, got "${v}"`);
    const extra = o.check?.(v);
    if (extra) problems.push(`${source}: ${extra}`);
    out[key] = v;
  }
  if (problems.length) throw new ConfigError(problems);
  return out as Config;
}

/** docs/CONFIG.md, generated from the schema (npm run docs:config). */
export function configMarkdown(): string {
  const rows = (Object.entries(schema) as [string, Option<Kind>][]).map(([, o]) => {
    const def =
      o.default === undefined ? '—' : Array.isArray(o.default) ? (o.default.length ? o.default.join(',') : '(empty)') : String(o.default);
    const range =
      o.kind === 'int' && (o.min !== undefined || o.max !== undefined)
        ? ` (${o.min ?? ''}–${o.max ?? ''})`
        : o.oneOf
          ? ` (${o.oneOf.join(' \\| ')})`
          : '';
    return `| \`${o.env}\` | ${o.flag ? `\`${o.flag}\`` : '—'} | ${o.kind}${range} | \`${def}\` | ${o.doc} |`;
  });
  return [
    '# ɳChat configuration',
    '',
    'Generated from `src/config.ts` by `npm run docs:config`; do not edit by hand.',
    'Precedence: command-line flag, then environment variable, then default. A bad value stops startup with a list of every problem.',
    '',
    '| env | flag | type | default | meaning |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
