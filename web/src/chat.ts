// The controller: actions the UI calls (open a channel, send, edit, react, …) and the handling of
// every server event, over the REST client (api.ts), the realtime client (realtime.ts) and the
// store (store.ts). Components read the store and call these; none of them talks to the network.
import type {
  Channel,
  ChannelListItem,
  ChannelsReply,
  Member,
  Message,
  MessagesReply,
  Notification as AppNotification,
  NotificationsReply,
  PublicUser,
  ServerEvent,
  ThreadReply,
  User,
  UsersReply,
} from '../../src/protocol/index.js';
import { plusOne } from './counts.js';
import { notificationPhrase } from './notification-text.js';
import { Api } from './api.js';
import { forgetBlob, upload } from './files.js';
import { RealtimeClient } from './realtime.js';
import { type ChannelMessages, Store } from './store.js';

const PAGE = 50;
/** Pages read when scrolling back: larger, so a long history needs fewer round trips (server max 200). */
const OLDER_PAGE = 100;
/** Pages read when scrolling forward through a range left by a jump (same reasoning). */
const NEWER_PAGE = 100;
/** Messages shown before a jump's target; the rest of the page (PAGE in all) follows it. */
const JUMP_BEFORE = 25;

export class Chat {
  readonly store = new Store();
  readonly api: Api;
  rt: RealtimeClient | null = null;
  private userFetch = new Set<string>();
  private userTimer: ReturnType<typeof setTimeout> | undefined;
  private lastTypingSent = 0;
  private readSent = new Map<string, number>();
  private refreshSeq = 0;
  /** The newest range replacement asked for per channel: an older one's reply is dropped. */
  private replaceToken = new Map<string, number>();

  constructor(base = '') {
    this.api = new Api(base);
  }

  /** After sign-in (or a reload with a stored session): profile, channels, realtime. */
  async boot(): Promise<void> {
    const s = this.api.current;
    if (!s) return;
    const me = await this.api.get<User>('/api/users/me');
    this.store.set({ me });
    this.store.setUsers([me]);
    await this.refreshChannels();
    void this.loadNotifications();
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    this.rt?.stop();
    this.rt = new RealtimeClient(
      `${proto}//${location.host}/ws`,
      {
        token: () => this.api.current?.accessToken ?? null,
        refresh: () => this.api.refresh(),
        revoked: () => void this.signout(false),
        event: (e) => this.onEvent(e),
        state: (conn) => this.store.set({ conn }),
        outbox: (outbox) => this.store.set({ outbox }),
        holds: (id) => this.store.get().messages.has(id),
        hello: () => {
          // Counts may have moved while away (replay covers the open channels' messages), and
          // presence is only sent as changes: forget it; refreshChannels asks again for the DMs.
          this.store.set({ presence: new Map() });
          void this.refreshChannels();
          // Notifications are not replayed: one made before this socket was subscribed (the boot
          // fetch raced the connect) or while it was away is only in the list. Fetched again here.
          void this.loadNotifications();
        },
      },
      `nchat.outbox.${me.id}`,
    );
    this.rt.start();
  }

  async signout(tellServer = true): Promise<void> {
    this.rt?.stop();
    this.rt = null;
    if (tellServer) await this.api.signout();
    else this.api.forget();
    this.store.reset();
  }

  /**
   * Reloads the channel list. Replies can arrive out of order (a join, a hello and a new DM each
   * ask), so only the newest request's reply is applied, and a channel this client has already
   * seen further (a live message after the server read its counts) keeps its local counts.
   */
  async refreshChannels(): Promise<void> {
    const id = ++this.refreshSeq;
    const r = await this.api.get<ChannelsReply>('/api/channels');
    if (id !== this.refreshSeq) return;
    const local = this.store.get().channels;
    this.store.setChannels(
      r.channels.map((c) => {
        const mine = local.get(c.id);
        return mine && mine.lastSeq > c.lastSeq
          ? { ...c, lastSeq: mine.lastSeq, unreadCount: mine.unreadCount, mentionCount: mine.mentionCount, readSeq: mine.readSeq }
          : c;
      }),
    );
    this.needUsers(r.channels.flatMap((c) => c.dmUserIds ?? []));
    // DMs whose people have no known presence yet (new DMs, or the first load): ask once.
    const st = this.store.get();
    for (const c of r.channels)
      if ((c.type === 'direct' || c.type === 'group') && (c.dmUserIds ?? []).some((u) => u !== st.me?.id && !st.presence.has(u)))
        this.queryPresence(c.id);
  }

