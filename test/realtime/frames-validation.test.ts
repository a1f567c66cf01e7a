// Client frames are checked by the compiled schemas of protocol/ws.ts, by the rules HTTP bodies
// follow: unknown fields, types (no coercion), sizes, well-formed Unicode. Every refusal is an
// `error` event whose code is in the one error table, with the frame's ref; schema refusals count
// toward the malformed-frame limit (1008), refusals by the service do not.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CloseCodes, type ClientOps, errorStatus, type ClientOp } from '../../src/protocol/index.js';
import { Client, ok, signup, startNode, type Node, type User } from './harness.js';
import { unique } from '../helpers/server.js';

describe('realtime: frames validated by the protocol schemas', () => {
  let node: Node;
  let alice: User;
  let ch: any;
  const clients: Client[] = [];
  const open = async () => {
    const c = await Client.open(node, alice.token);
    clients.push(c);
    return c;
  };

  before(async () => {
    node = await startNode({ env: { NCHAT_WS_FRAMES_PER_SEC: '1000' } });
    alice = await signup(node, 'fv');
    ch = await ok(alice.api.post('/api/channels', { name: unique('fv'), type: 'public' }), 201);
  });
  after(async () => {
    for (const c of clients) c.close();
    await node.stop();
  });

  /** Sends `frame` and returns the error event naming `ref`. */
  async function refused(c: Client, frame: unknown, ref: string): Promise<{ code: string; message: string }> {
    c.send(frame);
    return c.waitFor((e) => e.type === 'error' && e.ref === ref);
  }

  test('every op: an unknown field, a wrong type, a bad id → VALIDATION_FAILED naming the field', async () => {
    const a = await open();
    const valid: { [K in keyof typeof ClientOps]: ClientOp & { op: K } } = {
      send: { op: 'send', channelId: ch.id, text: 'hi', clientMsgId: 'v1' },
      typing: { op: 'typing', channelId: ch.id },
      read: { op: 'read', channelId: ch.id, seq: 0 },
      resume: { op: 'resume', positions: { [ch.id]: 0 } },
      ping: { op: 'ping', t: 1 },
      presence: { op: 'presence', status: 'online' },
      'presence.query': { op: 'presence.query', channelId: ch.id },
    };
    for (const [name, frame] of Object.entries(valid)) {
      const e = await refused(a, { ...frame, ref: `${name}-x`, extra: 1 }, `${name}-x`);
      assert.equal(e.code, 'VALIDATION_FAILED', name);
      assert.match(e.message, /unknown field "extra"/, name);
    }
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ op: 'send', channelId: ch.id, text: 123, clientMsgId: 'v2' }, /send\.text/], // no coercion
      [{ op: 'send', channelId: 'not-an-id', text: 'x', clientMsgId: 'v3' }, /send\.channelId/],
      [{ op: 'send', channelId: ch.id, text: 'x', clientMsgId: 'v4', fileIds: 'f' }, /send\.fileIds/],
      [{ op: 'read', channelId: ch.id, seq: '3' }, /read\.seq/],
      [{ op: 'read', channelId: ch.id, seq: 1.5 }, /read\.seq/],
      [{ op: 'resume', positions: { [ch.id]: 'x' } }, /resume\.positions/],
      [{ op: 'presence', status: 'invisible' }, /presence\.status/],
      [{ op: 'typing' }, /typing/],
    ];
    for (const [i, [frame, field]] of cases.entries()) {
      const e = await refused(a, { ...frame, ref: `c${i}` }, `c${i}`);
      assert.equal(e.code, 'VALIDATION_FAILED', JSON.stringify(frame));
      assert.match(e.message, field, JSON.stringify(frame));
    }
    assert.ok(!a.closed);
  });

  test('sizes and Unicode: text over the cap is TEXT_TOO_LONG, a lone surrogate INVALID_UNICODE, 2,001 channels refused', async () => {
    const a = await open();
    assert.equal(
      (await refused(a, { op: 'send', channelId: ch.id, text: 'x'.repeat(16_385), clientMsgId: 'long', ref: 'long' }, 'long')).code,
      'TEXT_TOO_LONG',
    );
    assert.equal((await refused(a, `{"op":"ping","t":"\\ud800","ref":"lone"}`, 'lone')).code, 'INVALID_UNICODE');
    assert.equal((await refused(a, `{"op":"ping","ref":"\\udc00x"}`, 'ping')).code, 'INVALID_UNICODE');
    const positions = Object.fromEntries(Array.from({ length: 2001 }, (_, i) => [`c${i}`, 0]));
    const e = await refused(a, { op: 'resume', positions, ref: 'many' }, 'many');
    assert.equal(e.code, 'VALIDATION_FAILED');
    assert.match(e.message, /resume\.positions/);
  });

  test('every error code sent is in the error table', async () => {
    const a = await open();
    const frames: unknown[] = ['{nope', '[]', { op: 'warp' }, { nop: 1 }, { op: 'ping', t: {} }];
    for (const f of frames) a.send(f);
    a.send({ op: 'send', channelId: ch.id, text: '', clientMsgId: 'empty' });
    await a.waitFor((e) => e.type === 'error' && e.ref === 'empty');
    a.send({ op: 'ping', t: 'fence' });
    await a.waitFor((e) => e.type === 'pong' && e.t === 'fence');
    const codes = a.events.filter((e) => e.type === 'error').map((e) => e.code as string);
    assert.deepEqual(
      codes.sort(),
      ['INVALID_JSON', 'UNKNOWN_OP', 'VALIDATION_FAILED', 'VALIDATION_FAILED', 'VALIDATION_FAILED', 'VALIDATION_FAILED'].sort(),
    );
    for (const c of codes) assert.ok(c in errorStatus, c);
  });

  test('schema refusals count toward the malformed-frame limit (1008); service refusals do not', async () => {
    const a = await open();
    // 25 sends the service refuses (empty text): answered, not counted.
    for (let i = 0; i < 25; i++) a.send({ op: 'send', channelId: ch.id, text: ' ', clientMsgId: `blank${i}` });
    await a.waitFor((e) => e.type === 'error' && e.ref === 'blank24');
    a.send({ op: 'ping', t: 'still' });
    await a.waitFor((e) => e.type === 'pong' && e.t === 'still');
    // 21 frames with an unknown field: the 21st closes the socket.
    for (let i = 0; i < 21; i++) a.send({ op: 'ping', t: i, bogus: true });
    assert.equal((await a.waitClosed()).code, CloseCodes.POLICY_VIOLATION);
  });

  test('valid ops still work: send acks, ref is optional on every op', async () => {
    const a = await open();
    a.send({ op: 'send', channelId: ch.id, text: 'typed', clientMsgId: 'ok-1', ref: 'r-ok' } satisfies ClientOp);
    const ack = await a.waitFor((e) => e.type === 'ack' && e.clientMsgId === 'ok-1');
    assert.equal(ack.channelId, ch.id);
    await a.waitFor((e) => e.type === 'message.created' && e.message.clientMsgId === 'ok-1');
    a.send({ op: 'read', channelId: ch.id, seq: ack.seq } satisfies ClientOp);
    await a.waitFor((e) => e.type === 'channel.read' && e.seq === ack.seq);
  });
});
