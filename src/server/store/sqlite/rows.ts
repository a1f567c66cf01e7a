// Row shapes as SQLite returns them, and their mapping to domain records (always fresh objects).
import type {
  Channel,
  ChannelType,
  Member,
  MemberRole,
  Message,
  Notification,
  NotificationKind,
  ReactionSummary,
  RefreshToken,
  Role,
  User,
  UserWithSecret,
} from '../types.js';

export interface UserRow {
  id: string;
  username: string;
  email: string;
  display_name: string;
  password_hash: string;
  role: string;
  status: string | null;
  avatar_file_id: string | null;
  created_at: string;
}

export const USER_COLS = 'id, username, email, display_name, password_hash, role, status, avatar_file_id, created_at';

export function toUser(r: UserRow): User {
  return {
    id: r.id,
    username: r.username,
    email: r.email,
    displayName: r.display_name,
    role: r.role as Role,
    status: r.status,
    avatarFileId: r.avatar_file_id,
    createdAt: r.created_at,
  };
}

export function toUserWithSecret(r: UserRow): UserWithSecret {
  return { ...toUser(r), passwordHash: r.password_hash };
}

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

export function toToken(r: TokenRow): RefreshToken {
  return {
    id: r.id,
    userId: r.user_id,
    familyId: r.family_id,
    tokenHash: r.token_hash,
    expiresAt: r.expires_at,
    usedAt: r.used_at,
    revokedAt: r.revoked_at,
    createdAt: r.created_at,
  };
}

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
  dm_key: string | null;
}

export const CHANNEL_COLS =
  'id, type, name, description, topic, created_by, created_at, archived_at, last_seq, member_count, dm_key';

export function toChannel(r: ChannelRow): Channel {
  return {
    id: r.id,
    type: r.type as ChannelType,
    name: r.name,
    description: r.description,
    topic: r.topic,
    createdBy: r.created_by,
    createdAt: r.created_at,
    archivedAt: r.archived_at,
    lastSeq: r.last_seq,
    memberCount: r.member_count,
  };
}

export interface MemberRow {
  channel_id: string;
  user_id: string;
  role: string;
  joined_at: string;
  read_seq: number;
}

export function toMember(r: MemberRow): Member {
  return { channelId: r.channel_id, userId: r.user_id, role: r.role as MemberRole, joinedAt: r.joined_at, readSeq: r.read_seq };
}

/**
 * Message rows are fetched as arrays (Statement.raw(), columns in MESSAGE_COLS order): the driver
 * builds a keyed object per row at about twice the cost of this mapping, and history pages are
 * the hottest read.
 */
export type MessageRow = [
  id: string,
  channelId: string,
  seq: number,
  authorId: string,
  text: string,
  createdAt: string,
  editedAt: string | null,
  deletedAt: string | null,
  parentId: string | null,
  replyCount: number,
  lastReplyAt: string | null,
  mentionUserIds: string | null,
  mentionChannel: number,
  mentionHere: number,
  fileIds: string | null,
  clientMsgId: string | null,
];

/** Column positions in MessageRow. */
export const M = { id: 0, channelId: 1, seq: 2, deletedAt: 7, mentionUserIds: 11 } as const;

export const MESSAGE_COLS =
  'id, channel_id, seq, author_id, text, created_at, edited_at, deleted_at, parent_id, reply_count, last_reply_at, ' +
  'mention_user_ids, mention_channel, mention_here, file_ids, client_msg_id';

/** Arrays are stored as JSON text, NULL when empty. */
export const encodeList = (ids: readonly string[]): string | null => (ids.length ? JSON.stringify(ids) : null);
const decodeList = (s: string | null): string[] => (s ? (JSON.parse(s) as string[]) : []);

export function toMessage(r: MessageRow, reactions: ReactionSummary[] = []): Message {
  return {
    id: r[0],
    channelId: r[1],
    seq: r[2],
    authorId: r[3],
    text: r[4],
    createdAt: r[5],
    editedAt: r[6],
    deletedAt: r[7],
    parentId: r[8],
    replyCount: r[9],
    lastReplyAt: r[10],
    reactions,
    mentions: { userIds: decodeList(r[11]), channel: r[12] === 1, here: r[13] === 1 },
    files: decodeList(r[14]),
    clientMsgId: r[15],
  };
}

export interface ReactionRow {
  message_id: string;
  user_id: string;
  emoji: string;
}

/**
 * Groups reaction rows (already ordered by reaction time) per message: emojis in order of their
 * first reaction, user ids in reaction order.
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

export function toNotification(r: NotificationRow): Notification {
  return {
    id: r.id,
    userId: r.user_id,
    kind: r.kind as NotificationKind,
    channelId: r.channel_id,
    messageId: r.message_id,
    seq: r.seq,
    actorId: r.actor_id,
    createdAt: r.created_at,
    readAt: r.read_at,
  };
}
