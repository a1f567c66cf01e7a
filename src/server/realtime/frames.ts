// The WebSocket text frame a shared chunk is written as: hub.ts encodes each shared chunk once
// and writes the same bytes to every recipient.

/** An unmasked, final, uncompressed WebSocket text frame (RFC 6455 §5.2) carrying `payload`. */
export function encodeTextFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + n);
  out[0] = 0x81; // FIN + opcode 1 (text)
  if (n < 126) out[1] = n;
  else if (n < 65536) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(0, 2);
    out.writeUInt32BE(n, 6);
  }
  payload.copy(out, head);
  return out;
}
