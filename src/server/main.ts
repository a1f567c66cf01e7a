// Composition root: the only place that asks which backend is configured. Picks the store
// (SQLite file by default, PostgreSQL with a URL), the broker (memory, or Redis with a URL),
// builds, in dependency order, presence (from the broker), the services (which read presence for
// @here), the HTTP app and the realtime layer (which feeds presence), and owns graceful shutdown.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import type { Config } from '../config.js';
import { buildApp } from './app.js';
import type { Broker } from './broker/broker.js';
import { MemoryBroker } from './broker/memory-broker.js';
import { createRedisBroker } from './broker/redis-broker.js';
import { Metrics, startMetricsServer } from './http/metrics.js';
import { timedStore } from './store/timed-store.js';
import { buildServices, type Services } from './services/index.js';
import type { ServiceDeps } from './services/context.js';
import { shareLimitsThroughRedis } from './services/shared-limits.js';
import type { Store } from './store/store.js';
import { openSqliteStore } from './store/sqlite/index.js';
import { openPostgresStore } from './store/postgres/index.js';
import { attachRealtime, type Realtime } from './realtime/index.js';
import { Presence, defaultPresenceTiming, type PresenceTiming } from './realtime/presence.js';
import { VERSION } from './version.js';
import { LocalBlobStore } from './files/local-blob-store.js';
import { Thumbnailer } from './files/thumbnails.js';
import { TusStore } from './files/tus-store.js';
import { StoreReadiness } from './http/readiness.js';
import { healthPing } from './store/health-ping.js';

export interface RunningServer {
  url: string;
  port: number;
  config: Config;
  store: Store;
  broker: Broker;
  services: Services;
  realtime: Realtime;
  logger: Logger;
  /** The separate /metrics listener's URL when NCHAT_METRICS_PORT is set. */
  metricsUrl: string | undefined;
  /** SIGTERM path: health 503, no new upgrades, flush, close sockets with 1012, close HTTP, broker, store. */
  drain(): Promise<void>;
  /** Same as drain(); kept for symmetry with other resources in tests. */
  close(): Promise<void>;
}

export async function openStore(config: Config, logger: Logger): Promise<Store> {
  if (config.databaseUrl) return openPostgresStore({ url: config.databaseUrl, poolSize: config.dbPoolSize });
  const dir = resolve(config.dataDir);
  const file = join(dir, 'nchat.db');
  ownerOnly(dir, file, logger);
  logger.debug({ file }, 'opening SQLite');
  return openSqliteStore({ file, sync: config.sqliteSync as 'normal' | 'full', searchReaders: config.sqliteSearchReaders });
}

/**
 * The data dir holds the database, and with it the generated JWT secret and password hashes:
 * a new dir is created 0700, and the database file is created 0600 before SQLite opens it
 * (SQLite gives its -wal and -shm files the database file's mode). Existing database files are
 * set to 0600; an existing dir that others can read is left alone (it may be shared on purpose)
 * but logged as a warning.
 */
function ownerOnly(dir: string, file: string, logger: Logger): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  else if (statSync(dir).mode & 0o077)
    logger.warn(
      { dir, mode: (statSync(dir).mode & 0o777).toString(8) },
      'data dir is readable by group/others; it holds the JWT secret and password hashes (chmod 700 it)',
    );
  closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}

async function openBroker(config: Config, logger: Logger): Promise<Broker> {
  return config.redisUrl ? createRedisBroker(config.redisUrl, logger) : new MemoryBroker();
}

/** The JWT secret: from config, else generated once and stored, so every node and restart agrees. */
async function jwtSecret(config: Config, store: Store): Promise<string> {
  return config.jwtSecret ?? store.meta.setIfAbsent('jwt_secret', randomBytes(48).toString('base64url'));
}

export interface StartOptions {
  logger?: Logger;
  /** Tests shorten presence debounces; production uses the defaults. */
  presenceTiming?: Partial<PresenceTiming>;
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const logger =
    opts.logger ?? pino({ level: config.logLevel, redact: ['req.headers.authorization', '*.password', '*.refreshToken', '*.accessToken'] });
  if (config.loadtestAllowance)
    logger.warn(
      'NCHAT_LOADTEST_ALLOWANCE is on: sign-in/sign-up, message-send and channel-create rate limits and WebSocket frame limits are lifted. Never in production.',
    );
  const rawStore = await openStore(config, logger);
  const applied = await rawStore.migrate();
  if (applied.length) logger.info({ applied }, 'migrations applied');
  const broker = await openBroker(config, logger);
  const metrics = new Metrics(rawStore);
  const store = timedStore(rawStore, metrics);
  const nodeId = (broker as { nodeId?: string }).nodeId ?? randomBytes(6).toString('hex');
  const presence = new Presence(broker, nodeId, { ...defaultPresenceTiming, ...opts.presenceTiming });
  const deps: ServiceDeps = { config, store, broker, logger, presence, now: () => new Date() };
  // File bytes: the local disk under the data dir (a volume every node shares when there are
  // several: docs/OPERATIONS.md). Another BlobStore (S3-compatible) would be chosen here.
  const blobs = await LocalBlobStore.open(join(resolve(config.dataDir), 'files'), { fsync: config.uploadFsync });
  const thumbnailer = new Thumbnailer({
    blobs,
    files: store.files,
    broker,
    logger,
    concurrency: config.thumbnailConcurrency,
    maxPixels: config.imageMaxPixels,
    registry: metrics.registry,
  });
  const tus = await TusStore.open(join(resolve(config.dataDir), 'files'), config.uploadTimeoutMs);
  const services = buildServices(deps, await jwtSecret(config, store), { blobs, thumbnailer, tus });
  services.search.observe = (kind, seconds) => metrics.searchDuration.labels(kind).observe(seconds);
  const resumed = await thumbnailer.resumePending();
  if (resumed) logger.info({ thumbnails: resumed }, 'thumbnails left pending by the last run re-queued');
  const sharedLimits = await shareLimitsThroughRedis(config, services, logger);

