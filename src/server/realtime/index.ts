// The realtime layer's entry point: GET /ws on the given HTTP server, the hub, heartbeats and
// graceful drain. main.ts calls attachRealtime once, after services exist, with the node's
// Presence (built before the services, which read it for @here); this layer counts connections
// into it and tells it a local user's channels (Presence.useChannelsOf).
//
// Connection start-up order ("subscribe first, then read"):
//   user topic u:<id> → read positions → subscribe those channels → wait until the broker has
//   them → read positions again → hello with that second read.
// Every message with seq ≤ hello's lastSeq is in the store (the client resumes/fetches it);
// every message after it is delivered live. Frames that arrive before hello are held.
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { Broker } from '../broker/broker.js';
import { CloseCodes } from '../../protocol/events.js';
import { newId } from '../ids.js';
import type { PresenceView, Services } from '../services/index.js';
import { Connection, slowConsumerCloses, TYPING_THROTTLE_MS } from './connection.js';
import { PING_FRAME, rawSocket } from './frames.js';
import { Gateway, type Upgraded } from './gateway.js';
import { Hub } from './hub.js';
import type { Presence } from './presence.js';
import { isStoreUnavailable } from '../store/unavailable.js';

export interface RealtimeStats {
  connections: number;
  users: number;
  channels: number;
  framesSent: number;
  eventsSent: number;
  bytesSent: number;
  slowConsumerCloses: number;
  upgradesRejected: number;
  repairs: number;
  repairedMessages: number;
  /** Events that could not be serialized (their connection closed with 1011, or dropped from a shared frame). */
  serializeFailures: number;
  /** Connections closed with 4008 because their queued replies passed NCHAT_WS_MAX_BUFFERED before a frame was built. */
  queuedBytesCloses: number;
}

export interface Realtime {
  presence: PresenceView;
  /** SIGTERM: refuse new upgrades (503), flush outboxes, close every socket with 1012 and reason JSON {retryInMs} (jittered), resolve when all are closed. */
  drain(): Promise<void>;
  stats(): RealtimeStats;
  /** @internal The node's hub, for tests and diagnostics (e.g. queue an event to one connection). */
  readonly hub: Hub;
}

export interface RealtimeDeps {
  config: Config;
  broker: Broker;
  services: Services;
  /** The node's presence (main.ts builds it before the services); stopped by main.ts after drain. */
  presence: Presence;
  logger: Logger;
}

/** Largest jittered reconnect hint sent on drain; clients add their own backoff on top. */
const RETRY_MIN_MS = 1000;
const RETRY_SPREAD_MS = 5000;

export function attachRealtime(server: Server, deps: RealtimeDeps): Realtime {
  const { config, broker, services, presence, logger } = deps;
  const log = logger.child({ component: 'realtime' });
  const hub = new Hub(broker, services, log, config.wsMaxBuffered);
  const conns = new Set<Connection>();
  presence.useChannelsOf(channelsOf);
  const typingSeen = new Map<string, number>();

  function channelsOf(userId: string): string[] {
    const out = new Set<string>();
    for (const c of hub.connectionsOf(userId)) for (const ch of c.channels) out.add(ch);
    return [...out];
  }

  const connDeps = {
    config,
    hub,
    services,
    broker,
    presence,
    logger: log,
    typingSeen,
    onClosed(conn: Connection) {
      conns.delete(conn);
      const channels = [...conn.channels];
      hub.remove(conn);
      if (conn.ready) presence.disconnected(conn.userId, conn.away, channels);
    },
  };

  const gateway = new Gateway(server, {
    config,
    services,
    logger: log,
    socketsOf: (userId: string) => hub.connectionCount(userId),
    onConnection({ ws, actor, expiresAtMs }: Upgraded) {
      const conn = new Connection(newId(), actor, ws, connDeps, expiresAtMs);
      conns.add(conn);
      hub.addUser(conn);
      startConnection(conn, { hub, services, presence, heartbeatMs: config.wsPingIntervalMs, live: () => conns.has(conn) }).catch(
        (err: unknown) => {
          // The database down (store/unavailable.ts) is a passing state, not a bug: 1013.
          if (isStoreUnavailable(err)) {
            log.warn({ err, connection: conn.id }, 'connection setup refused: store unavailable');
            return conn.close(CloseCodes.TRY_AGAIN_LATER, 'database unavailable; retry shortly');
          }
          log.error({ err, connection: conn.id }, 'connection setup failed');
          conn.close(CloseCodes.INTERNAL_ERROR, 'setup failed');
        },
      );
    },
  });

  // Sessions (services/sessions.ts, from this node or another): a revoked session's sockets close
  // with 4003 (sign in again); a user whose role or status changed is closed with 4001 (refresh
  // and reconnect: the new role applies to the new socket). Rare events, so a scan is fine.
  services.auth.sessions.onEvent((e) => {
    for (const c of [...conns]) {
      if (e.type === 'session.revoked' && c.actor.sessionId !== undefined && e.sessionIds.includes(c.actor.sessionId))
        c.close(CloseCodes.SESSION_REVOKED, 'session revoked');
      else if (e.type === 'user.changed' && c.userId === e.userId)
        c.close(CloseCodes.TOKEN_EXPIRED, 'account changed: refresh and reconnect');
    }
  });

  const heartbeat = startHeartbeat(conns, typingSeen, config.wsPingIntervalMs, log);

  let draining: Promise<void> | undefined;
  const drain = () =>
    (draining ??= (async () => {
      gateway.draining = true;
      hub.flush();
      await closeAll(conns, Math.min(config.shutdownGraceMs, 5000));
      clearInterval(heartbeat);
      // The gateway stays attached: upgrades keep getting 503 until the HTTP server closes.
      log.info('realtime drained');
    })());

  return {
    presence,
    drain,
    hub,
    stats: () => statsOf(conns, hub, gateway),
  };
}

