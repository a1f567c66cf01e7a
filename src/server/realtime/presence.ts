// Presence: online / away / offline per user, across every node, shown only to people who share a
// channel or DM with the user.
//
// How it works:
// - Each node knows its own connections. A user's local status is `online` if any local
//   connection is not away, `away` if all are, otherwise the user has no local status.
// - Nodes tell each other their local status changes on topic `sys:presence` (`presence.node`),
//   plus a full `presence.snapshot` every SNAPSHOT_MS and in answer to a starting node's
//   `presence.sync`. Entries of a node not heard from for 3 × SNAPSHOT_MS are dropped (crashed node).
// - Effective status = online if any node says online, else away if any says away, else offline.
//   `onlineUserIds` (for @here) answers from that map, so it is cluster-wide.
// - Debounce: going online is immediate (coalesced per tick by the hub); going offline waits
//   OFFLINE_GRACE_MS, so a reconnect (network blip, deploy) shows no flicker; away/online
//   switches are applied after AWAY_DEBOUNCE_MS of stability.
// - Who tells clients: the node that knows the user's channels (the user is, or was within
//   RECENT_MS, connected to it) publishes `{type:'presence'}` to each of the user's channel topics
//   when the effective status changes in its view. Channel subscribers are exactly the people who
//   share a channel, so presence never reaches anyone else; the hub delivers one copy per tick
//   to a recipient sharing several channels. When two nodes race (both lose the user at once)
//   both may announce: duplicates of an idempotent state are harmless.
import type { Broker, ClusterEvent } from '../broker/broker.js';
import { channelTopic, presenceTopic } from '../broker/broker.js';
import type { PresenceView } from '../services/context.js';

export type Status = 'online' | 'away' | 'offline';

export interface PresenceTiming {
  offlineGraceMs: number;
  awayDebounceMs: number;
  snapshotMs: number;
}

export const defaultPresenceTiming: PresenceTiming = { offlineGraceMs: 3000, awayDebounceMs: 1000, snapshotMs: 30_000 };
const RECENT_MS = 15_000;

interface Local {
  conns: number;
  away: number;
  /** Status last published for this node (what other nodes believe). */
  published: 'online' | 'away' | 'offline';
  timer?: NodeJS.Timeout;
  /** Channels of the last connection to close (the hub has forgotten them by then). */
  lastChannels: string[];
}

export class Presence implements PresenceView {
  private readonly local = new Map<string, Local>();
  /** userId → nodeId → status (absent = offline on that node). */
  private readonly cluster = new Map<string, Map<string, 'online' | 'away'>>();
  private readonly nodeSeen = new Map<string, number>();
  /** Users that were local recently, with their channels then. */
  private readonly recent = new Map<string, { channels: string[]; until: number }>();
  private readonly off: () => void;
  private readonly ticker: NodeJS.Timeout;
  private stopped = false;
  /** Current channels of a locally connected user; given once by the realtime layer (useChannelsOf). */
  private channelsOf: ((userId: string) => string[]) | undefined;

  /**
   * Built by the composition root before the services (they read onlineUserIds for @here) and
   * handed to the realtime layer, which counts connections in and out and, through
   * useChannelsOf, tells presence which channels a local user is in.
   */
  constructor(
    private readonly broker: Broker,
    readonly nodeId: string,
    private readonly timing: PresenceTiming = defaultPresenceTiming,
  ) {
    this.off = broker.subscribe(presenceTopic, (e) => this.onCluster(e as ClusterEvent));
    this.ticker = setInterval(() => this.tick(), timing.snapshotMs).unref();
    // Ask the other nodes for their state once our subscription is live (their answers would be
    // missed before); again after a broker gap, with our own state, since events may have been lost.
    const sync = () => {
      if (this.stopped) return;
      this.publishSnapshot();
      broker.publish(presenceTopic, { type: 'presence.sync', nodeId });
    };
    void (broker.whenSubscribed?.() ?? Promise.resolve()).then(sync);
    broker.onGap(sync);
  }

  /**
   * Where the current channels of a locally connected user come from (the hub's subscriptions of
   * that user's connections). Set once, by the realtime layer, before any connection is counted.
   */
  useChannelsOf(channelsOf: (userId: string) => string[]): void {
    if (this.channelsOf) throw new Error('presence: channelsOf is already set (one realtime layer per Presence)');
    this.channelsOf = channelsOf;
  }

  onlineUserIds(userIds: string[]): string[] {
    return userIds.filter((id) => this.effective(id) === 'online');
  }

  status(userId: string): Status {
    return this.effective(userId);
  }

