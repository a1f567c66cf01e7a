// Open sockets per user are capped per node (NCHAT_WS_MAX_SOCKETS_PER_USER): the upgrade past the
// cap is refused with a plain HTTP 429 TOO_MANY_CONNECTIONS before it completes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Client, signup, startNode, until, type Node, type User } from './harness.js';

describe('realtime: sockets per user', () => {
  let node: Node;
  let alice: User;
  let bob: User;
  const clients: Client[] = [];

  before(async () => {
    node = await startNode({ env: { NCHAT_WS_MAX_SOCKETS_PER_USER: '3' } });
    alice = await signup(node, 'alice');
    bob = await signup(node, 'bob');
  });
  after(async () => {
    for (const c of clients) c.close();
    await node.stop();
  });

  /** The HTTP answer to a refused upgrade: status and error body. */
  function refusal(token: string): Promise<{ status: number; body: any }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(node.url.replace(/^http/, 'ws') + '/ws', ['nchat.v1', `bearer.${token}`]);
      ws.once('open', () => reject(new Error('upgrade was accepted')));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(body) }));
      });
      ws.once('error', () => undefined);
    });
  }

  test('concurrent upgrades past the cap are refused with 429; a closed socket frees its slot; other users unaffected', async () => {
    const rejectedBefore = node.realtime.stats().upgradesRejected;
    const tries = await Promise.allSettled(Array.from({ length: 8 }, () => Client.open(node, alice.token)));
    const opened = tries.filter((t): t is PromiseFulfilledResult<Client> => t.status === 'fulfilled').map((t) => t.value);
    clients.push(...opened);
    assert.equal(opened.length, 3, 'exactly the cap, even when the upgrades race');
    for (const t of tries) if (t.status === 'rejected') assert.equal((t.reason as any).status, 429);
    const r = await refusal(alice.token);
    assert.equal(r.status, 429);
    assert.equal(r.body.error.code, 'TOO_MANY_CONNECTIONS');
    assert.equal(node.realtime.stats().upgradesRejected, rejectedBefore + 6);
    // Another user is not counted against alice.
    const b = await Client.open(node, bob.token);
    clients.push(b);
    // The open sockets keep working.
    for (const c of opened) {
      c.send({ op: 'ping', t: 'ok' });
      await c.waitFor((e) => e.type === 'pong' && e.t === 'ok');
    }
    // Closing one frees a slot.
    opened[0].close();
    await until(() => node.realtime.stats().connections === 3, 'the closed socket is gone');
    clients.push(await Client.open(node, alice.token));
    assert.equal((await refusal(alice.token)).status, 429);
  });
});
