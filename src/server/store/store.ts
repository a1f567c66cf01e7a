// The storage contract. Two implementations (sqlite/, postgres/) and one contract suite
// (contract/) that runs unchanged against both. Only the composition root picks one.
//
// General rules every implementation keeps:
// - Every method that writes more than one row does it in one transaction: either all of it
//   is visible afterwards or none of it.
// - Unique-constraint violations the caller can cause are thrown as AppError with the codes
//   named below (USERNAME_TAKEN, EMAIL_TAKEN, CHANNEL_NAME_TAKEN), never as driver errors.
// - Lookups of missing rows return undefined (or false), they do not throw.
// - Returned objects are fresh copies; callers may mutate them.
// - Paged reads (history, thread, listPublic, listMembers, users.search, notifications.list)
//   take a `limit` that must be an integer in 1..max and seq cursors that must be integers ≥ 0;
//   anything else throws (a programming error: the HTTP edge has answered 400 already). The
//   maxima and the rule are stated once, in paging.ts; no store clamps or replaces a value.
import type {
  Channel,
  ChannelForMember,
  ChannelPatch,
  CreateMessageResult,
  HistoryQuery,
  Invite,
  Member,
  MemberRole,
  Message,
  NewChannel,
  NewMessage,
  NewUser,
  Notification,
  Page,
  RefreshToken,
  RotateResult,
  SuccessorToken,
  User,
  UserPatch,
  UserWithSecret,
} from './types.js';
import type { SearchStore } from './search-store.js';

import type { FileStore } from './file-store.js';

export type StoreKind = 'sqlite' | 'postgres';

export interface Store {
  readonly kind: StoreKind;
  /** Applies pending migrations (idempotent, safe to call on every start and from several nodes at once). Returns ids applied now. */
  migrate(): Promise<string[]>;
  /** Throws when the database cannot answer a trivial query. */
  ping(): Promise<void>;
  /** Closes pools / checkpoints the WAL. The store is unusable afterwards. */
  close(): Promise<void>;
  /** Pool gauges for /metrics; undefined for the embedded store. */
  poolStats(): { total: number; idle: number; waiting: number } | undefined;
  /**
   * Work done after commits on this process's event loop (SQLite's search indexer), as running
   * totals for /metrics; absent where indexing happens inside the send statement (PostgreSQL).
   */
  indexStats?(): { busySec: number; indexed: number };

  users: UserStore;
  tokens: TokenStore;
  channels: ChannelStore;
  messages: MessageStore;
  notifications: NotificationStore;
  meta: MetaStore;
  files: FileStore;
  /** Full-text search over messages (search-store.ts). */
  search: SearchStore;
}

export interface UserStore {
  /**
   * The first user ever created becomes 'owner' when input.role is omitted (atomic with the insert).
   * Throws USERNAME_TAKEN / EMAIL_TAKEN, and INVITE_REQUIRED when input.onlyIfFirst is set and a user exists.
   */
  create(input: NewUser): Promise<User>;
  get(id: string): Promise<User | undefined>;
  getMany(ids: string[]): Promise<User[]>;
  /** login is matched case-insensitively against email, then username. */
  getByLogin(login: string): Promise<UserWithSecret | undefined>;
  /** Case-insensitive; unknown names are simply absent from the result. */
  getByUsernames(usernames: string[]): Promise<User[]>;
  /** Prefix match on username or display name (case-insensitive), ordered by username; `after` is a username cursor. */
  search(prefix: string, limit: number, after?: string): Promise<User[]>;
  update(id: string, patch: UserPatch): Promise<User | undefined>;
  /** Sets deactivatedAt (a time) or clears it (null); undefined for a missing user. */
  setDeactivated(id: string, at: string | null): Promise<User | undefined>;
  /** Whether the file is some user's current avatar (one probe of the avatar_file_id index). */
  isAvatar(fileId: string): Promise<boolean>;
  count(): Promise<number>;
}

/**
 * Refresh tokens (one family per sign-in, a "session") and sign-up invites, both stored as
 * SHA-256 hashes. Serialisation rule: rotate, revokeFamily and revokeUser of one family never
 * interleave (SQLite: one write transaction each; PostgreSQL: a per-family advisory lock held by
 * each transaction), so a successor is either inserted before a revocation (and revoked by it)
 * or refused by it; never inserted after it and left valid.
 */
