// Row → domain object mapping. Every call builds a fresh object (callers may mutate results).
// The column lists are the single place that says what each query must select.
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

export const USER_COLS = 'u.id, u.username, u.email, u.display_name, u.role, u.status, u.avatar_file_id, u.created_at';

export interface UserRow {
  id: string;
  username: string;
  email: string;
  display_name: string;
  role: string;
  status: string | null;
  avatar_file_id: string | null;
  created_at: string;
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

export const CHANNEL_COLS =
  'c.id, c.type, c.name, c.description, c.topic, c.created_by, c.created_at, c.archived_at, c.last_seq, c.member_count';

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

export const MEMBER_COLS = 'm.channel_id, m.user_id, m.role, m.joined_at, m.read_seq';

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

export const MESSAGE_COLS =
  'm.id, m.channel_id, m.seq, m.author_id, m.text, m.created_at, m.edited_at, m.deleted_at, m.parent_id, ' +
  'm.reply_count, m.last_reply_at, m.mention_user_ids, m.mention_channel, m.mention_here, m.file_ids, m.client_msg_id, ' +
  'm.reaction_count';

export interface MessageRow {
  id: string;
  channel_id: string;
  seq: number;
  author_id: string;
  text: string;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
  parent_id: string | null;
  reply_count: number;
  last_reply_at: string | null;
  mention_user_ids: string[];
  mention_channel: boolean;
  mention_here: boolean;
  file_ids: string[];
  client_msg_id: string | null;
  reaction_count: number;
}

export const toMessage = (r: MessageRow, reactions: ReactionSummary[] = []): Message => ({
  id: r.id,
  channelId: r.channel_id,
  seq: Number(r.seq),
  authorId: r.author_id,
  text: r.text,
  createdAt: r.created_at,
  editedAt: r.edited_at,
  deletedAt: r.deleted_at,
  parentId: r.parent_id,
  replyCount: Number(r.reply_count),
  lastReplyAt: r.last_reply_at,
  reactions,
  mentions: { userIds: [...(r.mention_user_ids ?? [])], channel: r.mention_channel, here: r.mention_here },
  files: [...(r.file_ids ?? [])],
  clientMsgId: r.client_msg_id,
});

export const NOTIFICATION_COLS = 'n.id, n.user_id, n.kind, n.channel_id, n.message_id, n.seq, n.actor_id, n.created_at, n.read_at';

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

/**
 * Reaction rows (ordered by message, then reaction time) → summaries per message id.
 * Emojis appear in the order they were first used; userIds in the order they reacted.
 */
export function groupReactions(rows: { message_id: string; emoji: string; user_id: string }[]): Map<string, ReactionSummary[]> {
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
