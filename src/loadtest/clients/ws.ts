// A WebSocket client that speaks ɳChat's protocol (docs/API.md): bearer token in
// Sec-WebSocket-Protocol, server frames are JSON arrays of events, `hello` first.
// connectMs = TCP connect + HTTP upgrade + the `hello` event, measured with performance.now().
import WebSocket from 'ws';
import type { ClientOp, ServerEvent } from '../../protocol/ws.js';

export interface WsConnectResult {
  ok: boolean;
  connectMs: number;
  error?: string;
}

export class NchatSocket {
  ws: WebSocket | null = null;
  open = false;
  /** True when the generator closed it (ramp-down, churn, stop); false for an unexpected close. */
  intentional = false;
  onEvent: (e: ServerEvent, at: number) => void = () => undefined;
  onClose: (code: number, intentional: boolean) => void = () => undefined;

  constructor(
    readonly wsUrl: string,
    public token: string,
  ) {}

  connect(timeoutMs: number): Promise<WsConnectResult> {
    const t0 = performance.now();
    this.intentional = false;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (r: WsConnectResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const ws = new WebSocket(this.wsUrl, ['nchat.v1', `bearer.${this.token}`], { perMessageDeflate: false, handshakeTimeout: timeoutMs });
      this.ws = ws;
      const timer = setTimeout(() => {
        settle({ ok: false, connectMs: performance.now() - t0, error: 'TIMEOUT' });
        this.intentional = true;
        ws.terminate();
      }, timeoutMs);
      ws.on('message', (data) => {
        const at = performance.now();
        let events: unknown;
        try {
          events = JSON.parse(data.toString());
        } catch {
          return;
        }
        const list = Array.isArray(events) ? events : [events];
        for (const e of list as ServerEvent[]) {
          if (!e || typeof e !== 'object') continue;
          if (e.type === 'hello' && !settled) {
            this.open = true;
            settle({ ok: true, connectMs: at - t0 });
          }
          this.onEvent(e, at);
        }
      });
      ws.on('unexpected-response', (_req, res) => {
        settle({ ok: false, connectMs: performance.now() - t0, error: `HTTP_${res.statusCode}` });
        res.resume();
        ws.terminate();
      });
      ws.on('error', (err) =>
        settle({ ok: false, connectMs: performance.now() - t0, error: (err as { code?: string }).code ?? err.message.slice(0, 60) }),
      );
      ws.on('close', (code) => {
        const wasOpen = this.open;
        this.open = false;
        settle({ ok: false, connectMs: performance.now() - t0, error: `CLOSED_${code}` });
        if (wasOpen) this.onClose(code, this.intentional);
      });
    });
  }

  /** Sends one client op (typed by the protocol: a wrong field fails the type check here); false when the socket is not open. */
  send(op: ClientOp): boolean {
    if (!this.open || !this.ws) return false;
    this.ws.send(JSON.stringify(op));
    return true;
  }

  close(): void {
    this.intentional = true;
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000);
  }

  terminate(): void {
    this.intentional = true;
    this.ws?.terminate();
  }
}

/** http://host:port → ws://host:port/ws */
export function wsUrlOf(origin: string): string {
  return origin.replace(/^http/, 'ws').replace(/\/+$/, '') + '/ws';
}
