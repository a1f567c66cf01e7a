// Prometheus metrics: request counts and latency by route, store operation timings, pool gauges,
// and prom-client's process/event-loop defaults (the load-test samplers read these).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import client from 'prom-client';
import type { Store } from '../store/store.js';

export class Metrics {
  readonly registry = new client.Registry();
  readonly httpRequests = new client.Counter({
    name: 'nchat_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new client.Histogram({
    name: 'nchat_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly storeDuration = new client.Histogram({
    name: 'nchat_store_op_duration_seconds',
    help: 'Store (database) operation latency by operation',
    labelNames: ['op'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });
  /** Search latency (service: parse, store query, presentation) by kind: text, filtered, suggest. */
  readonly searchDuration = new client.Histogram({
    name: 'nchat_search_duration_seconds',
    help: 'Search latency by kind of query (text, filtered, suggest)',
    labelNames: ['kind'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly storeErrors = new client.Counter({
    name: 'nchat_store_op_errors_total',
    help: 'Store operations that threw',
    labelNames: ['op'] as const,
    registers: [this.registry],
  });

  constructor(store: Store, extraGauges: Record<string, { help: string; get: () => number }> = {}) {
    client.collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    const pool = (k: 'total' | 'idle' | 'waiting') => () => store.poolStats()?.[k] ?? 0;
    this.gauge('nchat_db_pool_connections', 'Database pool connections', pool('total'));
    this.gauge('nchat_db_pool_idle', 'Idle database pool connections', pool('idle'));
    this.gauge('nchat_db_pool_waiting', 'Queries waiting for a pool connection', pool('waiting'));
    for (const [name, g] of Object.entries(extraGauges)) this.gauge(name, g.help, g.get);
  }

  gauge(name: string, help: string, get: () => number): void {
    new client.Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(get());
      },
    });
  }
}

/**
 * The separate /metrics listener (NCHAT_METRICS_PORT on NCHAT_METRICS_HOST, 127.0.0.1 by
 * default): plain node:http, GET /metrics only, no authentication — reachability is the
 * access control, so keep it on loopback or a private network. Resolves once listening.
 */
export async function startMetricsServer(m: Metrics, host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    m.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': m.registry.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n'),
    );
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
