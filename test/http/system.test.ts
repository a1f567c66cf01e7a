// Health, metrics and the OpenAPI document, on a real server.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { readFileSync } from 'node:fs';
import { forEachBackend } from '../helpers/server.js';
import { assertError } from './util.js';

/**
 * The routes of docs/API.md's tables as "METHOD /path/{param}": rows marked "(not yet)" left out;
 * "GET, POST" and "/join, /leave" expand; query strings dropped.
 */
function documentedRoutes(): Set<string> {
  const md = readFileSync(new URL('../../docs/API.md', import.meta.url), 'utf8');
  const out = new Set<string>();
  for (const line of md.split('\n')) {
    const m = /^\| ((?:GET|POST|PUT|PATCH|DELETE)(?:, (?:GET|POST|PUT|PATCH|DELETE))*) \| ([^|]+) \|/.exec(line);
    if (!m || m[2].includes('(not yet)')) continue;
    const [first, ...more] = m[2].trim().split(/,\s*/);
    const base = first.split('?')[0];
    const paths = [base, ...more.map((x) => base.replace(/\/[^/]+$/, '') + x.trim())];
    for (const method of m[1].split(', ')) for (const p of paths) out.add(`${method} ${p.replace(/:(\w+)/g, '{$1}')}`);
  }
  return out;
}

const METRICS_TOKEN = 'system-test-metrics-token-0123456789';

await forEachBackend(
  'system',
  (ctx) => {
    it('health names the version, store and broker', async () => {
      const srv = ctx.server();
      const r = await srv.api.get('/api/health');
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.body).sort(), ['broker', 'status', 'store', 'version']);
      assert.equal(r.body.status, 'ok');
      assert.equal(r.body.store, srv.backend);
      assert.equal(r.body.broker, 'memory');
    });

    it('metrics count requests by route and time store operations (with the metrics token)', async () => {
      const srv = ctx.server();
      await srv.owner.api.get('/api/channels');
      const r = await srv.api.req('GET', '/metrics', undefined, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      assert.equal(r.status, 200);
      const text = r.body as string;
      assert.match(text, /nchat_http_requests_total\{method="GET",route="\/api\/channels",status="200"\} \d+/);
      assert.match(text, /nchat_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/api\/channels"\}/);
      assert.match(text, /nchat_store_op_duration_seconds_count\{op="channels.listForUser"\} \d+/);
      assert.match(text, /nodejs_eventloop_lag_p99_seconds/);
      assert.match(text, /nchat_db_pool_connections/);
    });

    it('metrics without the token, with a wrong one or with a user access token are 401 and show nothing', async () => {
      const srv = ctx.server();
      for (const [what, headers] of [
        ['no token', {}],
        ['wrong token', { authorization: `Bearer ${METRICS_TOKEN}x` }],
        ['user access token', { authorization: `Bearer ${srv.owner.token}` }],
      ] as const) {
        const r = await srv.api.req('GET', '/metrics', undefined, { headers });
        assertError(r, 401, 'UNAUTHENTICATED', what);
        assert.doesNotMatch(JSON.stringify(r.body), /nchat_/, what);
      }
    });

    it('the OpenAPI document lists every route of docs/API.md, and only those, with strict request schemas', async () => {
      const srv = ctx.server();
      const r = await srv.api.get('/api/openapi.json');
      assert.equal(r.status, 200);
      assert.equal(r.body.openapi, '3.0.3');
      const paths = r.body.paths as Record<string, Record<string, any>>;
      const listed = Object.entries(paths)
        .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
        .sort();
      // /metrics is Prometheus text, not part of the JSON API document.
      assert.deepEqual(
        listed,
        [...documentedRoutes()].filter((x) => x !== 'GET /metrics').sort(),
        'OpenAPI paths (left) vs the route table of docs/API.md (right)',
      );
      for (const [p, ops] of Object.entries(paths)) {
        for (const [m, op] of Object.entries(ops)) {
          const schema = op.requestBody?.content?.['application/json']?.schema;
          // A union (e.g. notifications/read: {ids} or {all}) is strict when each branch is.
          const strict = (x: any): boolean =>
            x.additionalProperties === false || (Array.isArray(x.anyOf ?? x.oneOf) && (x.anyOf ?? x.oneOf).every(strict));
          if (schema) assert.ok(strict(schema), `${m} ${p}: unknown body fields are refused`);
        }
      }
      assert.ok(paths['/api/channels/{id}/messages'].post.requestBody, 'a send has a request schema');
      assert.deepEqual(paths['/api/auth/signin'].post.security, []);
    });

    it('unknown routes are 404 NOT_FOUND in the error shape', async () => {
      const srv = ctx.server();
      const r = await srv.api.get('/api/nope');
      assert.equal(r.status, 404);
      assert.equal(r.body.error.code, 'NOT_FOUND');
    });
  },
  { NCHAT_METRICS_TOKEN: METRICS_TOKEN },
);
