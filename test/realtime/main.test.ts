// The realtime layer as main.ts wires it (startServer, SQLite): a REST send reaches the socket,
// /metrics shows the connection, and the SIGTERM path (drain) closes sockets with 1012.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CloseCodes } from '../../src/protocol/events.js';
import { startTestServer, unique } from '../helpers/server.js';
import { Client } from './harness.js';

test('startServer: /ws delivers, metrics count sockets, drain closes with 1012 and health 503', async () => {
  const srv = await startTestServer('sqlite', { NCHAT_METRICS_TOKEN: 'main-test-metrics-token' });
  try {
    const alice = await srv.user('alice');
    const ch = (await alice.api.post('/api/channels', { name: unique('m'), type: 'public' })).body;
    const c = await Client.open({ url: srv.running.url }, alice.token);
    await alice.api.post(`/api/channels/${ch.id}/messages`, { text: 'through main' });
    await c.waitFor((e) => e.type === 'message.created' && e.message.text === 'through main');
    const metrics = await (await fetch(srv.running.url + '/metrics', { headers: { authorization: 'Bearer main-test-metrics-token' } })).text();
    assert.match(metrics, /^nchat_ws_connections 1$/m);
    const drained = srv.running.drain();
    const closed = await c.waitClosed();
    assert.equal(closed.code, CloseCodes.SERVICE_RESTART);
    assert.ok(JSON.parse(closed.reason).retryInMs > 0);
    await drained;
  } finally {
    await srv.stop();
  }
});
