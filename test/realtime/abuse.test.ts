// Bad input, abuse and resource bounds on /ws: each gets an error event or a documented close
// code, the server stays up and other connections are unaffected.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { CloseCodes } from '../../src/protocol/events.js';
import { Client, ok, signup, startNode, until, type Node, type User, aliceAndBobInChannel, Clients } from './harness.js';
import { unique } from '../helpers/server.js';

describe('realtime: bad input and abuse', () => {
  let node: Node;
  let alice: User;
  let bob: User;
  let ch: any;
  let bystander: Client;
  const clients = new Clients(() => node);
  const open = (u: User) => clients.open(u);

  before(async () => {
    node = await startNode({
      env: {
        NCHAT_WS_MAX_PAYLOAD: '4096',
        NCHAT_WS_FRAMES_PER_SEC: '20',
        NCHAT_WS_MAX_BUFFERED: String(256 * 1024),
        NCHAT_SEND_LIMIT: '1000000',
      },
    });
    ({ alice, bob, ch } = await aliceAndBobInChannel(node));
    bystander = await open(bob);
  });
  after(async () => {
    clients.closeAll();
    await node.stop();
  });

  /** The bystander still gets live messages: the server is up and unaffected. */
  async function bystanderStillServed(): Promise<void> {
    const text = unique('alive');
    await ok(alice.api.post(`/api/channels/${ch.id}/messages`, { text }), 201);
    await bystander.waitFor((e) => e.type === 'message.created' && e.message.text === text);
  }

  test('invalid JSON, non-object, unknown op, missing fields → error events, socket stays open', async () => {
    const a = await open(alice);
    const cases: [unknown, string][] = [
      ['{not json', 'INVALID_JSON'],
      ['[1,2]', 'VALIDATION_FAILED'],
      [{ nop: 1 }, 'VALIDATION_FAILED'],
      [{ op: 'teleport' }, 'UNKNOWN_OP'],
      [{ op: 'send', channelId: ch.id, clientMsgId: 'x1' }, 'VALIDATION_FAILED'],
      [{ op: 'send', text: 'no channel', clientMsgId: 'x2' }, 'VALIDATION_FAILED'],
      [{ op: 'send', channelId: ch.id, text: 'no id' }, 'VALIDATION_FAILED'],
      [{ op: 'send', channelId: ch.id, text: '', clientMsgId: 'x3' }, 'VALIDATION_FAILED'],
      [{ op: 'send', channelId: ch.id, text: 'x'.repeat(1000), clientMsgId: 'bad id with spaces' }, 'VALIDATION_FAILED'],
      [{ op: 'read', channelId: ch.id, seq: -1 }, 'VALIDATION_FAILED'],
      [{ op: 'resume', positions: [1] }, 'VALIDATION_FAILED'],
      [{ op: 'presence', status: 'invisible' }, 'VALIDATION_FAILED'],
    ];
    for (const [frame, code] of cases) {
      const from = a.events.length;
      a.send(frame);
      const e = await a.waitFor((x) => x.type === 'error', 5000, from);
      assert.equal(e.code, code, `${JSON.stringify(frame).slice(0, 80)} → ${JSON.stringify(e)}`);
      assert.ok(e.message.length > 0);
    }
    a.send({ op: 'ping', t: 'still open' });
    await a.waitFor((e) => e.type === 'pong' && e.t === 'still open');
    await bystanderStillServed();
  });

  test('channel ops on a channel the user is not in answer as HTTP does: NOT_FOUND if unseen, NOT_A_MEMBER if public', async () => {
    const priv = await ok(bob.api.post('/api/channels', { name: unique('p'), type: 'private' }), 201);
    const pub = await ok(bob.api.post('/api/channels', { name: unique('pub'), type: 'public' }), 201);
    // HTTP for reference: the private channel does not exist for alice, the public one needs a join.
    assert.equal((await alice.api.post(`/api/channels/${priv.id}/messages`, { text: 'x' })).body.error.code, 'NOT_FOUND');
    assert.equal((await alice.api.post(`/api/channels/${pub.id}/messages`, { text: 'x' })).body.error.code, 'NOT_A_MEMBER');
    const a = await open(alice);
    a.send({ op: 'send', channelId: priv.id, text: 'let me in', clientMsgId: 'f1' });
    assert.equal((await a.waitFor((x) => x.type === 'error' && x.ref === 'f1')).code, 'NOT_FOUND');
    a.send({ op: 'send', channelId: pub.id, text: 'let me in', clientMsgId: 'f2' });
    assert.equal((await a.waitFor((x) => x.type === 'error' && x.ref === 'f2')).code, 'NOT_A_MEMBER');
    a.send({ op: 'resume', positions: { [priv.id]: 0, [pub.id]: 0, [ch.id]: 0, nonexistent: 3 } });
    assert.equal((await a.waitFor((x) => x.type === 'error' && x.ref === priv.id)).code, 'NOT_FOUND');
    assert.equal((await a.waitFor((x) => x.type === 'error' && x.ref === pub.id)).code, 'NOT_A_MEMBER');
    assert.equal((await a.waitFor((x) => x.type === 'error' && x.ref === 'nonexistent')).code, 'NOT_FOUND');
    await a.waitFor((x) => x.type === 'resumed' && x.channelId === ch.id);
    for (const [op, extra] of [
      ['presence.query', {}],
      ['typing', {}],
    ] as const) {
      a.send({ op, channelId: priv.id, ref: `${op}-priv`, ...extra });
      assert.equal((await a.waitFor((x) => x.type === 'error' && x.ref === `${op}-priv`)).code, 'NOT_FOUND', op);
      a.send({ op, channelId: pub.id, ref: `${op}-pub`, ...extra });
      assert.equal((await a.waitFor((x) => x.type === 'error' && x.ref === `${op}-pub`)).code, 'NOT_A_MEMBER', op);
    }
    assert.ok(
      !a.events.some((x) => (x.channelId === priv.id || x.channelId === pub.id) && x.type !== 'error'),
      'nothing of the foreign channels leaked',
    );
  });

  test('an oversize frame closes that socket with 1009 only', async () => {
    const a = await open(alice);
    a.send({ op: 'send', channelId: ch.id, text: 'y'.repeat(5000), clientMsgId: 'big' });
    const closed = await a.waitClosed();
    assert.equal(closed.code, CloseCodes.MESSAGE_TOO_BIG);
    await bystanderStillServed();
  });

  test('a frame flood gets RATE_LIMITED, then a 1008 close', async () => {
    const a = await open(alice);
    for (let i = 0; i < 400; i++) a.send({ op: 'ping', t: i });
    await a.waitFor((e) => e.type === 'error' && e.code === 'RATE_LIMITED');
    const closed = await a.waitClosed();
    assert.equal(closed.code, CloseCodes.POLICY_VIOLATION);
    await bystanderStillServed();
  });

  test('a slow consumer is cut off (4008) without hurting others', async () => {
    // A raw TCP client that completes the upgrade and then never reads: the kernel buffers fill,
    // then the server's send buffer grows past wsMaxBuffered. (A ws client cannot be paused:
    // its receiver resumes the socket by itself.)
    const slow = net.connect(node.port, '127.0.0.1');
    await new Promise((r) => slow.once('connect', r));
    slow.write(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${node.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
        `Sec-WebSocket-Protocol: nchat.v1, bearer.${bob.token}\r\n\r\n`,
    );
    const head = await new Promise<string>((r) => slow.once('data', (d) => r(d.toString())));
    assert.match(head, /^HTTP\/1.1 101/);
    slow.pause();
    const before = node.realtime.stats();
    const fast = await open(alice);
    const text = 'z'.repeat(15_000);
    let sent = 0;
    const senders = Array.from({ length: 8 }, async () => {
      while (node.realtime.stats().slowConsumerCloses === before.slowConsumerCloses && sent < 5000) {
        sent++;
        await ok(alice.api.post(`/api/channels/${ch.id}/messages`, { text }), 201);
      }
    });
    await Promise.all(senders);
    assert.equal(node.realtime.stats().slowConsumerCloses, before.slowConsumerCloses + 1, `slow consumer closed after ${sent} messages`);
    const lastSeq = (await ok(alice.api.get(`/api/channels/${ch.id}/messages?limit=1`))).messages[0].seq;
    await until(() => fast.seqs(ch.id).has(lastSeq), 'the fast client got everything', 15_000);
    assert.ok(!fast.closed);
    // The server let go of the slow socket (close frame queued behind the backlog, then terminate).
    await until(() => node.realtime.stats().connections === before.connections + 1, 'slow socket dropped', 10_000);
    slow.destroy();
    await bystanderStillServed();
  });

  test('heartbeat: a client that stops answering pings is terminated after two', async () => {
    const hb = await startNode({ env: { NCHAT_WS_PING_INTERVAL: '200' } });
    after(() => hb.stop());
    const u = await signup(hb, 'hb');
    const live = await Client.open(hb, u.token); // answers pings (ws does by default): stays
    const base = hb.url.replace(/^http/, 'ws') + '/ws';
    const ws = new WebSocket(base, ['nchat.v1', `bearer.${u.token}`], { autoPong: false });
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    await new Promise((r) => ws.once('open', r));
    const started = Date.now();
    const code = await closed;
    assert.equal(code, 1006, 'terminated without a close frame');
    assert.ok(Date.now() - started >= 300, 'not before two ping intervals');
    assert.ok(!live.closed, 'a client answering pings stays connected');
    live.close();
  });

  test('drain: sockets closed with 1012 and a jittered retry hint; new upgrades get 503', async () => {
    const a = await open(alice);
    const b = await open(bob);
    const drained = node.realtime.drain();
    const [ca, cb] = await Promise.all([a.waitClosed(), b.waitClosed()]);
    for (const c of [ca, cb]) {
      assert.equal(c.code, CloseCodes.SERVICE_RESTART);
      const hint = JSON.parse(c.reason);
      assert.ok(hint.retryInMs >= 1000 && hint.retryInMs <= 6000, c.reason);
    }
    await drained;
    await assert.rejects(Client.open(node, alice.token), (e: any) => e.status === 503);
    assert.equal(node.realtime.stats().connections, 0);
  });
});
