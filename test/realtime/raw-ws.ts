// A raw TCP WebSocket client for tests that need what the `ws` client will not do: send frames
// in the same write as the upgrade request (before the server's hello), or never answer a close.
// Not a test file itself.
import net from 'node:net';
import { randomBytes } from 'node:crypto';

/** One masked client text frame (RFC 6455 §5.2), payload < 64 KiB. */
export function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const head =
    payload.length < 126
      ? Buffer.from([0x81, 0x80 | payload.length])
      : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([head, mask, body]);
}

export function upgradeRequest(port: number, token: string): string {
  return (
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
    `Sec-WebSocket-Protocol: nchat.v1, bearer.${token}\r\n\r\n`
  );
}

export interface ServerFrames {
  status: string;
  texts: string[];
  close?: { code: number; reason: string };
}

/** Parses what the server sent: the HTTP status line, its text frames (unmasked) and a close frame. */
export function parseServerBytes(all: Buffer): ServerFrames {
  const end = all.indexOf('\r\n\r\n');
  const status = all.subarray(0, all.indexOf('\r\n')).toString();
  const out: ServerFrames = { status, texts: [] };
  let i = end + 4;
  while (end >= 0 && i + 2 <= all.length) {
    const op = all[i] & 0x0f;
    let len = all[i + 1] & 0x7f;
    let p = i + 2;
    if (len === 126) {
      len = all.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      len = Number(all.readBigUInt64BE(p));
      p += 8;
    }
    if (p + len > all.length) break;
    const payload = all.subarray(p, p + len);
    if (op === 0x1) out.texts.push(payload.toString());
    if (op === 0x8) out.close = { code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005, reason: payload.subarray(2).toString() };
    i = p + len;
  }
  return out;
}

/**
 * Opens a TCP connection and writes the upgrade request followed by `frames` in ONE write, so
 * the frames reach the server with the upgrade itself, before it can have sent hello. Collects
 * everything the server sends until it closes the TCP connection or `ms` pass.
 */
export async function upgradeWithFrames(port: number, token: string, frames: Buffer[], ms = 5000): Promise<ServerFrames> {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const chunks: Buffer[] = [];
  sock.on('data', (d) => {
    chunks.push(d);
    // Answer nothing (no close reply): the server's close frame is all we wait for.
    if (parseServerBytes(Buffer.concat(chunks)).close) sock.destroy();
  });
  sock.write(Buffer.concat([Buffer.from(upgradeRequest(port, token)), ...frames]));
  await new Promise<void>((r) => {
    const t = setTimeout(() => {
      sock.destroy();
      r();
    }, ms);
    sock.once('close', () => {
      clearTimeout(t);
      r();
    });
  });
  return parseServerBytes(Buffer.concat(chunks));
}

/**
 * Completes an upgrade, waits for the server's hello (so the connection is set up and counted,
 * not still starting or already refused), then never reads nor answers: the server's close
 * handshake cannot finish.
 */
export async function mute(port: number, token: string, ms = 10_000): Promise<net.Socket> {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  sock.write(upgradeRequest(port, token));
  const chunks: Buffer[] = [];
  const seen = await new Promise<ServerFrames>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no hello within ${ms} ms: ${Buffer.concat(chunks).toString().slice(0, 300)}`)), ms);
    const onData = (d: Buffer) => {
      chunks.push(d);
      const frames = parseServerBytes(Buffer.concat(chunks));
      if (!/^HTTP\/1.1 101/.test(frames.status) && frames.status.length > 0) {
        clearTimeout(t);
        reject(new Error(`upgrade refused: ${frames.status}`));
      } else if (frames.close || frames.texts.some((x) => x.includes('"hello"'))) {
        clearTimeout(t);
        sock.off('data', onData);
        resolve(frames);
      }
    };
    sock.on('data', onData);
  });
  if (seen.close) throw new Error(`closed before it could be held: ${seen.close.code} ${seen.close.reason}`);
  sock.pause();
  return sock;
}
