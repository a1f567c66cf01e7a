// GET /ws: the HTTP upgrade. Everything is checked before the upgrade completes, so a refused
// client gets a plain HTTP answer (and browsers an error event), never an open socket:
//   503 while draining · 403 when Origin is present and not allowed · 401 without a valid token ·
//   429 TOO_MANY_CONNECTIONS when the user already has config.wsMaxSocketsPerUser sockets on this
//   node (per node: a user's sockets on other nodes are not counted).
// Token: `Sec-WebSocket-Protocol: nchat.v1, bearer.<token>` (browsers), or `?token=` (tools).
// The accepted subprotocol is always `nchat.v1`; the bearer entry is never echoed back. A client
// that sends Sec-WebSocket-Protocol without `nchat.v1` gets 400 BAD_REQUEST (accepting it would
// answer no subprotocol, and the client must then drop the socket: a bare 1006).
// Origin: allowed when absent (non-browser clients), equal to the request's own Host, or listed
// in config.allowedOrigins. Compression is off and frames are capped at config.wsMaxPayload
// (a larger frame closes the socket with 1009).
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { AppError } from '../errors.js';
import { isStoreUnavailable, storeUnavailableError } from '../store/unavailable.js';
import type { Actor, Services } from '../services/index.js';

export const SUBPROTOCOL = 'nchat.v1';

export interface Upgraded {
  ws: WebSocket;
  actor: Actor;
  /** Access token expiry (ms since epoch) when the token carries `exp`. */
  expiresAtMs: number | undefined;
}

export class Gateway {
  draining = false;
  readonly wss: WebSocketServer;
  rejected = 0;

  constructor(
    private readonly server: Server,
    private readonly d: {
      config: Config;
      services: Services;
      logger: Logger;
      /** Open connections of the user on this node. */
      socketsOf(userId: string): number;
      onConnection(u: Upgraded): void;
    },
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: d.config.wsMaxPayload,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    server.on('upgrade', this.onUpgrade);
  }

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://x');
    } catch {
      return refuse(socket, 400, 'BAD_REQUEST', 'bad request target');
    }
    if (url.pathname !== '/ws') {
      // Another upgrade handler may own this path; answer only when nobody else listens.
      if (this.server.listenerCount('upgrade') === 1) refuse(socket, 404, 'NOT_FOUND', 'no WebSocket endpoint here');
      return;
    }
    if (this.draining) return this.reject(socket, 503, 'UNAVAILABLE', 'server is restarting; retry shortly');
    const origin = req.headers.origin;
    if (origin !== undefined && !this.originAllowed(origin, req.headers.host))
      return this.reject(socket, 403, 'FORBIDDEN', 'origin not allowed');
    // A client that offers subprotocols must offer ours: ws would otherwise complete the upgrade
    // without a Sec-WebSocket-Protocol answer, which the client (browsers, ws) must fail at once —
    // an abrupt 1006 with no reason. Refused here with a plain 400 that says what to send.
    const offered = req.headers['sec-websocket-protocol'];
    if (offered !== undefined && !offered.split(',').some((p) => p.trim() === SUBPROTOCOL))
      return this.reject(
        socket,
        400,
        'BAD_REQUEST',
        `offer the subprotocol ${SUBPROTOCOL} (Sec-WebSocket-Protocol: ${SUBPROTOCOL}, bearer.<token>)`,
      );
    const token = tokenOf(req, url);
    if (!token) return this.reject(socket, 401, 'UNAUTHENTICATED', 'missing access token');
    this.d.services.auth.verifyAccessToken(token).then(
      (actor) => {
        if (socket.destroyed) return;
        if (this.draining) return this.reject(socket, 503, 'UNAVAILABLE', 'server is restarting; retry shortly');
        // Checked right before the (synchronous) upgrade registers the connection, so concurrent
        // upgrades of one user cannot all slip under the cap.
        const max = this.d.config.wsMaxSocketsPerUser;
        if (this.d.socketsOf(actor.userId) >= max)
          return this.reject(socket, 429, 'TOO_MANY_CONNECTIONS', `at most ${max} open connections per user`);
        this.wss.handleUpgrade(req, socket, head, (ws) => this.d.onConnection({ ws, actor, expiresAtMs: expiryOf(token) }));
      },
      (err: unknown) => {
        // The status comes from the code, as over HTTP: 401 for bad tokens, 403 ACCOUNT_DEACTIVATED.
        if (err instanceof AppError) return this.reject(socket, err.status, err.code, err.message);
        if (isStoreUnavailable(err)) return this.reject(socket, 503, 'UNAVAILABLE', storeUnavailableError(err).message);
        this.d.logger.error({ err }, 'token verification failed');
        this.reject(socket, 500, 'INTERNAL', 'internal error');
      },
    );
  };

  private originAllowed(origin: string, host: string | undefined): boolean {
    if (this.d.config.allowedOrigins.includes(origin)) return true;
    try {
      return host !== undefined && new URL(origin).host === host.toLowerCase();
    } catch {
      return false;
    }
  }

  private reject(socket: Duplex, status: number, code: string, message: string): void {
    this.rejected++;
    refuse(socket, status, code, message);
  }
}

const reasons: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${reasons[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      (status === 503 ? 'Retry-After: 2\r\n' : '') +
      `\r\n${body}`,
  );
  socket.once('finish', () => socket.destroy());
}

function tokenOf(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers['sec-websocket-protocol'];
  if (header) {
    for (const p of header.split(',')) {
      const v = p.trim();
      if (v.startsWith('bearer.') && v.length > 7) return v.slice(7);
    }
  }
  return url.searchParams.get('token') || undefined;
}

/** `exp` of an already verified JWT (only used to close the socket when the token expires). */
function expiryOf(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
