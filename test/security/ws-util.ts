// WebSocket helpers for the security rows (not a test file itself): an upgrade attempt that
// reports the HTTP refusal (status + error code), and a connected client that collects events.
import { request } from 'node:http';
import WebSocket from 'ws';

export interface UpgradeResult {
  status: number;
  code?: string;
  /** The connected socket when the upgrade succeeded (status 101); the caller closes it. */
  ws?: WebSocket;
  /** Events received so far (collected from the first frame on, so hello is never missed). */
  events: any[];
}

/** Tries GET /ws with `token` (subprotocol, as browsers send it) and optional extra headers. */
export function tryUpgrade(url: string, token: string | undefined, headers: Record<string, string> = {}): Promise<UpgradeResult> {
  return new Promise((resolve, reject) => {
    const protocols = token === undefined ? ['nchat.v1'] : ['nchat.v1', `bearer.${token}`];
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, protocols, { headers });
    const events: any[] = [];
    ws.on('message', (d) => {
      for (const e of JSON.parse(d.toString())) events.push(e);
    });
    ws.once('open', () => resolve({ status: 101, ws, events }));
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString();
      });
      res.on('end', () => {
        let code: string | undefined;
        try {
          code = JSON.parse(text)?.error?.code;
        } catch {
          /* no body */
        }
        resolve({ status: res.statusCode ?? 0, code, events });
      });
    });
    ws.once('error', (e) => reject(e));
  });
}

/** A connected client: every event received, and the close code once closed. */
export interface Client {
  ws: WebSocket;
  events: any[];
  closed: Promise<{ code: number; reason: string }>;
  send(frame: unknown): void;
  sendRaw(text: string): void;
  /** Resolves with the first event matching `pred` (already received ones included). */
  next(pred: (e: any) => boolean, ms?: number): Promise<any>;
}

export async function connect(url: string, token: string): Promise<Client> {
  const r = await tryUpgrade(url, token);
  if (!r.ws) throw new Error(`upgrade refused: ${r.status} ${r.code}`);
  const ws = r.ws;
  const events = r.events;
  const waiters: Array<() => void> = [];
  ws.on('message', () => {
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((res) =>
    ws.once('close', (code, reason) => res({ code, reason: reason.toString() })),
  );
  const c: Client = {
    ws,
    events,
    closed,
    send: (f) => ws.send(JSON.stringify(f)),
    sendRaw: (t) => ws.send(t),
    async next(pred, ms = 5000) {
      const until = Date.now() + ms;
      for (;;) {
        const hit = events.find(pred);
        if (hit) return hit;
        if (Date.now() > until) throw new Error(`no matching event in ${ms} ms; got ${JSON.stringify(events).slice(0, 500)}`);
        await new Promise<void>((res) => {
          waiters.push(res);
          setTimeout(res, 50);
        });
      }
    },
  };
  await c.next((e) => e.type === 'hello');
  return c;
}

/** A raw HTTP request whose path is sent byte for byte (fetch would resolve `..` and `%2e%2e`). */
export function rawGet(
  url: string,
  path: string,
  token?: string,
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path, method: 'GET', headers: token ? { authorization: `Bearer ${token}` } : {} },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString('latin1');
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