  /** Batches profile reads for ids not yet known (authors, DM members, typers). */
  needUsers(ids: Iterable<string>): void {
    const known = this.store.get().users;
    for (const id of ids) if (!known.has(id)) this.userFetch.add(id);
    if (this.userFetch.size === 0 || this.userTimer) return;
    this.userTimer = setTimeout(async () => {
      this.userTimer = undefined;
      const ids = [...this.userFetch];
      this.userFetch.clear();
      const got = await Promise.all(ids.map((id) => this.api.get<PublicUser>(`/api/users/${id}`).catch(() => null)));
      this.store.setUsers(got.filter((u): u is PublicUser => u !== null));
    }, 20);
  }

  /**
   * Opens a channel; with focusSeq, at that message. A target outside the loaded range replaces the
   * range with the page around it (loadAround), so the loaded messages stay one contiguous seq range.
   * Coming back without a target to a channel left on an older range shows the latest page again.
   */
  async openChannel(id: string, focusSeq: number | null = null): Promise<void> {
    const c = this.store.get().channels.get(id);
    this.store.set({ currentChannelId: id, threadRootId: null, dividerSeq: c?.readSeq ?? null, focusSeq });
    if (location.hash !== `#/c/${id}`) history.replaceState(null, '', `#/c/${id}`);
    const cm = this.store.channelMessages(id);
    // Opened plainly after a jump was asked for: that jump's page, when it comes, is not wanted.
    if (focusSeq === null) this.nextReplace(id);
    if (focusSeq !== null && !cm.list.some((m) => m.seq === focusSeq)) await this.loadAround(id, focusSeq);
    else if (focusSeq === null && cm.hasNewer) await this.jumpToLatest(id);
    else if (cm.list.length === 0) await this.loadLatest(id);
    this.queryPresence(id);
  }

  /** A jump: the page from JUMP_BEFORE messages before the target on (oldest first), replacing the range. */
  private async loadAround(id: string, focusSeq: number): Promise<void> {
    const token = this.nextReplace(id);
    const after = Math.max(0, focusSeq - JUMP_BEFORE - 1);
    const r = await this.api.get<MessagesReply>(`/api/channels/${id}/messages?after=${after}&limit=${PAGE}`);
    if (this.replaceToken.get(id) !== token) return;
    if (r.messages.length === 0) return this.jumpToLatest(id);
    const newest = r.messages[r.messages.length - 1].seq;
    this.store.setRange(id, r.messages, after === 0, this.newerBeyond(id, newest, r.messages.length === PAGE));
    this.needUsers(r.messages.map((m) => m.authorId));
  }

  /** Replaces the range with the latest page (leaving an older range: coming back, sending). */
  async jumpToLatest(id: string): Promise<void> {
    const token = this.nextReplace(id);
    const r = await this.api.get<MessagesReply>(`/api/channels/${id}/messages?limit=${PAGE}`);
    if (this.replaceToken.get(id) !== token) return;
    const newest = r.messages[0]?.seq ?? 0;
    if (this.store.get().currentChannelId === id) this.store.set({ focusSeq: null });
    this.store.setRange(id, r.messages, r.messages.length < PAGE, r.messages.length > 0 && this.newerBeyond(id, newest, false));
    this.needUsers(r.messages.map((m) => m.authorId));
  }

  private nextReplace(id: string): number {
    const token = (this.replaceToken.get(id) ?? 0) + 1;
    this.replaceToken.set(id, token);
    return token;
  }

