// buildApp(deps): the HTTP application without listen(), so tests can inject() or listen on port 0.
// Edge rules live here once: JSON only, body limit, prototype-poisoning rejected, strict validation,
// well-formed Unicode, bearer authentication, coded errors, per-route metrics.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { AppError, errorBody } from './errors.js';
import type { Metrics } from './http/metrics.js';
import { MAX_PARAM_LENGTH, validatorCompiler } from './http/validation.js';
import { registerAuthRoutes } from './http/auth.js';
import { registerUserRoutes } from './http/users.js';
import { registerChannelRoutes } from './http/channels.js';
import { registerMessageRoutes } from './http/messages.js';
import { registerNotificationRoutes } from './http/notifications.js';
import { registerFileRoutes } from './http/files.js';
import { registerSearchRoutes } from './http/search.js';
import { registerSystemRoutes, type SystemInfo } from './http/system.js';
import { registerReportRoutes } from './http/reports.js';
import { registerWebRoutes } from './http/web.js';
import type { Services } from './services/index.js';
import './http/actor.js';
import { assertWellFormed } from './lib/text.js';
import { isStoreUnavailable, RETRY_AFTER_SECONDS, storeUnavailableError } from './store/unavailable.js';

declare module 'fastify' {
  interface FastifySchema {
    /** One line for the OpenAPI document. */
    summary?: string;
  }
  interface FastifyContextConfig {
    /** Route needs no bearer token. */
    public?: boolean;
  }
}

