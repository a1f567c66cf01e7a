// Serves the web client (web/dist, built by `npm run build:web`) from the API's own process:
//   /assets/*  hashed bundle files: cached for a year, immutable (a new build has new names)
//   /          index.html, no-cache (so a deploy is picked up on the next load)
//   /*         the same index.html for client routes (SPA fallback), but never for /api/*, /ws
//              or /metrics, which keep the API's JSON 404
// Every response of the app carries a strict Content-Security-Policy: scripts only from this
// origin (the build has no inline script), no plugins, no framing, and connections (fetch and the
// WebSocket) to this origin only: under CSP Level 3, 'self' also matches ws:/wss: on the page's
// own host and port (w3c/webappsec-csp#7; Chromium since version 70), so no scheme-wide ws:/wss:
// source, which would allow a socket to any host, is needed. The browser tests (test/web/*) run
// the client's WebSocket under this policy and assert that no violation is reported.
// Without web/dist, `/` answers 200 with a short plain-text page saying how to build it.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError, errorBody } from '../errors.js';
import { MAX_PARAM_LENGTH } from './validation.js';

export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' blob: data:",
  "font-src 'self'",
  "media-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** web/dist next to this checkout (src/server/http → ../../../web/dist). */
export const DEFAULT_WEB_DIST = resolve(fileURLToPath(new URL('../../../web/dist', import.meta.url)));

const API_PREFIXES = ['/api/', '/api', '/ws', '/metrics'];
const ASSET_NAME = /^[A-Za-z0-9._-]{1,200}$/;
const ROOT_FILE = /^\/([A-Za-z0-9_-][A-Za-z0-9._-]{0,100}\.(?:png|svg|ico|txt|webmanifest|json))$/;

const NOT_BUILT = `ɳChat is running, but the web client has not been built.

Build it once with:

    npm run build:web

(or run \`npm start\`, which builds it when web/dist is missing or older than web/src),
then reload this page. The API is at /api (see /api/openapi.json).
`;

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY');
}

export async function registerWebRoutes(app: FastifyInstance, opts: { distDir?: string } = {}): Promise<void> {
  const dist = opts.distDir ?? DEFAULT_WEB_DIST;
  const assets = join(dist, 'assets');
  const config = { public: true };
  // serve:false: the routes below are declared here so they carry `config.public` (no bearer).
  await app.register(fastifyStatic, { root: dist, serve: false });

  const built = () => existsSync(join(dist, 'index.html'));
  const sendIndex = (reply: FastifyReply) => {
    secure(reply).header('cache-control', 'no-cache');
    if (!built()) return reply.type('text/plain; charset=utf-8').send(NOT_BUILT);
    return reply.sendFile('index.html', dist, { cacheControl: false, lastModified: true, etag: true });
  };

  app.get<{ Params: { '*': string } }>('/assets/*', { config, schema: { hide: true } as object }, (req, reply) => {
    const name = req.params['*'];
    if (!ASSET_NAME.test(name) || !existsSync(join(assets, name)) || !statSync(join(assets, name)).isFile())
      return reply.status(404).send(errorBody('NOT_FOUND', 'no such asset'));
    secure(reply);
    return reply.sendFile(name, assets, { maxAge: 365 * 24 * 3600 * 1000, immutable: true });
  });

  app.get('/', { config, schema: { hide: true } as object }, (_req, reply) => sendIndex(reply));

  app.get('/*', { config, schema: { hide: true } as object }, (req, reply) => {
    const path = req.url.split('?')[0];
    if (API_PREFIXES.some((p) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`))) {
      // The router skips a route whose parameter is over its limit and falls through to this
      // catch-all; answer what the router itself answers without the catch-all (app.ts).
      if (path.split('/').some((seg) => seg.length > MAX_PARAM_LENGTH))
        throw new AppError('VALIDATION_FAILED', 'a path parameter is too long');
      throw new AppError('NOT_FOUND', `no route ${req.method} ${path}`);
    }
    const file = ROOT_FILE.exec(path);
    if (file && existsSync(join(dist, file[1]))) {
      secure(reply);
      return reply.sendFile(file[1], dist, { maxAge: 3600 * 1000 });
    }
    return sendIndex(reply);
  });
}