export interface TokenStore {
  create(token: Omit<RefreshToken, 'usedAt' | 'revokedAt'>): Promise<void>;
  findByHash(tokenHash: string): Promise<RefreshToken | undefined>;
  /** Marks the token spent. Returns true only for the one caller that spent it (compare-and-set on used_at IS NULL). */
  markUsed(id: string, at: string): Promise<boolean>;
  /**
   * One atomic step: look up the token by hash, refuse it if its family is revoked or it has
   * expired (expiresAt <= at), revoke the whole family if it was already spent ('reused'),
   * else mark it spent and insert `successor` into the same family and user ('rotated').
   * Of several concurrent calls with one token exactly one is 'rotated'; the others are 'reused'
   * and their revocation covers the winner's successor.
   */
  rotate(tokenHash: string, successor: SuccessorToken, at: string): Promise<RotateResult>;
  /** Revokes every token of the family; returns how many were revoked now. */
  revokeFamily(familyId: string, at: string): Promise<number>;
  /** Revokes every live family of the user (deactivation); returns the family ids revoked now, sorted. */
  revokeUser(userId: string, at: string): Promise<string[]>;
  /** Families with a token revoked at or after `since` (a node's start-up read of recent revocations). */
  revokedSince(since: string): Promise<{ familyId: string; userId: string }[]>;
  createInvite(invite: Omit<Invite, 'uses'>): Promise<Invite>;
  /**
   * Spends one use of the invite with this hash if it exists, has not expired (expiresAt > at)
   * and has uses left; atomic, so N concurrent callers of a 1-use invite yield one success.
   * Returns the invite after the use, or undefined when it could not be used.
   */
  useInvite(tokenHash: string, at: string): Promise<Invite | undefined>;
  /** Gives back a use taken by useInvite (the account it was for could not be created). */
  releaseInvite(id: string): Promise<void>;
}

export interface ChannelStore {
  /** Creates the channel and makes `createdBy` its 'owner' member. Throws CHANNEL_NAME_TAKEN. */
  create(input: NewChannel): Promise<Channel>;
  /**
   * The direct (2 people, or 1 for a self-DM) or group (3+) channel for exactly this set of users,
   * created with all of them as members if it does not exist. Idempotent under concurrency:
   * the same set always yields the same channel.
   */
  getOrCreateDm(userIds: string[], createdBy: string, id: string, at: string): Promise<{ channel: Channel; created: boolean }>;
  get(id: string): Promise<Channel | undefined>;
  update(id: string, patch: ChannelPatch): Promise<Channel | undefined>;
  archive(id: string, at: string): Promise<Channel | undefined>;
  /** Every channel the user is a member of (archived included), with read state and counts. */
  listForUser(userId: string): Promise<ChannelForMember[]>;
  /** Non-archived public channels ordered by name; `after` is a name cursor. */
  listPublic(limit: number, after?: string): Promise<Channel[]>;
  getMember(channelId: string, userId: string): Promise<Member | undefined>;
  /** get() and getMember() in one read (the authorization check on every send and read). */
  getWithMember(channelId: string, userId: string): Promise<{ channel: Channel; member: Member | undefined } | undefined>;
  /** Adds users that are not members yet; returns the user ids actually added. */
  addMembers(channelId: string, members: { userId: string; role: MemberRole }[], at: string): Promise<string[]>;
  /** Returns false when the user was not a member. */
  removeMember(channelId: string, userId: string): Promise<boolean>;
  setMemberRole(channelId: string, userId: string, role: MemberRole): Promise<boolean>;
  /** Members ordered by user id; `after` is a user-id cursor. */
  listMembers(channelId: string, limit: number, after?: string): Promise<Member[]>;
  /** Every member's user id (for fan-out and notifications). */
  memberIds(channelId: string): Promise<string[]>;
  /**
   * The ids of the users named (usernames, case-insensitive) who are members of the channel, in
   * one read: a send's @mentions (a name that is not a member is left out, so a mention never
   * reveals a channel). Unknown names are left out; ordered by username, as getByUsernames.
   */
  memberIdsByUsernames(channelId: string, usernames: string[]): Promise<string[]>;
  /** The user's channels with their lastSeq (for the WebSocket hello and subscriptions). */
  positionsForUser(userId: string): Promise<{ channelId: string; lastSeq: number }[]>;
  /**
   * Moves the member's read position to min(seq, channel.lastSeq) if that is higher than the
   * current one. Returns the resulting readSeq, or undefined when not a member.
   */
  markRead(channelId: string, userId: string, seq: number): Promise<number | undefined>;
}

