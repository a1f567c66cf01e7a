// Domain records shared by every layer. Times are ISO-8601 UTC strings; ids are strings (see ids.ts).

export type Role = 'owner' | 'admin' | 'moderator' | 'member' | 'guest';
export const ROLES: readonly Role[] = ['owner', 'admin', 'moderator', 'member', 'guest'];

export interface User {
  id: string;
  /** Lower-case, unique, [a-z0-9._-], 2–32 chars. */
  username: string;
  /** Lower-case, unique. Only shown to the user and to workspace admins (services redact it). */
  email: string;
  displayName: string;
  role: Role;
  /** Free-text status ("in a meeting"), null when unset. */
  status: string | null;
  avatarFileId: string | null;
  createdAt: string;
  /** Set by a workspace admin: every session ended, sign-in and tokens refused; null when active. */
  deactivatedAt: string | null;
}

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

export type ChannelType = 'public' | 'private' | 'direct' | 'group';
export type MemberRole = 'owner' | 'admin' | 'member';

export interface Channel {
  id: string;
  type: ChannelType;
  /** Unique (case-insensitive) among public and private channels; null for direct/group DMs. */
  name: string | null;
  description: string;
  topic: string;
  createdBy: string;
  createdAt: string;
  archivedAt: string | null;
  /** Highest seq assigned in this channel (0 when empty). */
  lastSeq: number;
  memberCount: number;
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

export interface Member {
  channelId: string;
  userId: string;
  role: MemberRole;
  joinedAt: string;
  /** Highest seq the member has read; never decreases. */
  readSeq: number;
}

/** A channel as one member sees it in their sidebar. */
export interface ChannelForMember extends Channel {
  memberRole: MemberRole;
  readSeq: number;
  /** Non-deleted messages with seq > readSeq written by someone else. */
  unreadCount: number;
  /** Of those, the ones that mention the member (by name, @channel or @here). */
  mentionCount: number;
  /** For direct/group channels: every member's user id (sorted); null otherwise. */
  dmUserIds: string[] | null;
}

export interface ReactionSummary {
  emoji: string;
  count: number;
  userIds: string[];
}

export interface Mentions {
  userIds: string[];
  channel: boolean;
  here: boolean;
}

export interface Message {
  id: string;
  channelId: string;
  /** Per channel, starts at 1, gapless; assigned in the insert's transaction. */
  seq: number;
  authorId: string;
  /** Empty string once deleted. */
  text: string;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
  parentId: string | null;
  replyCount: number;
  lastReplyAt: string | null;
  reactions: ReactionSummary[];
  mentions: Mentions;
  files: string[];
  clientMsgId: string | null;
}

export type NotificationKind = 'mention' | 'reply' | 'dm';

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
   * Who gets a notification row, created in the same transaction. Recipients are always
   * restricted to current channel members and never include the author; at most one
   * notification per (user, message), kind precedence mention > reply > dm.
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

export interface Notification {
  id: string;
  userId: string;
  kind: NotificationKind;
  channelId: string;
  messageId: string;
  /** The message's seq, so a client can jump to it. */
  seq: number;
  actorId: string;
  createdAt: string;
  readAt: string | null;
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
  /** 1..200 */
  limit: number;
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page, null when there is no more. */
  nextCursor: string | null;
}
