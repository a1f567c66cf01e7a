// Regression tests for frames and events that used to take the whole process down (issue 7),
// each against a real node, each ending with a check that the node still serves other sockets.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { channelTopic, userTopic } from '../../src/server/broker/broker.js';
import { newId } from '../../src/server/ids.js';
import { CloseCodes } from '../../src/protocol/events.js';
import { type Client, ok, startNode, until, type Node, type User, aliceAndBobInChannel, Clients } from './harness.js';
import { unique } from '../helpers/server.js';

const METRICS_TOKEN = 'crash-tests-metrics-token';

/** `[[[…]]]` nested `depth` deep, built without recursion. */
function nested(depth: number): unknown {
  let v: unknown = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/**
 * A message written straight to the store, as one stored before control characters were refused:
 * 16,000 of them, each escaping to 6 bytes in JSON (~96 KB per message).
 */
function legacyMessage(channelId: string, authorId: string, i: number) {
  return {
    id: newId(),
    channelId,
    authorId,
    text: '\u0001'.repeat(16_000 - 3) + String(i).padStart(3, '0'),
    clientMsgId: null,
    parentId: null,
    mentions: { userIds: [], channel: false, here: false },
    fileIds: [],
    createdAt: new Date().toISOString(),
    notify: { mentionUserIds: [], allMembers: null, threadParticipants: false },
  };
}

/** Sends every frame in one TCP write, so the server reads them in one go (as an attacker would). */
function sendAtOnce(c: Client, frames: unknown[]): void {
  const sock = (c.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
  sock.cork();
  for (const f of frames) c.send(f);
  sock.uncork();
}

describe('realtime: crash regressions', () => {
  let node: Node;
  let alice: User;
  let bob: User;
  let ch: any;
  let bystander: Client;
  const clients = new Clients(() => node);
  const open = (u: User) => clients.open(u);

  before(async () => {
    node = await startNode({ env: { NCHAT_WS_FRAMES_PER_SEC: '1000', NCHAT_SEND_LIMIT: '1000000', NCHAT_METRICS_TOKEN: METRICS_TOKEN } });
    ({ alice, bob, ch } = await aliceAndBobInChannel(node));
    bystander = await open(bob);
  });
  after(async () => {
    clients.closeAll();
    await node.stop();
  });

  /** The server is up and still serves another socket: a live message and a ping round trip. */
  async function stillServing(): Promise<void> {
    const text = unique('alive');
    await ok(alice.api.post(`/api/channels/${ch.id}/messages`, { text }), 201);
    await bystander.waitFor((e) => e.type === 'message.created' && e.message.text === text);
    const t = unique('t');
    bystander.send({ op: 'ping', t });
    await bystander.waitFor((e) => e.type === 'pong' && e.t === t);
    assert.ok(!bystander.closed, 'the bystander was not disconnected');
  }

  test('ping with t nested 10,000 deep → VALIDATION_FAILED; only numbers and short strings are echoed', async () => {
    const a = await open(alice);
    const deep = `{"op":"ping","ref":"deep","t":${'['.repeat(10_000)}${']'.repeat(10_000)}}`; // as the report
    assert.ok(deep.length > 20_000 && deep.length < 64 * 1024, 'under the frame cap');
    a.send(deep);
    const e = await a.waitFor((x) => x.type === 'error' && x.ref === 'deep');
    assert.equal(e.code, 'VALIDATION_FAILED');
    const refused: [unknown, string][] = [
      [{ a: 1 }, 'object'],
      [[1, 2], 'array'],
      ['x'.repeat(65), 'long string'],
      [true, 'boolean'],
      [null, 'null'],
    ];
    for (const [t, ref] of refused) a.send({ op: 'ping', t, ref });
    for (const [, ref] of refused)
      assert.equal((await a.waitFor((x) => x.type === 'error' && x.ref === ref)).code, 'VALIDATION_FAILED', ref);
    for (const t of [0, -1.5, 1e300, '', 'y'.repeat(64)]) {
      a.send({ op: 'ping', t });
      await a.waitFor((x) => x.type === 'pong' && x.t === t);
    }
    a.send({ op: 'ping' });
    await a.waitFor((x) => x.type === 'pong' && !('t' in x));
    assert.ok(!a.closed, 'the socket stays open');
    assert.equal(node.realtime.stats().serializeFailures, 0, 'refused at validation, nothing reached the flush');
    await stillServing();
  });

  test('an own event that cannot be serialized closes that connection with 1011, counted; earlier replies still arrive', async () => {
    const a = await open(alice);
    const before = node.realtime.stats();
    const [conn] = [...node.realtime.hub.connectionsOf(alice.id)].filter((c) => c.id === a.hello.connectionId);
    node.realtime.hub.sendTo(conn, { type: 'error', code: 'INTERNAL', message: 'queued first', ref: 'first' });
    node.realtime.hub.sendTo(conn, { type: 'pong', t: nested(10_000) as never }); // stack overflow in JSON.stringify
    const closed = await a.waitClosed();
    assert.equal(closed.code, CloseCodes.INTERNAL_ERROR);
    assert.ok(
      a.events.some((e) => e.ref === 'first'),
      'the reply queued before it was delivered',
    );
    assert.equal(node.realtime.stats().serializeFailures, before.serializeFailures + 1);
    const res = await fetch(node.url + '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(res.status, 200);
    assert.match(await res.text(), new RegExp(`nchat_ws_serialize_failures ${before.serializeFailures + 1}\\b`));
    await stillServing();
  });

  test('a channel event that cannot be serialized is dropped for every recipient; the rest of the tick is delivered', async () => {
    const before = node.realtime.stats();
    const a = await open(alice);
    // One tick: a 10,000-deep event (stack overflow), a BigInt (TypeError), then a valid one.
    node.broker.publish(channelTopic(ch.id), { type: 'channel.updated', channelId: ch.id, channel: { nested: nested(10_000) } as never });
    node.broker.publish(channelTopic(ch.id), { type: 'typing', channelId: ch.id, userId: alice.id, expiresInMs: 10n as never });
    node.broker.publish(channelTopic(ch.id), { type: 'typing', channelId: ch.id, userId: alice.id, expiresInMs: 6000 });
    node.broker.publish(userTopic(bob.id), { type: 'channel.read', channelId: ch.id, seq: 1n as never });
    for (const c of [a, bystander]) await c.waitFor((e) => e.type === 'typing' && e.channelId === ch.id && e.expiresInMs === 6000);
    assert.ok(!a.events.some((e) => e.type === 'channel.updated'));
    assert.equal(node.realtime.stats().serializeFailures, before.serializeFailures + 3);
    assert.ok(!a.closed && !bystander.closed, 'nobody is closed for an event that is not theirs');
    await stillServing();
  });

  test('100 resume ops in one write over ~100 messages of 16k control characters: one runs, budgeted and paged; the rest get OP_IN_PROGRESS', async () => {
    const big = await ok(alice.api.post('/api/channels', { name: unique('big'), type: 'public' }), 201);
    // ~96 KB of JSON per message, ~9.6 MB for the channel.
    const TOTAL = 100;
    for (let i = 0; i < TOTAL; i++) {
      await node.store.messages.create(legacyMessage(big.id, alice.id, i));
    }
    const a = await open(alice);
    let largestFrame = 0;
    a.ws.on('message', (d: Buffer) => (largestFrame = Math.max(largestFrame, d.length)));
    sendAtOnce(
      a,
      Array.from({ length: 100 }, (_, i) => ({ op: 'resume', positions: { [big.id]: 0 }, ref: `r${i}` })),
    );
    await until(
      () => a.of('resumed', big.id).length + a.events.filter((e) => e.code === 'OP_IN_PROGRESS').length >= 100,
      'every resume answered',
      30_000,
    );
    const busy = a.events.filter((e) => e.type === 'error' && e.code === 'OP_IN_PROGRESS');
    assert.ok(busy.length >= 90, `most resumes refused while one runs (${busy.length})`);
    const first = a.of('resumed', big.id)[0];
    assert.equal(first.limited, true, 'the byte budget stopped the replay');
    const budget = Math.min(node.config.wsResumeMaxBytes, node.config.wsMaxBuffered / 2);
    const replayedBytes = a.of('message.created', big.id).reduce((n, e) => n + JSON.stringify(e).length, 0);
    assert.ok(replayedBytes <= budget + 100_000, `replay within the budget plus one message (${replayedBytes} > ${budget})`);
    assert.ok(largestFrame <= 512 * 1024, `no giant frame (${largestFrame} bytes)`);
    // The client pages on from the cursor until it has everything.
    let r = first;
    while (r.limited) {
      const from = a.events.length;
      a.send({ op: 'resume', positions: { [big.id]: r.cursor } });
      r = await a.waitFor((e) => e.type === 'resumed' && e.channelId === big.id, 10_000, from);
    }
    assert.equal(a.seqs(big.id).size, TOTAL, 'every message arrived');
    assert.ok(!a.closed);
    await stillServing();
  });

  test('a repair of many large messages goes out in frames under the send-buffer bound, not one frame over it', async () => {
    const big = await ok(alice.api.post('/api/channels', { name: unique('rep'), type: 'public' }), 201);
    const a = await open(alice);
    let largestFrame = 0;
    a.ws.on('message', (d: Buffer) => (largestFrame = Math.max(largestFrame, d.length)));
    // 60 messages committed without a publish (~96 KB of JSON each, ~5.8 MB: several times the
    // 2 MiB bound), then a normal send: the hub sees the seq jump and repairs from the store.
    for (let i = 0; i < 60; i++) await node.store.messages.create(legacyMessage(big.id, alice.id, i));
    await ok(alice.api.post(`/api/channels/${big.id}/messages`, { text: 'after the gap' }), 201);
    await until(() => a.seqs(big.id).size === 61 || !!a.closed, 'every seq repaired', 20_000);
    assert.ok(!a.closed, `not closed as a slow consumer (${JSON.stringify(a.closed)})`);
    assert.equal(a.seqs(big.id).size, 61);
    assert.ok(largestFrame < node.config.wsMaxBuffered / 2, `frames under the bound (${largestFrame})`);
    await stillServing();
  });

  test('presence.query runs one at a time per connection', async () => {
    const a = await open(alice);
    sendAtOnce(a, [
      { op: 'presence.query', channelId: ch.id, ref: 'q1' },
      { op: 'presence.query', channelId: ch.id, ref: 'q2' },
    ]);
    assert.equal((await a.waitFor((e) => e.type === 'error' && e.ref === 'q2')).code, 'OP_IN_PROGRESS');
    await a.waitFor((e) => e.type === 'presence' && e.userId === bob.id);
    a.send({ op: 'presence.query', channelId: ch.id, ref: 'q3' });
    const from = a.events.length;
    a.send({ op: 'ping', t: 'after q3' });
    await a.waitFor((e) => e.type === 'pong' && e.t === 'after q3', 5000, from);
    assert.ok(!a.events.some((e) => e.ref === 'q3'), 'the next query after the first ended is accepted');
  });

  test('own replies queued past the send-buffer bound close the connection with 4008 before a frame is built', async () => {
    const a = await open(alice);
    const before = node.realtime.stats();
    const [conn] = [...node.realtime.hub.connectionsOf(alice.id)].filter((c) => c.id === a.hello.connectionId);
    const chunk = 'z'.repeat(64 * 1024);
    let queued = 0;
    for (let i = 0; i * chunk.length < 2 * node.config.wsMaxBuffered; i++)
      queued += node.realtime.hub.sendTo(conn, { type: 'error', code: 'INTERNAL', message: chunk });
    assert.ok(queued <= node.config.wsMaxBuffered, `never more than the bound queued (${queued})`);
    assert.equal((await a.waitClosed()).code, CloseCodes.RESUME);
    assert.equal(node.realtime.stats().queuedBytesCloses, before.queuedBytesCloses + 1);
    await stillServing();
  });
});