export interface MessageStore {
  /**
   * The whole send in one transaction: idempotency check on (channelId, authorId, clientMsgId),
   * seq = ++channel.lastSeq, the insert, mention rows, notification rows, the parent's
   * replyCount/lastReplyAt, and the author's readSeq moved to the new seq.
   * A repeated clientMsgId returns the original with created=false and writes nothing (no
   * notifications either). Implementations may group concurrent calls into one transaction
   * (group commit) as long as each call's outcome is independent of the others'.
   *
   * NOTIFICATION RECIPIENTS — the one statement of the rule (contract/notifications.ts checks each
   * clause on both backends). The service decides who qualifies and passes it in `input.notify`
   * (MessageService.send); the store resolves it against the channel as it is inside this
   * transaction:
   * 1. Mention: each id in notify.mentionUserIds gets kind 'mention'. The service puts there the
   *    users named in the text (@username, only those who exist and are members) and, for @here,
   *    the members online now — @here only when the channel has at most
   *    config.notifyChannelMaxMembers members.
   * 2. @channel / @all: notify.allMembers = 'mention': every member gets 'mention'. The service
   *    sets it only when the channel has at most notifyChannelMaxMembers members (above the cap
   *    the message still records mentions.channel, and counts as a mention for unread state,
   *    but creates no rows).
   * 3. Direct and group messages: notify.allMembers = 'dm': every member gets 'dm' (no cap).
   * 4. Thread reply: with notify.threadParticipants and a parentId, the root's author and every
   *    author of an earlier reply to that root (deleted replies included; earlier calls of the
   *    same group-commit batch included) get 'reply'.
   * Then, always: only users who are members of the channel at this point get a row (a mention
   * of a non-member, a participant who left: nothing); never the author; at most one row per
   * user, the kind by precedence mention > reply > dm. `notifications` in the result are exactly
   * the rows written, ordered by userId.
   */
  create(input: NewMessage): Promise<CreateMessageResult>;
  get(id: string): Promise<Message | undefined>;
  /**
   * Channel history by seq. Default and `before`: newest first. `after`: oldest first (with
   * `before` too: the seqs strictly between them, oldest first).
   * Deleted messages are included (text '', deletedAt set) so seq stays gapless for clients.
   * Thread replies are included: they take channel seqs like any message.
   */
  history(channelId: string, q: HistoryQuery): Promise<Message[]>;
  /**
   * A token that changes whenever anything a history page of the channel shows changes: a send,
   * an edit, a delete, a reaction added or removed, a reply counted on its root — or any write
   * by another connection or process. Equal tokens from this store mean equal history pages, so
   * the newest page may be reused while the token holds (services/history-pages.ts). Read it
   * BEFORE reading the page: a write in between then changes the token and the stale page is
   * never served. `undefined`: this store cannot tell (another node may write), so no reuse.
   * Cheap: it is asked on every request for a newest page.
   */
  historyVersion(channelId: string): Promise<string | undefined>;
  /** Replies of a root message, oldest first, with seq > afterSeq (default 0). */
  thread(rootId: string, limit: number, afterSeq?: number): Promise<Message[]>;
  /** Sets text, mentions and editedAt; returns undefined if missing or deleted. */
  update(id: string, text: string, mentions: NewMessage['mentions'], at: string): Promise<Message | undefined>;
  /** Soft delete: keeps the row and seq, blanks the text, removes reactions. Idempotent. */
  softDelete(id: string, at: string): Promise<Message | undefined>;
  /**
   * Returns false when the reaction was already there (or the message is missing or deleted;
   * removal: when it was not there). With `limits`, throws LIMIT_REACHED and writes nothing when
   * the user already has `perUser` reactions on the message, or the emoji is new to the message
   * and it already carries `perMessage` distinct emoji — checked atomically with the insert, so
   * concurrent adds never exceed either cap.
   */
  addReaction(messageId: string, userId: string, emoji: string, at: string, limits?: ReactionLimits): Promise<boolean>;
  removeReaction(messageId: string, userId: string, emoji: string): Promise<boolean>;
}

/** Caps on one message's reactions (config: NCHAT_REACTIONS_PER_USER, NCHAT_EMOJI_PER_MESSAGE). */
export interface ReactionLimits {
  perUser: number;
  perMessage: number;
}

export interface NotificationStore {
  /**
   * Newest first. Only notifications of channels the user is still a member of.
   * `cursor` is the last id of the previous page.
   */
  list(userId: string, opts: { unreadOnly: boolean; limit: number; cursor?: string }): Promise<Page<Notification>>;
  /** Marks the given ids (only the user's own) or all of them read; returns how many changed. */
  markRead(userId: string, ids: string[] | 'all', at: string): Promise<number>;
}

export interface MetaStore {
  get(key: string): Promise<string | undefined>;
  /** Stores value unless the key exists; returns the value now stored (first writer wins, across nodes). */
  setIfAbsent(key: string, value: string): Promise<string>;
}
