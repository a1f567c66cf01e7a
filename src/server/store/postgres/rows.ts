// Row → domain object mapping. Every call builds a fresh object (callers may mutate results).
// The column lists are the single place that says what each query must select.
import type { FileObject } from '../../../protocol/files.js';
import type { Message, ReactionSummary } from '../types.js';

// Shared row shapes and mappers (users, tokens, channels, members, notifications, reactions).
export * from '../rows.js';

export const USER_COLS = 'u.id, u.username, u.email, u.display_name, u.role, u.status, u.avatar_file_id, u.created_at, u.deactivated_at';

export const CHANNEL_COLS =
  'c.id, c.type, c.name, c.description, c.topic, c.created_by, c.created_at, c.archived_at, c.last_seq, c.member_count';

export const MEMBER_COLS = 'm.channel_id, m.user_id, m.role, m.joined_at, m.read_seq';

export const MESSAGE_COLS =
  'm.id, m.channel_id, m.seq, m.author_id, m.text, m.created_at, m.edited_at, m.deleted_at, m.parent_id, ' +
  'm.reply_count, m.last_reply_at, m.mention_user_ids, m.mention_channel, m.mention_here, m.files, m.client_msg_id, ' +
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
  /** jsonb (0003_files): the attached files' objects, NULL when none; pg parses it per row (fresh objects). */
  files: FileObject[] | null;
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
  files: r.files ?? [],
  clientMsgId: r.client_msg_id,
});

export const NOTIFICATION_COLS = 'n.id, n.user_id, n.kind, n.channel_id, n.message_id, n.seq, n.actor_id, n.created_at, n.read_at';
