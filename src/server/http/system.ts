// Health, Prometheus metrics and the OpenAPI document generated from the very schemas that
// validate requests and serialize replies (collected as routes register, so the document cannot
// drift from the code).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { AppError } from '../errors.js';
import type { Config } from '../../config.js';
import type { Metrics } from './metrics.js';
import { ErrorResponse, HealthReply } from '../../protocol/rest.js';
import { RETRY_AFTER_SECONDS } from '../store/unavailable.js';

export interface SystemInfo {
  version: string;
  store: 'sqlite' | 'postgres';
  broker: 'memory' | 'redis';
  /** True while draining for shutdown: health answers 503 so load balancers move away. */
  draining(): boolean;
  /**
   * Readiness of the store (http/readiness.ts: bounded, cached ping); false makes health answer
   * 503 `unavailable` so load balancers skip a node whose database is down. Absent: not probed.
   */
  storeReady?(): Promise<boolean>;
}

const publicRoute = { public: true } as const;

/** What the system routes read: a subset of app.ts's AppDeps (kept here so http/ never imports app.ts). */
export interface SystemDeps {
  config: Config;
  metrics: Metrics;
  system: SystemInfo;
}

export function registerSystemRoutes(app: FastifyInstance, deps: SystemDeps): void {
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (r) => {
    if (r.url.startsWith('/api/') && r.method !== 'HEAD') routes.push(r);
  });

  app.get(
    '/api/health',
    {
      config: publicRoute,
      schema: {
        summary: 'Readiness: 503 while draining or while the store does not answer a ping',
        response: { 200: HealthReply, 503: HealthReply },
      },
    },
    async (_req, reply) => {
      const s = deps.system;
      const status = s.draining() ? 'draining' : s.storeReady && !(await s.storeReady()) ? 'unavailable' : 'ok';
      const body: HealthReply = { status, version: s.version, store: s.store, broker: s.broker };
      if (status === 'unavailable') reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      return reply.status(status === 'ok' ? 200 : 503).send(body);
    },
  );

  // /metrics is not public: on the main port it exists only with NCHAT_METRICS_TOKEN and then
  // wants that bearer token (compared in constant time); otherwise it is 404 here and served by
  // the separate listener (NCHAT_METRICS_PORT, see main.ts) if one is configured.
  const token = deps.config.metricsToken;
  if (token) {
    const want = digest(token);
    app.get('/metrics', { config: publicRoute }, async (req, reply) => {
      const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      if (!m || !timingSafeEqual(digest(m[1]), want)) {
        reply.header('www-authenticate', 'Bearer realm="metrics"');
        throw new AppError('UNAUTHENTICATED', 'metrics need "Authorization: Bearer <NCHAT_METRICS_TOKEN>"');
      }
      reply.header('content-type', deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    });
  }

  let doc: unknown;
  app.get(
    '/api/openapi.json',
    { config: publicRoute, schema: { summary: 'This document (OpenAPI 3.0)', response: { 200: OpenApiDocument } } },
    async () => (doc ??= openApi(routes, deps.system.version)),
  );
}

/** The document itself: free-form JSON (written with JSON.stringify, not a compiled serializer). */
const OpenApiDocument = { type: 'object', additionalProperties: true, description: 'an OpenAPI 3.0 document' } as const;

/** A route's reply schemas by status; a `null` schema is a reply without a body (204). */
function successResponses(response: Record<string, { type?: string; format?: string; description?: string }> | undefined) {
  const out: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(response ?? {})) {
    const description = schema.description ?? (schema.type === 'null' ? 'no content' : status.startsWith('2') ? 'success' : 'see summary');
    // A binary reply (protocol BinaryReply) is the bytes, listed as application/octet-stream.
    const media = schema.format === 'binary' ? 'application/octet-stream' : 'application/json';
    out[status] = schema.type === 'null' ? { description } : { description, content: { [media]: { schema } } };
  }
  return out;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function openApi(routes: RouteOptions[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    const s = (r.schema ?? {}) as {
      body?: unknown;
      /** Documentation only (the route parses the form itself): http/files.ts. */
      multipartBody?: unknown;
      querystring?: { properties?: Record<string, unknown> };
      params?: { properties?: Record<string, unknown> };
      response?: Record<string, { type?: string; format?: string; description?: string }>;
      summary?: string;
    };
    const isPublic = (r.config as { public?: boolean } | undefined)?.public;
    const parameters = [
      ...Object.entries(s.params?.properties ?? {}).map(([name, schema]) => ({ name, in: 'path', required: true, schema })),
      ...Object.entries(s.querystring?.properties ?? {}).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
    ];
    for (const m of methods) {
      paths[path] ??= {};
      paths[path][m.toLowerCase()] = {
        summary: s.summary,
        security: isPublic ? [] : [{ bearer: [] }],
        parameters: parameters.length ? parameters : undefined,
        requestBody: s.body
          ? { required: true, content: { 'application/json': { schema: s.body } } }
          : s.multipartBody
            ? { required: true, content: { 'multipart/form-data': { schema: s.multipartBody } } }
            : undefined,
        responses: {
          ...successResponses(s.response),
          default: { description: 'error', content: { 'application/json': { schema: ErrorResponse } } },
        },
      };
    }
  }
  return {
    openapi: '3.0.3',
    info: { title: 'ɳChat API', version },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths,
  };
}
