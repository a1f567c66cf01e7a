// The outbox's pre-encoded shared frame must be byte-identical to what ws itself would write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ws from 'ws';
import { encodeTextFrame } from '../../src/server/realtime/frames.js';

test('encodeTextFrame matches ws framing at every length boundary', () => {
  const Sender = (ws as unknown as { Sender: { frame(d: Buffer, o: object): Buffer[] } }).Sender;
  for (const n of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
    const payload = Buffer.alloc(n, 0x61);
    const ours = encodeTextFrame(payload);
    const theirs = Buffer.concat(Sender.frame(payload, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));
    assert.ok(ours.equals(theirs), `length ${n}`);
  }
});
