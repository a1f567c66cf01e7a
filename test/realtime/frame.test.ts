// The outbox's pre-encoded shared frame must be byte-identical to what ws itself would write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ws from 'ws';
import { encodeTextFrame, encodeTextFrameOf, PING_FRAME } from '../../src/server/realtime/frames.js';

test('encodeTextFrame matches ws framing at every length boundary', () => {
  const Sender = (ws as unknown as { Sender: { frame(d: Buffer, o: object): Buffer[] } }).Sender;
  for (const n of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
    const payload = Buffer.alloc(n, 0x61);
    const ours = encodeTextFrame(payload);
    const theirs = Buffer.concat(Sender.frame(payload, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));
    assert.ok(ours.equals(theirs), `length ${n}`);
  }
});

test('encodeTextFrameOf (own frames, from a string) matches ws framing, multi-byte text included; its payload is the frame minus the header', () => {
  const Sender = (ws as unknown as { Sender: { frame(d: Buffer, o: object): Buffer[] } }).Sender;
  for (const n of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
    for (const unit of ['a', 'é', '€', '😀']) {
      // As many units as fit in n UTF-8 bytes, padded with 'a' to exactly n bytes.
      const per = Buffer.byteLength(unit);
      const text = unit.repeat(Math.floor(n / per)) + 'a'.repeat(n % per);
      const payload = Buffer.from(text);
      assert.equal(payload.length, n);
      const { framed, payload: view } = encodeTextFrameOf(text);
      const theirs = Buffer.concat(Sender.frame(payload, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));
      assert.ok(framed.equals(theirs), `length ${n}, unit ${unit}`);
      assert.ok(view.equals(payload), `payload view, length ${n}, unit ${unit}`);
    }
  }
});

test('PING_FRAME is the ping ws itself writes (no payload)', () => {
  const Sender = (ws as unknown as { Sender: { frame(d: Buffer, o: object): Buffer[] } }).Sender;
  const theirs = Buffer.concat(Sender.frame(Buffer.alloc(0), { fin: true, opcode: 9, mask: false, readOnly: false, rsv1: false }));
  assert.ok(PING_FRAME.equals(theirs));
});