  /**
   * Whether messages newer than `newest` exist: the page was full, or the channel list (moved by
   * every live message, appended or not) already counts further. A live message that arrived while
   * the page was on its way, and was not appended, is then paged in instead of lost.
   */
  private newerBeyond(id: string, newest: number, fullPage: boolean): boolean {
    return fullPage || newest < (this.store.get().channels.get(id)?.lastSeq ?? 0);
  }

  /** First load of a channel: the latest page, merged with any live message that arrived meanwhile. */
  private async loadLatest(id: string): Promise<void> {
    const gen = this.store.channelMessages(id).generation;
    this.store.patchMessages(id, { loading: true });
    try {
      const r = await this.api.get<MessagesReply>(`/api/channels/${id}/messages?limit=${PAGE}`);
      if (this.store.channelMessages(id).generation !== gen) return;
      this.store.mergeMessages(id, r.messages, r.messages.length < PAGE);
      this.needUsers(r.messages.map((m) => m.authorId));
    } finally {
      this.store.patchMessages(id, { loading: false });
    }
  }

  /** Scrolling up: the page before the oldest loaded message. */
  async loadOlder(id: string): Promise<void> {
    const cm = this.store.channelMessages(id);
    if (cm.loading || cm.complete) return;
    const oldest = cm.list[0]?.seq;
    if (oldest === undefined) return this.loadLatest(id);
    this.store.patchMessages(id, { loading: true });
    try {
      const r = await this.api.get<MessagesReply>(`/api/channels/${id}/messages?before=${oldest}&limit=${OLDER_PAGE}`);
      // The range was replaced meanwhile (a jump): this page no longer borders it.
      if (this.store.channelMessages(id).generation !== cm.generation) return;
      this.store.mergeMessages(id, r.messages, r.messages.length < OLDER_PAGE || oldest <= 1);
      this.needUsers(r.messages.map((m) => m.authorId));
    } finally {
      this.store.patchMessages(id, { loading: false });
    }
  }

  /**
   * Scrolling down a range that stops short of the newest message: the page after the newest loaded
   * one (`after=` answers oldest first). When nothing newer is left, hasNewer clears and live
   * messages append again.
   */
  async loadNewer(id: string): Promise<void> {
    const cm = this.store.channelMessages(id);
    if (!cm.hasNewer || cm.loadingNewer) return;
    const newest = cm.list[cm.list.length - 1]?.seq;
    if (newest === undefined) return this.jumpToLatest(id);
    this.store.patchMessages(id, { loadingNewer: true });
    try {
      const r = await this.api.get<MessagesReply>(`/api/channels/${id}/messages?after=${newest}&limit=${NEWER_PAGE}`);
      if (this.store.channelMessages(id).generation !== cm.generation) return;
      this.store.mergeMessages(id, r.messages);
      const list = this.store.channelMessages(id).list;
      const last = list[list.length - 1]?.seq ?? newest;
      // An empty page ends the paging even if the count says more: anything later arrives live
      // (it continues the range), so this cannot loop.
      const more = r.messages.length > 0 && this.newerBeyond(id, last, r.messages.length === NEWER_PAGE);
      this.store.patchMessages(id, { hasNewer: more });
      this.needUsers(r.messages.map((m) => m.authorId));
    } finally {
      this.store.patchMessages(id, { loadingNewer: false });
    }
  }

  /** Marks the open channel read up to its newest message (once per seq). */
  markRead(id: string): void {
    const c = this.store.get().channels.get(id);
    const list = this.store.channelMessages(id).list;
    const last = list[list.length - 1]?.seq ?? 0;
    if (!c || last === 0 || (this.readSent.get(id) ?? 0) >= last || (c.readSeq ?? 0) >= last) return;
    this.readSent.set(id, last);
    this.store.patchChannel(id, { readSeq: last, unreadCount: 0, mentionCount: 0 });
    if (this.store.get().conn === 'online') this.rt?.op({ op: 'read', channelId: id, seq: last });
    else void this.api.post(`/api/channels/${id}/read`, { seq: last }).catch(() => this.readSent.delete(id));
  }