  let draining = false;
  const storePing = healthPing(rawStore, config.databaseUrl);
  const readiness = new StoreReadiness(storePing.ping);
  const app = await buildApp({
    config,
    services,
    metrics,
    logger,
    system: { version: VERSION, store: store.kind, broker: broker.kind, draining: () => draining, storeReady: () => readiness.check() },
  });
  const realtime = attachRealtime(app.server, { config, broker, services, presence, logger });
  if (store.indexStats) {
    const idx = store.indexStats.bind(store);
    metrics.gauge(
      'nchat_search_index_seconds_total',
      'Seconds the search indexer ran after commits on the event loop, since start (counter semantics; SQLite)',
      () => idx().busySec,
    );
    metrics.gauge(
      'nchat_search_indexed_total',
      'Messages indexed for search after commit, since start (counter semantics; SQLite)',
      () => idx().indexed,
    );
  }
  const pages = services.messages.pages;
  metrics.gauge(
    'nchat_history_page_hits',
    'Newest history pages served from the kept serialized page since start (counter semantics; SQLite only)',
    () => pages.hits,
  );
  metrics.gauge(
    'nchat_history_page_misses',
    'Newest history pages read and serialized into the kept pages since start (counter semantics; SQLite only)',
    () => pages.misses,
  );
  metrics.gauge('nchat_history_page_bytes', 'Bytes of serialized newest history pages kept', () => pages.size().bytes);
  metrics.gauge('nchat_ws_connections', 'Open WebSocket connections on this node', () => realtime.stats().connections);
  metrics.gauge('nchat_ws_users', 'Distinct users connected to this node', () => realtime.stats().users);
  metrics.gauge('nchat_ws_frames_sent', 'WebSocket frames sent since start (counter semantics)', () => realtime.stats().framesSent);
  metrics.gauge('nchat_ws_events_sent', 'Events sent in frames since start (counter semantics)', () => realtime.stats().eventsSent);
  metrics.gauge('nchat_ws_bytes_sent', 'WebSocket payload bytes sent since start (counter semantics)', () => realtime.stats().bytesSent);
  metrics.gauge(
    'nchat_ws_slow_consumer_closes',
    'Connections closed for a full send buffer (counter semantics)',
    () => realtime.stats().slowConsumerCloses,
  );
  metrics.gauge(
    'nchat_ws_serialize_failures',
    'Events that could not be serialized: connection closed 1011 or event dropped (counter semantics)',
    () => realtime.stats().serializeFailures,
  );
  metrics.gauge(
    'nchat_ws_queued_bytes_closes',
    'Connections closed 4008 for queued replies over the send-buffer bound (counter semantics)',
    () => realtime.stats().queuedBytesCloses,
  );
  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  let closing: Promise<void> | undefined;
  const drain = () =>
    (closing ??= (async () => {
      draining = true;
      logger.info('draining: health is 503, closing connections');
      const t0 = performance.now();
      const step = async (name: string, fn: () => Promise<unknown> | undefined) => {
        await fn();
        logger.debug({ step: name, ms: Math.round(performance.now() - t0) }, 'shutdown step done');
      };
      await step('realtime', () => realtime.drain());
      await step('presence', async () => presence.stop());
      await step('http', () => closeHttp(app, config.shutdownGraceMs));
      await step('metrics', () => metricsServer?.close());
      await step('thumbnails', () => thumbnailer.close());
      await step('blobs', () => blobs.close());
      await step('limits', () => sharedLimits.close());
      await step('broker', () => broker.close());
      await step('store', () => Promise.all([store.close(), storePing.close()]));
      logger.info({ ms: Math.round(performance.now() - t0) }, 'stopped');
    })());
  // Listening comes last, and a listener that cannot bind (a port in use) closes everything
  // opened above before the error is thrown: otherwise the API listener, the store and the
  // broker would stay open and hold the process (or an in-process test) alive.
  try {
    await app.listen({ port: config.port, host: config.host });
    if (config.metricsPort) metricsServer = await startMetricsServer(metrics, config.metricsHost, config.metricsPort);
  } catch (err) {
    await drain().catch((e) => logger.error({ err: e }, 'cleanup after a failed listen failed'));
    throw err;
  }
  if (metricsServer) logger.info({ url: metricsServer.url }, 'metrics listener');
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  return { url, port, config, store, broker, services, realtime, logger, metricsUrl: metricsServer?.url, drain, close: drain };
}

/**
 * Closes the HTTP server gracefully but boundedly. server.close() destroys the keep-alive
 * connections that are idle at that instant only; one whose request was in flight, or that turns
 * idle a moment later, would otherwise hold close() until its keep-alive timeout (72 s by default,
 * seen in tests). So idle connections are swept every 250 ms while requests finish, and whatever
 * is still open after `graceMs` is destroyed.
 */
async function closeHttp(app: { close(): Promise<unknown>; server: import('node:http').Server }, graceMs: number): Promise<void> {
  const sweep = setInterval(() => app.server.closeIdleConnections(), 250);
  const hard = setTimeout(() => app.server.closeAllConnections(), graceMs);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
    clearTimeout(hard);
  }
}
