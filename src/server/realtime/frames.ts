// Writing a shared frame straight to the socket: outbox.ts encodes each shared chunk once as a
// WebSocket text frame and connection.ts writes the same bytes to every recipient, bypassing
// ws's per-send framing (~20% less CPU per send than ws.send, measured with bench:fanout).
//
// rawSocket() reads private fields of ws (`_socket`, `_sender._state`, `_sender._queue`), so ws is
// pinned to one exact version in package.json, and test/realtime/ws-internals.test.ts fails loudly
// when those fields move or the raw path stops producing frames a client decodes.
import type { WebSocket } from 'ws';

/** An unmasked, final, uncompressed WebSocket text frame (RFC 6455 §5.2) carrying `payload`. */
export function encodeTextFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const out = frameWithHeader(n);
  payload.copy(out, out.length - n);
  return out;
}

/**
 * The same frame for a payload still held as a string, encoded straight into the frame: one
 * UTF-8 pass and one allocation (for a connection's own frame, built for it alone). `payload` is
 * a view of the frame's payload bytes (no copy).
 */
export function encodeTextFrameOf(text: string): { framed: Buffer; payload: Buffer } {
  const n = Buffer.byteLength(text);
  const framed = frameWithHeader(n);
  const head = framed.length - n;
  framed.write(text, head, 'utf8');
  return { framed, payload: framed.subarray(head) };
}

/** An unmasked ping frame without payload (opcode 9), the same bytes for every socket. */
export const PING_FRAME: Buffer = Buffer.from([0x89, 0x00]);

/** A text frame buffer of the right size with its header written; the payload bytes are left to the caller. */
function frameWithHeader(n: number): Buffer {
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
  return out;
}

/**
 * The socket under a ws WebSocket for a direct write, or undefined when ws's own sender may have
 * something queued or in flight (then ws.send must be used, so frames cannot interleave). ws's
 * sender writes synchronously without compression, so `_state === 0` (idle) with an empty
 * `_queue` means nothing of its own is pending. Feature-checked: missing fields mean "use ws.send".
 */
export function rawSocket(ws: WebSocket): { write(b: Buffer): boolean } | undefined {
  const w = ws as unknown as WsInternals;
  const sender = w._sender;
  if (!w._socket?.writable || !sender || sender._state !== 0 || !Array.isArray(sender._queue) || sender._queue.length) return undefined;
  return w._socket;
}

/** The private fields of ws 8.x that rawSocket reads. */
export interface WsInternals {
  _socket?: { write(b: Buffer): boolean; writable?: boolean };
  _sender?: { _state?: number; _queue?: unknown[] };
}