/**
 * Heartbeat: each socket is pinged once per interval and terminated when it left two pings
 * unanswered. The pings are spread over the interval in small slices, one every
 * HEARTBEAT_SLICE_MS: pinging 10,000 sockets in one go is a burst of 10,000 writes that stalls
 * every delivery behind it, and so is a slice of 200 (the former 50 slices per 25 s: ~2 ms of
 * writes every 500 ms, in the light-load tail); 500 slices make it 20 pings every 50 ms. A ping
 * is the same 2 bytes for every socket, written straight to the socket when ws's sender is idle
 * (frames.ts), else through ws.ping. Each cycle also forgets typing throttle entries older than
 * the throttle.
 */
const HEARTBEAT_SLICE_MS = 50;
function startHeartbeat(conns: Set<Connection>, typingSeen: Map<string, number>, intervalMs: number, log: Logger): NodeJS.Timeout {
  const SLICES = Math.max(1, Math.min(500, Math.floor(intervalMs / HEARTBEAT_SLICE_MS)));
  let cycle: Connection[] = [];
  let cursor = 0;
  // One cycle is exactly SLICES ticks, whatever the number of sockets (fewer sockets than slices
  // must not make a cycle shorter than the interval: that would ping them more often).
  let slice = SLICES;
  return setInterval(() => {
    if (slice >= SLICES) {
      cycle = [...conns];
      cursor = 0;
      slice = 0;
      const old = Date.now() - TYPING_THROTTLE_MS;
      for (const [k, t] of typingSeen) if (t < old) typingSeen.delete(k);
    }
    slice++;
    const end = Math.ceil((slice * cycle.length) / SLICES);
    for (; cursor < end; cursor++) {
      const c = cycle[cursor];
      if (!conns.has(c)) continue;
      if (c.missedPongs >= 2) {
        log.debug({ connection: c.id }, 'heartbeat missed twice: terminating');
        c.ws.terminate();
        continue;
      }
      c.missedPongs++;
      try {
        const raw = c.ws.readyState === c.ws.OPEN ? rawSocket(c.ws) : undefined;
        if (raw) raw.write(PING_FRAME);
        else c.ws.ping();
      } catch {
        // socket already closing
      }
    }
  }, intervalMs / SLICES).unref();
}

/** Closes every socket with 1012 and a jittered {retryInMs}; waits up to graceMs, then terminates the rest. */
async function closeAll(conns: Set<Connection>, graceMs: number): Promise<void> {
  const closed = [...conns].map(
    (c) =>
      new Promise<void>((resolve) => {
        if (c.ws.readyState === c.ws.CLOSED) return resolve();
        c.ws.once('close', () => resolve());
        const retryInMs = RETRY_MIN_MS + Math.floor(Math.random() * RETRY_SPREAD_MS);
        c.close(CloseCodes.SERVICE_RESTART, JSON.stringify({ retryInMs }));
      }),
  );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(closed), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
  clearTimeout(timer);
  for (const c of conns) c.ws.terminate();
}

/**
 * A new connection's start-up, "subscribe first, then read" (see the header): its channels are
 * subscribed and the broker has them before the positions hello reports are read, so every
 * message after hello's lastSeq is delivered live. Stops quietly once `live()` is false (closed).
 */
async function startConnection(
  conn: Connection,
  d: { hub: Hub; services: Services; presence: Presence; heartbeatMs: number; live: () => boolean },
): Promise<void> {
  const { hub, services } = d;
  await hub.subscriptionsActive();
  const first = await services.channels.positions(conn.actor);
  if (!d.live()) return;
  for (const p of first) hub.subscribe(conn, p.channelId, p.lastSeq);
  await hub.subscriptionsActive();
  const positions = await services.channels.positions(conn.actor);
  if (!d.live()) return;
  const now = new Set(positions.map((p) => p.channelId));
  for (const p of positions) hub.subscribe(conn, p.channelId, p.lastSeq);
  for (const p of first) if (!now.has(p.channelId)) hub.unsubscribe(conn, p.channelId);
  await hub.subscriptionsActive();
  if (!d.live()) return;
  conn.hello(positions, d.heartbeatMs);
  if (!conn.ready) return;
  // Counted once its channels are known, so the "online" announcement reaches them.
  d.presence.connected(conn.userId);
  conn.start();
}

function statsOf(conns: Set<Connection>, hub: Hub, gateway: Gateway): RealtimeStats {
  const sent = hub.outbox.counters;
  return {
    connections: conns.size,
    users: new Set([...conns].map((c) => c.userId)).size,
    channels: hub.channelCount,
    framesSent: sent.frames,
    eventsSent: sent.events,
    bytesSent: sent.bytes,
    slowConsumerCloses,
    upgradesRejected: gateway.rejected,
    repairs: hub.counters.repairs,
    repairedMessages: hub.counters.repairedMessages,
    serializeFailures: sent.serializeFailures,
    queuedBytesCloses: sent.queuedBytesCloses,
  };
}
