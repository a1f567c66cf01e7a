// Store records. The objects that also go on the wire (user, channel, member, message, reaction,
// notification) are the protocol's types (src/protocol/objects.ts), re-exported here: the stores
// map their rows to exactly what clients receive. Records only the server sees (a user with its
// password hash, refresh tokens, invites, inputs of writes) are declared here.
// Times are ISO-8601 UTC strings; ids are strings (see ids.ts).
import type { Mentions, Message, Notification, Role, User } from '../../protocol/objects.js';

export { ROLES } from '../../protocol/objects.js';
export type {
  Channel,
  ChannelForMember,
  ChannelType,
  Member,
  MemberRole,
  Mentions,
  Message,
  Notification,
  NotificationKind,
  ReactionSummary,
  Role,
  User,
} from '../../protocol/objects.js';

export interface UserWithSecret extends User {
  passwordHash: string;
}

export interface NewUser {
  id: string;
  username: string;
  email: string;
  displayName: string;
  passwordHash: string;
  /** Omitted: the store makes the very first account 'owner' and every later one 'member', atomically. */
  role?: Role;
  createdAt: string;
  /**
   * Invite-only sign-up without an invite: create the account only when the store has no user
   * yet (the owner), decided atomically with the insert; otherwise throw INVITE_REQUIRED.
   */
  onlyIfFirst?: boolean;
}

export interface UserPatch {
  displayName?: string;
  status?: string | null;
  avatarFileId?: string | null;
  role?: Role;
}

export interface RefreshToken {
  id: string;
  userId: string;
  /** Every token issued by rotating one sign-in shares its family; reuse of a spent token revokes the family. */
  familyId: string;
  tokenHash: string;
  expiresAt: string;
  usedAt: string | null;
  revokedAt: string | null;
  createdAt: string;
}

/** The token issued in place of a rotated one (same user and family as the old one). */
export interface SuccessorToken {
  id: string;
  tokenHash: string;
  expiresAt: string;
  createdAt: string;
}

/**
 * Outcome of TokenStore.rotate. `token` is the presented token as it was before the call
 * (absent when unknown). rotated: successor inserted; reused: the token was already spent, so
 * the whole family was revoked now; revoked: the family was revoked before; expired: too old.
 */
export type RotateResult =
  | { outcome: 'rotated' | 'reused' | 'revoked' | 'expired'; token: RefreshToken }
  | { outcome: 'unknown'; token?: undefined };

/** An admin-created sign-up invite; only the SHA-256 of the token is stored. */
export interface Invite {
  id: string;
  tokenHash: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  maxUses: number;
  uses: number;
}

export interface NewChannel {
  id: string;
  type: 'public' | 'private';
  name: string;
  description: string;
  topic: string;
  createdBy: string;
  createdAt: string;
}

export interface ChannelPatch {
  name?: string;
  description?: string;
  topic?: string;
}

export interface NewMessage {
  id: string;
  channelId: string;
  authorId: string;
  text: string;
  clientMsgId: string | null;
  /** Must be a root message of the same channel (the service checks before calling). */
  parentId: string | null;
  mentions: Mentions;
  fileIds: string[];
  createdAt: string;
  /**
   * When true, the store writes only if, inside the write's transaction, the channel exists, is
   * not archived and the author is a member; otherwise the call rejects with SendRefused and
   * nothing of it is written (no seq taken). The service sets it when it skips its own
   * authorization read before the write (MessageService.send), and maps a refusal to the exact
   * error that read would have given.
   */
  checkAuthor?: boolean;
  /**
   * Who qualifies for a notification row, created in the same transaction. The recipient rule
   * (members only, never the author, one per user, precedence) is stated once, on
   * MessageStore.create in store.ts.
   */
  notify: {
    /** Explicitly mentioned users, plus online members for @here (kind 'mention'). */
    mentionUserIds: string[];
    /** Every member gets one: 'dm' for direct/group channels, 'mention' for @channel; null for none. */
    allMembers: 'dm' | 'mention' | null;
    /** Root author and everyone who replied before get kind 'reply' (only when parentId is set). */
    threadParticipants: boolean;
  };
}

export interface CreateMessageResult {
  message: Message;
  /** false when (channelId, authorId, clientMsgId) already existed: `message` is the original, nothing was written. */
  created: boolean;
  /** Notifications created by this call (empty when created=false). */
  notifications: Notification[];
}

export interface HistoryQuery {
  /** Messages with seq < before (newest first). */
  before?: number;
  /** Messages with seq > after (oldest first). */
  after?: number;
  /** 1..PAGE_LIMITS.history.max (the page rule: store/paging.ts) */
  limit: number;
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page, null when there is no more. */
  nextCursor: string | null;
}
