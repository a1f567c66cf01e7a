// Row shapes both backends return (snake_case columns) and their mapping to domain records.
// Every mapper builds a fresh object (callers may mutate results). Numbers go through Number()
// because PostgreSQL's int8 may arrive as a string when a driver parser is not installed.
// Message rows differ per backend (SQLite keeps arrays as JSON text and reads rows as arrays),
// so each backend maps those itself.
import type {
  Channel,
  ChannelType,
  Invite,
  Member,
  MemberRole,
  Message,
  NewMessage,
  Notification,
  NotificationKind,
  ReactionSummary,
  RefreshToken,
  Role,
  User,
  UserWithSecret,
} from './types.js';

export interface UserRow {
  id: string;
  username: string;
  email: string;
  display_name: string;
  role: string;
  status: string | null;
  avatar_file_id: string | null;
  created_at: string;
  deactivated_at: string | null;
  password_hash?: string;
}

export const toUser = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  email: r.email,
  displayName: r.display_name,
  role: r.role as Role,
  status: r.status,
  avatarFileId: r.avatar_file_id,
  createdAt: r.created_at,
  deactivatedAt: r.deactivated_at ?? null,
});

export const toUserWithSecret = (r: UserRow): UserWithSecret => ({ ...toUser(r), passwordHash: r.password_hash ?? '' });

export interface TokenRow {
  id: string;
  user_id: string;
  family_id: string;
  token_hash: string;
  expires_at: string;
  used_at: string | null;
  revoked_at: string | null;
  created_at: string;
}

export const toToken = (r: TokenRow): RefreshToken => ({
  id: r.id,
  userId: r.user_id,
  familyId: r.family_id,
  tokenHash: r.token_hash,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
  revokedAt: r.revoked_at,
  createdAt: r.created_at,
});

export interface InviteRow {
  id: string;
  token_hash: string;
  created_by: string;
  created_at: string;
  expires_at: string;
  max_uses: number;
  uses: number;
}

export const toInvite = (r: InviteRow): Invite => ({
  id: r.id,
  tokenHash: r.token_hash,
  createdBy: r.created_by,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  maxUses: Number(r.max_uses),
  uses: Number(r.uses),
});

export interface ChannelRow {
  id: string;
  type: string;
  name: string | null;
  description: string;
  topic: string;
  created_by: string;
  created_at: string;
  archived_at: string | null;
  last_seq: number;
  member_count: number;
  dm_key?: string | null;
}

export const toChannel = (r: ChannelRow): Channel => ({
  id: r.id,
  type: r.type as ChannelType,
  name: r.name,
  description: r.description,
  topic: r.topic,
  createdBy: r.created_by,
  createdAt: r.created_at,
  archivedAt: r.archived_at,
  lastSeq: Number(r.last_seq),
  memberCount: Number(r.member_count),
});

export interface MemberRow {
  channel_id: string;
  user_id: string;
  role: string;
  joined_at: string;
  read_seq: number;
}

export const toMember = (r: MemberRow): Member => ({
  channelId: r.channel_id,
  userId: r.user_id,
  role: r.role as MemberRole,
  joinedAt: r.joined_at,
  readSeq: Number(r.read_seq),
});

export interface NotificationRow {
  id: string;
  user_id: string;
  kind: string;
  channel_id: string;
  message_id: string;
  seq: number;
  actor_id: string;
  created_at: string;
  read_at: string | null;
}

export const toNotification = (r: NotificationRow): Notification => ({
  id: r.id,
  userId: r.user_id,
  kind: r.kind as NotificationKind,
  channelId: r.channel_id,
  messageId: r.message_id,
  seq: Number(r.seq),
  actorId: r.actor_id,
  createdAt: r.created_at,
  readAt: r.read_at,
});

export interface ReactionRow {
  message_id: string;
  user_id: string;
  emoji: string;
}

/**
 * Reaction rows (ordered by message, then reaction time) → summaries per message id.
 * Emojis appear in the order they were first used; userIds in the order they reacted.
 */
export function groupReactions(rows: ReactionRow[]): Map<string, ReactionSummary[]> {
  const out = new Map<string, ReactionSummary[]>();
  for (const r of rows) {
    let list = out.get(r.message_id);
    if (!list) out.set(r.message_id, (list = []));
    let s = list.find((x) => x.emoji === r.emoji);
    if (!s) list.push((s = { emoji: r.emoji, count: 0, userIds: [] }));
    s.count++;
    s.userIds.push(r.user_id);
  }
  return out;
}

/**
 * The record of a message just inserted by create(): what the row holds right after the insert
 * (no edits, replies or reactions yet). `mentionUserIds` are the de-duplicated ids actually stored.
 */
export function insertedMessage(input: NewMessage, seq: number, mentionUserIds: string[], createdAt = input.createdAt): Message {
  return {
    id: input.id,
    channelId: input.channelId,
    seq,
    authorId: input.authorId,
    text: input.text,
    createdAt,
    editedAt: null,
    deletedAt: null,
    parentId: input.parentId ?? null,
    replyCount: 0,
    lastReplyAt: null,
    reactions: [],
    mentions: { userIds: mentionUserIds, channel: !!input.mentions?.channel, here: !!input.mentions?.here },
    // The stores put the attached files' snapshot here (they resolve it in the send transaction).
    files: [],
    clientMsgId: input.clientMsgId ?? null,
  };
}
