// The client's state: one external store (subscribe + snapshot, read by React through
// useSyncExternalStore in hooks.ts). Every change replaces the objects it touches, so a selector
// returns the same reference while its part is unchanged and React skips the render.
// Messages are kept per channel by seq (the server's gapless order), so a message that arrives
// twice (live, replayed by resume, loaded by history) is stored once. A channel's loaded messages
// are one contiguous seq range: history pages extend it at either end, and a jump to a message
// outside it replaces it (setRange) rather than leaving a hole (chat.ts keeps to this).
import type { ChannelListItem, Message, Notification, PresenceStatus, PublicUser, User } from '../../src/protocol/index.js';
import type { Upload } from './files.js';
import type { ConnState, Pending } from './realtime.js';

export interface ChannelMessages {
  /** Messages by seq, ascending (roots and replies). */
  list: Message[];
  /** No older page left (the first message is seq 1 or history said so). */
  complete: boolean;
  loading: boolean;
  /**
   * Newer messages exist beyond the last loaded one (after a jump to an older message): they are
   * paged in forward (chat.loadNewer), and live messages append only while they continue the range.
   */
  hasNewer: boolean;
  loadingNewer: boolean;
  /** Bumped each time the list is replaced (setRange): pages asked for before then are dropped, and the view re-positions. */
  generation: number;
}

export interface State {
  me: User | null;
  users: ReadonlyMap<string, PublicUser>;
  channels: ReadonlyMap<string, ChannelListItem>;
  messages: ReadonlyMap<string, ChannelMessages>;
  threads: ReadonlyMap<string, Message[]>;
  /** channelId → userId → expiry (ms since epoch). */
  typing: ReadonlyMap<string, ReadonlyMap<string, number>>;
  presence: ReadonlyMap<string, PresenceStatus>;
  outbox: Pending[];
  notifications: Notification[];
  conn: ConnState;
  currentChannelId: string | null;
  threadRootId: string | null;
  /** Where the "new messages" divider sits in the open channel (its readSeq when opened). */
  dividerSeq: number | null;
  /** A message to scroll to and highlight (search, notifications). */
  focusSeq: number | null;
  toast: string | null;
  /** Uploads per composer (channel id, or root id for a thread reply). */
  uploads: ReadonlyMap<string, Upload[]>;
}

export const initialState: State = {
  me: null,
  users: new Map(),
  channels: new Map(),
  messages: new Map(),
  threads: new Map(),
  typing: new Map(),
  presence: new Map(),
  outbox: [],
  notifications: [],
  conn: 'connecting',
  currentChannelId: null,
  threadRootId: null,
  dividerSeq: null,
  focusSeq: null,
  toast: null,
  uploads: new Map(),
};

export class Store {
  private state: State = initialState;
  private readonly listeners = new Set<() => void>();

  get = (): State => this.state;

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  set(patch: Partial<State>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }

  reset(): void {
    this.set(initialState);
  }

  setUsers(users: PublicUser[]): void {
    if (users.length === 0) return;
    const m = new Map(this.state.users);
    for (const u of users) m.set(u.id, u);
    this.set({ users: m });
  }

  setChannels(list: ChannelListItem[]): void {
    this.set({ channels: new Map(list.map((c) => [c.id, c])) });
  }

  patchChannel(id: string, patch: Partial<ChannelListItem>): void {
    const c = this.state.channels.get(id);
    if (!c) return;
    const m = new Map(this.state.channels);
    m.set(id, { ...c, ...patch });
    this.set({ channels: m });
  }

  removeChannel(id: string): void {
    const m = new Map(this.state.channels);
    m.delete(id);
    this.set({ channels: m, currentChannelId: this.state.currentChannelId === id ? null : this.state.currentChannelId });
  }

  channelMessages(id: string): ChannelMessages {
    return (
      this.state.messages.get(id) ?? { list: [], complete: false, loading: false, hasNewer: false, loadingNewer: false, generation: 0 }
    );
  }

  patchMessages(id: string, patch: Partial<ChannelMessages>): void {
    const m = new Map(this.state.messages);
    m.set(id, { ...this.channelMessages(id), ...patch });
    this.set({ messages: m });
  }

  /** Merges messages into a channel by seq; a known seq is replaced (newer state), never doubled. */
  mergeMessages(channelId: string, incoming: Message[], complete?: boolean): void {
    const cur = this.channelMessages(channelId);
    const list = mergeBySeq(cur.list, incoming);
    this.patchMessages(channelId, { list, complete: complete ?? (cur.complete || list[0]?.seq === 1) });
    this.mergeIntoThreads(incoming);
  }