export interface AppDeps {
  config: Config;
  services: Services;
  metrics: Metrics;
  logger: Logger;
  system: SystemInfo;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const c = deps.config;
  // node:http enforces the request/headers timeouts by walking its connection list every
  // connectionsCheckingInterval (default 30 s, which would let a 1 s timeout last 31 s): check
  // at a quarter of the shorter timeout, between 250 ms and 30 s. Upgraded WebSockets leave that
  // list (and `ws` turns the socket idle timeout off), so none of these apply to them.
  const headersTimeout = Math.min(c.headersTimeoutMs, c.requestTimeoutMs);
  const app = Fastify({
    // Slow-client defences: the whole request within requestTimeout and its headers within
    // headersTimeout (else 408 and close), idle keep-alive sockets closed, and any socket with no
    // traffic either way for idleTimeout destroyed.
    requestTimeout: c.requestTimeoutMs,
    keepAliveTimeout: c.keepAliveTimeoutMs,
    connectionTimeout: c.idleTimeoutMs,
    http: { headersTimeout, connectionsCheckingInterval: Math.max(250, Math.min(30_000, Math.floor(headersTimeout / 4))) },
    // req.ip is the X-Forwarded-For client only when the direct peer is a listed proxy.
    trustProxy: c.trustProxy.length ? c.trustProxy : false,
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Per-request logs would cost more than the request at load; metrics carry the per-route picture.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.config.bodyLimitBytes,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Router-level failures (a path parameter over maxParamLength, bad percent-encoding) bypass
    // setErrorHandler; without this they answer fastify's own body shape (and 414), not the contract's.
    frameworkErrors: (err, _req, reply) => {
      const e =
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new AppError('VALIDATION_FAILED', 'a path parameter is too long')
          : err.code === 'FST_ERR_BAD_URL'
            ? new AppError('BAD_REQUEST', 'the URL is not valid (bad percent-encoding)')
            : new AppError('INTERNAL', 'internal error');
      (reply as unknown as FastifyReply).status(e.status).send(errorBody(e.code, e.message));
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.decorateRequest('actor', undefined);

  // JSON bodies only; POST /api/files registers multipart in its own scope (http/files.ts).
  app.removeAllContentTypeParsers();
  // Bodies are read as bytes and decoded strictly: invalid UTF-8 is a 400 INVALID_UNICODE, not
  // text silently mangled into U+FFFD and stored.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    let text: string;
    try {
      text = strictUtf8.decode(body as Buffer);
    } catch {
      return done(new AppError('INVALID_UNICODE', 'request body is not valid UTF-8'), undefined);
    }
    parseJson(req, text, done);
  });

  // Credentials are checked here, before the body is read: an anonymous or badly authenticated
  // request to a private route gets its 401 without the server reading (or waiting for) a byte
  // of its body. Unmatched paths (no routeOptions.url) fall through to the 404.
  app.addHook('onRequest', async (req) => {
    const h = req.headers.authorization;
    if (req.routeOptions.config?.public || !req.routeOptions.url) return;
    if (h === undefined) throw new AppError('UNAUTHENTICATED', 'missing bearer token');
    const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(h);
    if (!m) throw new AppError('UNAUTHENTICATED', 'Authorization must be "Bearer <accessToken>"');
    req.actor = await deps.services.auth.verifyAccessToken(m[1]);
  });
  app.addHook('preValidation', async (req) => {
    assertWellFormed(req.body, 'body');
    assertWellFormed(req.query, 'query');
    // The query parser decodes leniently (invalid UTF-8 percent-escapes become U+FFFD or stay raw).
    const q = req.url.indexOf('?');
    if (q >= 0 && !wellEncoded(req.url.slice(q + 1)))
      throw new AppError('INVALID_UNICODE', 'query string is not valid percent-encoded UTF-8');
    assertWellFormed(req.params, 'params');
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    deps.metrics.httpRequests.labels(req.method, route, String(reply.statusCode)).inc();
    deps.metrics.httpDuration.labels(req.method, route).observe(reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err, req, reply) => {
    const e = toAppError(err as Error & { code?: string; statusCode?: number });
    // 503 UNAVAILABLE (database down, disk full) is a dependency's state, logged once per request
    // at warn; a 500 is a bug.
    if (e.status === 503)
      req.log.warn(
        { err: { code: (err as { code?: string }).code, message: (err as Error).message } },
        'request refused: store unavailable',
      );
    else if (e.status >= 500) req.log.error({ err }, 'request failed');
    if (e.status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    if ((err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') drainInsteadOfClose(req, reply, deps.config.bodyLimitBytes);
    reply.status(e.status).send(errorBody(e.code, e.message, e.details));
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send(errorBody('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`));
  });

  registerSystemRoutes(app, deps);
  registerAuthRoutes(app, deps.services);
  registerUserRoutes(app, deps.services);
  registerChannelRoutes(app, deps.services);
  registerMessageRoutes(app, deps.services);
  registerNotificationRoutes(app, deps.services);
  registerFileRoutes(app, deps.services, { maxBytes: deps.config.uploadMaxBytes, timeoutMs: deps.config.uploadTimeoutMs });
  registerSearchRoutes(app, deps.services);
  registerReportRoutes(app, { dir: deps.config.reportsDir });
  // Last: the web client's catch-all (SPA fallback) must not shadow an API route.
  await registerWebRoutes(app);
  return app;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function wellEncoded(query: string): boolean {
  try {
    decodeURIComponent(query);
    return true;
  } catch {
    return false;
  }
}

/** Bodies up to this many times NCHAT_BODY_LIMIT are read and discarded after a 413 (below). */
const DRAIN_FACTOR = 8;

/**
 * fastify answers a body over the limit with `Connection: close` and the node then closes the
 * socket while the client (or a proxy such as nginx, which buffers the whole body before it
 * forwards it) is still sending. Closing a socket with unread bytes makes the kernel send a
 * reset, which can destroy the 413 before the peer reads it: nginx then answers 502 instead of
 * the node's coded 413 (seen in CI, test/ops/nginx.test.ts). For a declared length up to
 * DRAIN_FACTOR × the limit the body is read and discarded instead (node dumps an unread request
 * body when the reply ends) and the connection stays open; longer or undeclared bodies keep
 * fastify's close, bounded by the request timeout either way.
 */
function drainInsteadOfClose(req: FastifyRequest, reply: FastifyReply, limit: number): void {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared <= limit * DRAIN_FACTOR) reply.removeHeader('connection');
}

/**
 * Maps fastify's own errors (parser, limits, validation) to coded 4xx and a store that cannot be
 * used right now (database down, disk full: store/unavailable.ts) to 503 UNAVAILABLE; anything
 * unknown is a 500.
 */
function toAppError(err: Error & { code?: string; statusCode?: number; validation?: unknown }): AppError {
  if (err instanceof AppError) return err;
  if (isStoreUnavailable(err)) return storeUnavailableError(err);
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', 'request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'send application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('INVALID_JSON', 'request body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('BAD_REQUEST', 'Content-Length does not match the body');
  }
  if (err.validation) return new AppError('VALIDATION_FAILED', err.message);
  if (err instanceof SyntaxError || (/prototype|constructor/i.test(err.message) && err.statusCode === 400)) {
    return new AppError('INVALID_JSON', 'request body is not valid JSON or holds a forbidden key (__proto__ / constructor.prototype)');
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new AppError('BAD_REQUEST', err.message);
  return new AppError('INTERNAL', 'internal error');
}
