// The shared-frame fast path writes pre-encoded frames straight to the socket under ws
// (src/server/realtime/frames.ts: rawSocket reads ws's private `_socket`, `_sender._state`,
// `_sender._queue`). ws is pinned to one exact version for that; these tests fail loudly when an
// upgrade moves those fields or the raw path stops producing frames a client decodes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { channelTopic } from '../../src/server/broker/broker.js';
import { encodeTextFrame, rawSocket, type WsInternals } from '../../src/server/realtime/frames.js';
import { Client, ok, signup, startNode, type Node, type User } from './harness.js';
import { unique } from '../helpers/server.js';

const root = new URL('../../', import.meta.url);
const json = (path: string) => JSON.parse(readFileSync(new URL(path, root), 'utf8'));

test('ws is pinned to the exact installed version (package.json and package-lock.json)', () => {
  const installed = json('node_modules/ws/package.json').version as string;
  assert.equal(
    json('package.json').dependencies.ws,
    installed,
    'package.json must name ws exactly (no ^ or ~): frames.ts reads its private fields',
  );
  assert.equal(json('package-lock.json').packages['node_modules/ws'].version, installed, 'package-lock.json agrees');
});

/** A bare ws server on port 0 and one client connected to it; `server` is the server-side socket. */
async function pair(opts: { perMessageDeflate?: boolean } = {}) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: opts.perMessageDeflate ? { threshold: 0 } : false });
  await once(wss, 'listening');
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: !!opts.perMessageDeflate });
  const received: string[] = [];
  client.on('message', (data, isBinary) => received.push(isBinary ? '<binary>' : data.toString()));
  await once(client, 'open');
  const [server] = await accepted;
  const close = async () => {
    client.terminate();
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  };
  return { server, client, received, close };
}

async function until(pred: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('ws private fields rawSocket reads exist with the expected types on an open server socket', async () => {
  const { server, close } = await pair();
  try {
    const w = server as unknown as WsInternals;
    assert.ok(w._socket, 'ws._socket (the net.Socket) is gone');
    assert.equal(typeof w._socket.write, 'function', 'ws._socket.write');
    assert.equal(w._socket.writable, true, 'ws._socket.writable');
    assert.ok(w._sender, 'ws._sender is gone');
    assert.equal(w._sender._state, 0, 'ws._sender._state is the number 0 (DEFAULT) when idle');
    assert.ok(Array.isArray(w._sender._queue), 'ws._sender._queue is an array');
    assert.equal(w._sender._queue.length, 0, 'an idle sender has nothing queued');
    assert.equal(rawSocket(server), w._socket, 'an idle socket takes the raw path');
  } finally {
    await close();
  }
});

test('the raw path writes frames a ws client decodes, in order with ws.send frames', async () => {
  const { server, received, close } = await pair();
  try {
    const raw = rawSocket(server);
    assert.ok(raw, 'raw path available');
    const big = JSON.stringify([{ type: 'x', text: 'é'.repeat(40_000) }]); // 16-bit and 64-bit length forms
    for (const payload of ['[]', '[{"type":"a"}]', 'x'.repeat(200), big, 'y'.repeat(70_000)])
      raw.write(encodeTextFrame(Buffer.from(payload)));
    server.send('[{"type":"via ws.send"}]');
    raw.write(encodeTextFrame(Buffer.from('[{"type":"last"}]')));
    await until(() => received.length === 7, '7 messages');
    assert.deepEqual(received, [
      '[]',
      '[{"type":"a"}]',
      'x'.repeat(200),
      big,
      'y'.repeat(70_000),
      '[{"type":"via ws.send"}]',
      '[{"type":"last"}]',
    ]);
  } finally {
    await close();
  }
});

test('while ws has a frame of its own in progress (compressing), rawSocket refuses the raw path', async () => {
  const { server, received, close } = await pair({ perMessageDeflate: true });
  try {
    assert.ok(rawSocket(server), 'idle: raw path available');
    server.send('z'.repeat(100_000)); // deflate runs asynchronously: the sender is busy until it ends
    assert.equal(rawSocket(server), undefined, 'busy sender: no raw write (frames could interleave)');
    await until(() => received.length === 1, 'the compressed message');
    assert.equal(received[0], 'z'.repeat(100_000));
  } finally {
    await close();
  }
});

describe('realtime: a node writes shared frames through the raw path', () => {
  let node: Node;
  let alice: User;
  let ch: any;
  let client: Client;

  before(async () => {
    node = await startNode();
    alice = await signup(node, 'alice');
    ch = await ok(alice.api.post('/api/channels', { name: unique('c'), type: 'public' }), 201);
    client = await Client.open(node, alice.token);
  });
  after(async () => {
    client?.close();
    await node?.stop();
  });

  test('a channel event reaches the client as a pre-encoded frame written to the socket, not through ws.send', async () => {
    const [conn] = [...node.realtime.hub.connectionsOf(alice.id)].filter((c) => c.id === client.hello.connectionId);
    const ws = (conn as unknown as { ws: WebSocket }).ws;
    const sock = (ws as unknown as WsInternals)._socket!;
    const written: Buffer[] = [];
    let sends = 0;
    const write = sock.write;
    const send = ws.send;
    sock.write = function (this: unknown, b: Buffer, ...rest: unknown[]) {
      if (Buffer.isBuffer(b)) written.push(Buffer.from(b));
      return (write as (...a: unknown[]) => boolean).call(this, b, ...rest);
    } as typeof sock.write;
    ws.send = function (this: WebSocket, ...a: Parameters<WebSocket['send']>) {
      sends++;
      return send.apply(this, a);
    } as typeof ws.send;
    try {
      const event = { type: 'typing' as const, channelId: ch.id, userId: alice.id, expiresInMs: 6000 };
      node.broker.publish(channelTopic(ch.id), event);
      const got = await client.waitFor((e) => e.type === 'typing' && e.channelId === ch.id);
      assert.deepEqual(got, event);
      assert.equal(sends, 0, 'ws.send was not used for the shared frame');
      const expected = encodeTextFrame(Buffer.from(JSON.stringify([event])));
      assert.ok(
        written.some((b) => b.equals(expected)),
        'the socket got exactly the pre-encoded frame',
      );
    } finally {
      sock.write = write;
      ws.send = send;
    }
  });
});