  /** Sends the text with the composer's finished uploads; false when there is nothing to send yet. */
  send(channelId: string, text: string, parentId?: string): boolean {
    const key = parentId ?? channelId;
    const ups = this.store.get().uploads.get(key) ?? [];
    if (ups.some((u) => u.state === 'uploading')) {
      this.store.set({ toast: 'Wait for the uploads to finish' });
      return false;
    }
    const fileIds = ups.filter((u) => u.state === 'done' && u.file).map((u) => u.file!.id);
    if ((!text.trim() && fileIds.length === 0) || !this.rt) return false;
    this.rt.send(channelId, text, parentId, fileIds);
    this.store.setUploads(key, () => []);
    // Sent from an older range (after a jump): show the latest, where the message will appear.
    if (!parentId && this.store.channelMessages(channelId).hasNewer) void this.jumpToLatest(channelId);
    return true;
  }

  /** Starts uploads for a composer (channel, or thread root); progress lands in the store. */
  uploadFiles(channelId: string, files: File[], parentId?: string): void {
    const key = parentId ?? channelId;
    for (const f of files) {
      const u = upload(this.api, f, channelId, (next) =>
        this.store.setUploads(key, (list) => list.map((x) => (x.key === next.key ? next : x))),
      );
      this.store.setUploads(key, (list) => [...list, { ...u }]);
    }
  }

  removeUpload(key: string, uploadKey: string): void {
    this.store.setUploads(key, (list) => {
      list.find((u) => u.key === uploadKey)?.abort();
      return list.filter((u) => u.key !== uploadKey);
    });
  }

  typing(channelId: string): void {
    const now = Date.now();
    if (now - this.lastTypingSent < 3000) return;
    this.lastTypingSent = now;
    this.rt?.op({ op: 'typing', channelId });
  }

  // Edits, deletes and reactions replace the message where it is loaded (channel range, open
  // threads) and add it nowhere: a thread message outside the loaded range must not make a hole.
  async edit(m: Message, text: string): Promise<void> {
    const r = await this.api.patch<Message>(`/api/messages/${m.id}`, { text });
    this.store.updateMessage(r.channelId, r.id, () => r);
  }

  async remove(m: Message): Promise<void> {
    const r = await this.api.del<Message>(`/api/messages/${m.id}`);
    this.store.updateMessage(r.channelId, r.id, () => r);
  }

  async react(m: Message, emoji: string): Promise<void> {
    const me = this.store.get().me?.id ?? '';
    const mine = m.reactions.some((r) => r.emoji === emoji && r.userIds.includes(me));
    const path = `/api/messages/${m.id}/reactions/${encodeURIComponent(emoji)}`;
    const r = mine ? await this.api.del<Message>(path) : await this.api.put<Message>(path);
    this.store.updateMessage(r.channelId, r.id, () => r);
  }

  async openThread(rootId: string | null): Promise<void> {
    this.store.set({ threadRootId: rootId });
    if (!rootId) return;
    const r = await this.api.get<ThreadReply>(`/api/messages/${rootId}/thread`);
    this.store.mergeThread(rootId, [r.root, ...r.replies]);
    this.needUsers([r.root.authorId, ...r.replies.map((m) => m.authorId)]);
  }

  async createChannel(name: string, type: 'public' | 'private', description: string): Promise<Channel> {
    const c = await this.api.post<Channel>('/api/channels', { name, type, ...(description ? { description } : {}) });
    await this.refreshChannels();
    return c;
  }

  async browse(): Promise<ChannelListItem[]> {
    return (await this.api.get<ChannelsReply>('/api/channels?browse=public')).channels;
  }

  async join(id: string): Promise<void> {
    await this.api.post<Member>(`/api/channels/${id}/join`);
    await this.refreshChannels();
  }

  async leave(id: string): Promise<void> {
    await this.api.post(`/api/channels/${id}/leave`);
    this.store.removeChannel(id);
  }