  /** Threads that are open see their replies (and their root's new state) too. */
  private mergeIntoThreads(incoming: Message[]): void {
    for (const msg of incoming) {
      if (msg.parentId && this.state.threads.has(msg.parentId)) this.mergeThread(msg.parentId, [msg]);
      const t = this.state.threads.get(msg.id);
      if (t && !msg.parentId) this.mergeThread(msg.id, [msg]);
    }
  }

  /**
   * Replaces a channel's loaded range with these messages (one contiguous page: a jump, or the
   * latest page again). `complete`: nothing older exists; `hasNewer`: something newer does.
   */
  setRange(channelId: string, messages: Message[], complete: boolean, hasNewer: boolean): void {
    const cur = this.channelMessages(channelId);
    const list = mergeBySeq([], messages);
    this.patchMessages(channelId, { list, complete: complete || list[0]?.seq === 1, hasNewer, generation: cur.generation + 1 });
    this.mergeIntoThreads(messages);
  }

  /** Applies a change to one message wherever it is loaded (channel list, threads). */
  updateMessage(channelId: string, id: string, fn: (m: Message) => Message): void {
    const cur = this.channelMessages(channelId);
    const i = cur.list.findIndex((m) => m.id === id);
    if (i >= 0) {
      const list = cur.list.slice();
      list[i] = fn(list[i]);
      this.patchMessages(channelId, { list });
    }
    for (const [root, msgs] of this.state.threads) {
      const j = msgs.findIndex((m) => m.id === id);
      if (j >= 0) {
        const next = msgs.slice();
        next[j] = fn(next[j]);
        const t = new Map(this.state.threads);
        t.set(root, next);
        this.set({ threads: t });
      }
    }
  }

  mergeThread(rootId: string, msgs: Message[]): void {
    const t = new Map(this.state.threads);
    t.set(rootId, mergeBySeq(t.get(rootId) ?? [], msgs));
    this.set({ threads: t });
  }

  setTyping(channelId: string, userId: string, untilMs: number): void {
    const t = new Map(this.state.typing);
    const c = new Map(t.get(channelId) ?? []);
    if (untilMs > 0) c.set(userId, untilMs);
    else c.delete(userId);
    t.set(channelId, c);
    this.set({ typing: t });
  }

  setUploads(key: string, fn: (list: Upload[]) => Upload[]): void {
    const m = new Map(this.state.uploads);
    m.set(key, fn(m.get(key) ?? []));
    this.set({ uploads: m });
  }

  setPresence(userId: string, status: PresenceStatus): void {
    if (this.state.presence.get(userId) === status) return;
    const p = new Map(this.state.presence);
    p.set(userId, status);
    this.set({ presence: p });
  }
}

/** Sorted merge by seq; the incoming copy wins on equal seq (it is the newer state). */
export function mergeBySeq(cur: Message[], incoming: Message[]): Message[] {
  if (incoming.length === 0) return cur;
  const fresh = [...incoming].sort((a, b) => a.seq - b.seq);
  // Fast path: live messages append at the end.
  if (cur.length === 0 || fresh[0].seq > cur[cur.length - 1].seq) return dedupeSorted([...cur, ...fresh]);
  const bySeq = new Map<number, Message>();
  for (const m of cur) bySeq.set(m.seq, m);
  for (const m of fresh) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function dedupeSorted(list: Message[]): Message[] {
  const out: Message[] = [];
  for (const m of list) {
    if (out.length && out[out.length - 1].seq === m.seq) out[out.length - 1] = m;
    else out.push(m);
  }
  return out;
}

/** Display name for a user id (falls back to a short id while the profile loads). */
export function nameOf(users: ReadonlyMap<string, PublicUser>, id: string): string {
  const u = users.get(id);
  return u ? u.displayName || u.username : `user ${id.slice(0, 6)}`;
}

/** A channel's label in the sidebar: #name, or the other people's names for a DM. */
export function channelLabel(c: ChannelListItem, users: ReadonlyMap<string, PublicUser>, meId: string | undefined): string {
  if (c.type === 'direct' || c.type === 'group') {
    const others = (c.dmUserIds ?? []).filter((u) => u !== meId);
    return others.length ? others.map((u) => nameOf(users, u)).join(', ') : nameOf(users, meId ?? '');
  }
  return c.name ?? '';
}

/** The sidebar's order: rooms by name, then DMs (archived channels hidden). Alt+↑/↓ follows it. */
export function sidebarOrder(channels: ReadonlyMap<string, ChannelListItem>): { rooms: ChannelListItem[]; dms: ChannelListItem[] } {
  const all = [...channels.values()].filter((c) => !c.archivedAt);
  return {
    rooms: all.filter((c) => c.type === 'public' || c.type === 'private').sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '')),
    dms: all.filter((c) => c.type === 'direct' || c.type === 'group'),
  };
}