  connected(userId: string): void {
    const l = this.local.get(userId) ?? { conns: 0, away: 0, published: 'offline' as const, lastChannels: [] as string[] };
    this.local.set(userId, l);
    l.conns++;
    this.update(userId, l);
  }

  disconnected(userId: string, wasAway: boolean, channels: string[]): void {
    const l = this.local.get(userId);
    if (!l) return;
    l.conns--;
    if (l.conns <= 0) l.lastChannels = channels;
    if (wasAway) l.away--;
    this.update(userId, l);
  }

  setAway(userId: string, away: boolean): void {
    const l = this.local.get(userId);
    if (!l) return;
    l.away += away ? 1 : -1;
    this.update(userId, l);
  }

  /** Stops timers and the subscription; publishes nothing (other nodes expire this one). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.ticker);
    for (const l of this.local.values()) clearTimeout(l.timer);
    this.off();
  }

  private update(userId: string, l: Local): void {
    const want: Local['published'] = l.conns <= 0 ? 'offline' : l.away >= l.conns ? 'away' : 'online';
    clearTimeout(l.timer);
    l.timer = undefined;
    if (want === l.published) return;
    const apply = () => {
      l.timer = undefined;
      if (this.stopped) return;
      l.published = want;
      if (want === 'offline') {
        this.recent.set(userId, { channels: l.lastChannels, until: Date.now() + RECENT_MS });
        this.local.delete(userId);
      }
      this.broker.publish(presenceTopic, { type: 'presence.node', nodeId: this.nodeId, userId, status: want });
    };
    const delay = want === 'offline' ? this.timing.offlineGraceMs : l.published === 'offline' ? 0 : this.timing.awayDebounceMs;
    if (delay === 0) apply();
    else l.timer = setTimeout(apply, delay).unref();
  }

  private effective(userId: string): Status {
    const m = this.cluster.get(userId);
    if (!m) return 'offline';
    let away = false;
    for (const s of m.values()) {
      if (s === 'online') return 'online';
      away = true;
    }
    return away ? 'away' : 'offline';
  }

  private onCluster(e: ClusterEvent): void {
    if (this.stopped) return;
    this.nodeSeen.set(e.nodeId, Date.now());
    switch (e.type) {
      case 'presence.node':
        this.setNode(e.userId, e.nodeId, e.status);
        break;
      case 'presence.snapshot': {
        const now = new Map<string, 'online' | 'away'>();
        for (const id of e.online) now.set(id, 'online');
        for (const id of e.away) now.set(id, 'away');
        for (const [userId, m] of this.cluster) if (m.has(e.nodeId) && !now.has(userId)) this.setNode(userId, e.nodeId, 'offline');
        for (const [userId, s] of now) this.setNode(userId, e.nodeId, s);
        break;
      }
      case 'presence.sync':
        if (e.nodeId !== this.nodeId) this.publishSnapshot();
        break;
    }
  }

  private setNode(userId: string, nodeId: string, status: Status): void {
    const before = this.effective(userId);
    let m = this.cluster.get(userId);
    if (status === 'offline') {
      if (!m?.delete(nodeId)) return;
      if (m.size === 0) this.cluster.delete(userId);
    } else {
      if (!m) this.cluster.set(userId, (m = new Map()));
      if (m.get(nodeId) === status) return;
      m.set(nodeId, status);
    }
    const after = this.effective(userId);
    if (before !== after) this.announce(userId, after);
  }

  private announce(userId: string, status: Status): void {
    let channels: string[] | undefined;
    const l = this.local.get(userId);
    if (l && l.conns > 0) channels = this.channelsOf?.(userId) ?? [];
    else if (l) channels = l.lastChannels;
    else {
      const r = this.recent.get(userId);
      if (r && r.until > Date.now()) channels = r.channels;
    }
    if (!channels) return;
    for (const ch of channels) this.broker.publish(channelTopic(ch), { type: 'presence', userId, status });
  }

  private publishSnapshot(): void {
    const online: string[] = [];
    const away: string[] = [];
    for (const [userId, l] of this.local) {
      if (l.published === 'online') online.push(userId);
      else if (l.published === 'away') away.push(userId);
    }
    this.broker.publish(presenceTopic, { type: 'presence.snapshot', nodeId: this.nodeId, online, away });
  }

  private tick(): void {
    this.publishSnapshot();
    const now = Date.now();
    for (const [userId, r] of this.recent) if (r.until <= now) this.recent.delete(userId);
    for (const [nodeId, seen] of this.nodeSeen) {
      if (nodeId === this.nodeId || now - seen < 3 * this.timing.snapshotMs) continue;
      this.nodeSeen.delete(nodeId);
      for (const userId of [...this.cluster.keys()]) this.setNode(userId, nodeId, 'offline');
    }
  }
}