  async startDm(userIds: string[]): Promise<Channel> {
    const c = await this.api.post<Channel>('/api/dms', { userIds });
    await this.refreshChannels();
    return c;
  }

  async searchUsers(q: string): Promise<PublicUser[]> {
    const r = await this.api.get<UsersReply>(`/api/users?q=${encodeURIComponent(q)}&limit=8`);
    this.store.setUsers(r.users);
    return r.users;
  }

  async updateProfile(patch: { displayName?: string; status?: string | null; avatarFileId?: string | null }): Promise<void> {
    const me = await this.api.patch<User>('/api/users/me', patch);
    this.store.set({ me });
    this.store.setUsers([me]);
  }

  /**
   * The newest 50 notifications, merged into what is shown rather than replacing it: a
   * `notification` event that arrived while this request was in flight may be newer than the reply.
   */
  async loadNotifications(): Promise<void> {
    const r = await this.api.get<NotificationsReply>('/api/notifications?limit=50');
    const fetched = new Set(r.notifications.map((n) => n.id));
    const newest = r.notifications[0]?.createdAt ?? '';
    const newer = this.store.get().notifications.filter((n) => !fetched.has(n.id) && n.createdAt > newest);
    this.store.set({ notifications: [...newer, ...r.notifications] });
    this.needUsers(r.notifications.map((n) => n.actorId));
  }

  async readNotifications(): Promise<void> {
    await this.api.post('/api/notifications/read', { all: true });
    const now = new Date().toISOString();
    this.store.set({ notifications: this.store.get().notifications.map((n) => ({ ...n, readAt: n.readAt ?? now })) });
  }

  queryPresence(channelId: string): void {
    this.rt?.op({ op: 'presence.query', channelId });
  }

  private onEvent(e: ServerEvent): void {
    const s = this.store;
    const fileReady = e as unknown as { type: string; thumbnailUrl?: string };
    if (fileReady.type === 'file.ready') {
      // The thumbnail exists now: a cached failure must not stick.
      if (fileReady.thumbnailUrl) forgetBlob(fileReady.thumbnailUrl);
      return;
    }
    switch (e.type) {
      case 'message.created':
        return this.onMessage(e.message);
      case 'message.updated':
        s.updateMessage(e.channelId, e.message.id, () => e.message);
        return;
      case 'message.deleted':
        s.updateMessage(e.channelId, e.id, (m) => ({ ...m, text: '', deletedAt: e.deletedAt, reactions: [] }));
        return;
      case 'reaction.added':
      case 'reaction.removed':
        s.updateMessage(e.channelId, e.messageId, (m) => applyReaction(m, e.emoji, e.userId, e.type === 'reaction.added'));
        return;
      case 'typing':
        if (e.userId === s.get().me?.id) return;
        this.needUsers([e.userId]);
        s.setTyping(e.channelId, e.userId, Date.now() + e.expiresInMs);
        setTimeout(() => {
          const until = s.get().typing.get(e.channelId)?.get(e.userId) ?? 0;
          if (until <= Date.now()) s.setTyping(e.channelId, e.userId, 0);
        }, e.expiresInMs + 50);
        return;
      case 'presence':
        s.setPresence(e.userId, e.status);
        return;
      case 'channel.read': {
        const c = s.get().channels.get(e.channelId);
        if (c && e.seq >= (c.readSeq ?? 0))
          s.patchChannel(e.channelId, { readSeq: e.seq, ...(e.seq >= c.lastSeq ? { unreadCount: 0, mentionCount: 0 } : {}) });
        return;
      }
      case 'channel.updated':
        s.patchChannel(e.channelId, e.channel);
        return;
      case 'member.joined':
      case 'member.left':
        this.needUsers([e.userId]);
        return;
      case 'subscription':
        if (e.subscribed) void this.refreshChannels();
        else s.removeChannel(e.channelId);
        return;
      case 'notification': {
        // Already listed when a fetch (loadNotifications) returned it first.
        if (s.get().notifications.some((n) => n.id === e.notification.id)) return;
        s.set({ notifications: [e.notification, ...s.get().notifications] });
        this.needUsers([e.notification.actorId]);
        notifyBrowser(this, e.notification);
        return;
      }
      case 'error':
        s.set({ toast: e.message });
        return;
    }
  }

