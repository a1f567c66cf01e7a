// The realtime layer as main.ts wires it (startServer, SQLite): a REST send reaches the socket,
// /metrics shows the connection, and the SIGTERM path (drain) answers health 503 while it runs
// and closes sockets with 1012.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CloseCodes } from '../../src/protocol/events.js';
import { startTestServer, unique } from '../helpers/server.js';
import { Client } from './harness.js';
import { mute } from './raw-ws.js';

test('startServer: /ws delivers, metrics count sockets, drain closes with 1012 and health 503', async () => {
  const srv = await startTestServer('sqlite', { NCHAT_METRICS_TOKEN: 'main-test-metrics-token' });
  try {
    const alice = await srv.user('alice');
    const ch = (await alice.api.post('/api/channels', { name: unique('m'), type: 'public' })).body;
    const c = await Client.open({ url: srv.running.url }, alice.token);
    await alice.api.post(`/api/channels/${ch.id}/messages`, { text: 'through main' });
    await c.waitFor((e) => e.type === 'message.created' && e.message.text === 'through main');
    const metrics = await (
      await fetch(srv.running.url + '/metrics', { headers: { authorization: 'Bearer main-test-metrics-token' } })
    ).text();
    assert.match(metrics, /^nchat_ws_connections 1$/m);
    assert.equal((await fetch(srv.running.url + '/api/health')).status, 200);
    // A client that never answers the close handshake holds the drain open (~2 s, until the node
    // terminates it), so health is asked while the node drains, before HTTP closes.
    const held = await mute(srv.running.port, alice.token);
    const drained = srv.running.drain();
    const health = await fetch(srv.running.url + '/api/health');
    assert.equal(health.status, 503);
    assert.equal(((await health.json()) as { status: string }).status, 'draining');
    const closed = await c.waitClosed();
    assert.equal(closed.code, CloseCodes.SERVICE_RESTART);
    assert.ok(JSON.parse(closed.reason).retryInMs > 0);
    await drained;
    held.destroy();
  } finally {
    await srv.stop();
  }
});
