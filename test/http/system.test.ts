// Health, metrics and the OpenAPI document, on a real server.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { forEachBackend } from '../helpers/server.js';
import { assertError } from './util.js';

const METRICS_TOKEN = 'system-test-metrics-token-0123456789';

await forEachBackend('system', (ctx) => {
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

  it('the OpenAPI document lists every route with its request schema', async () => {
    const srv = ctx.server();
    const r = await srv.api.get('/api/openapi.json');
    assert.equal(r.status, 200);
    assert.equal(r.body.openapi, '3.0.3');
    const paths = r.body.paths;
    for (const [p, m] of [
      ['/api/auth/signup', 'post'],
      ['/api/channels/{id}/messages', 'post'],
      ['/api/channels/{id}/messages', 'get'],
      ['/api/messages/{id}/reactions/{emoji}', 'put'],
      ['/api/notifications/read', 'post'],
      ['/api/dms', 'post'],
    ]) {
      assert.ok(paths[p]?.[m], `${m} ${p} missing`);
    }
    const send = paths['/api/channels/{id}/messages'].post;
    assert.equal(send.requestBody.content['application/json'].schema.additionalProperties, false);
    assert.deepEqual(paths['/api/auth/signin'].post.security, []);
  });

  it('unknown routes are 404 NOT_FOUND in the error shape', async () => {
    const srv = ctx.server();
    const r = await srv.api.get('/api/nope');
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'NOT_FOUND');
  });
}, { NCHAT_METRICS_TOKEN: METRICS_TOKEN });