  private onMessage(m: Message): void {
    const s = this.store;
    const st = s.get();
    this.needUsers([m.authorId]);
    const cm = st.messages.get(m.channelId);
    // Only into a loaded channel, and never so that it leaves a hole: while newer messages are yet
    // to be paged in (hasNewer), only one that continues the range is added; the rest come with
    // the forward pages. (A seq further ahead with hasNewer clear is appended as before: the
    // realtime gap repair replays what is between.)
    const shown = !!cm && continuesRange(cm, m.seq);
    if (shown) s.mergeMessages(m.channelId, [m]);
    if (m.parentId) {
      // Reply counts move with the replies this client sees (the root is not re-sent).
      s.updateMessage(m.channelId, m.parentId, (root) => ({ ...root, replyCount: root.replyCount + 1, lastReplyAt: m.createdAt }));
      if (st.threads.has(m.parentId)) s.mergeThread(m.parentId, [m]);
    }
    const c = st.channels.get(m.channelId);
    if (!c) {
      void this.refreshChannels();
      return;
    }
    const mine = m.authorId === st.me?.id;
    // A replayed message the channel list already counts (its seq ≤ the listed lastSeq) is not new.
    const counted = m.seq <= c.lastSeq;
    const viewing = st.currentChannelId === m.channelId && document.visibilityState === 'visible' && (shown || !cm?.hasNewer);
    const mentioned = !!st.me && (m.mentions.userIds.includes(st.me.id) || m.mentions.channel || m.mentions.here);
    s.patchChannel(m.channelId, {
      lastSeq: Math.max(c.lastSeq, m.seq),
      ...(mine || viewing || counted
        ? {}
        : {
            unreadCount: plusOne(c.unreadCount),
            mentionCount: mentioned && !m.parentId ? plusOne(c.mentionCount) : (c.mentionCount ?? 0),
          }),
    });
    if (mine) this.markRead(m.channelId);
  }
}

/** Whether a live message may join the loaded range without leaving a hole in it. */
export function continuesRange(cm: ChannelMessages, seq: number): boolean {
  const first = cm.list[0]?.seq;
  if (first === undefined) return true;
  const last = cm.list[cm.list.length - 1].seq;
  return seq >= first && (!cm.hasNewer || seq <= last + 1);
}

export function applyReaction(m: Message, emoji: string, userId: string, add: boolean): Message {
  const reactions = m.reactions.map((r) => ({ ...r, userIds: [...r.userIds] }));
  let r = reactions.find((x) => x.emoji === emoji);
  if (add) {
    if (!r) reactions.push((r = { emoji, count: 0, userIds: [] }));
    if (!r.userIds.includes(userId)) r.userIds.push(userId);
  } else if (r) r.userIds = r.userIds.filter((u) => u !== userId);
  return { ...m, reactions: reactions.map((x) => ({ ...x, count: x.userIds.length })).filter((x) => x.count > 0) };
}

/**
 * A system notification while the tab is hidden and the user allowed them; clicking it brings the
 * tab forward at the message (the inbox's jump). Plain text only: the API never renders HTML.
 */
function notifyBrowser(chat: Chat, n: AppNotification): void {
  if (typeof Notification === 'undefined' || document.visibilityState === 'visible' || Notification.permission !== 'granted') return;
  const who = chat.store.get().users.get(n.actorId);
  const shown = new Notification('ɳChat', { body: `${who?.displayName ?? 'Someone'} ${notificationPhrase(n.kind)}`, tag: n.id });
  shown.onclick = () => {
    window.focus();
    shown.close();
    void chat.openChannel(n.channelId, n.seq);
  };
}
