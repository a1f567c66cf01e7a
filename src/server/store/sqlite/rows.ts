// Row shapes as SQLite returns them, and their mapping to domain records (always fresh objects).
import type { FileObject } from '../../../protocol/files.js';
import type { Message, ReactionSummary } from '../types.js';

// Shared row shapes and mappers (users, tokens, channels, members, notifications, reactions).
export * from '../rows.js';

export const USER_COLS = 'id, username, email, display_name, password_hash, role, status, avatar_file_id, created_at, deactivated_at';

export const CHANNEL_COLS = 'id, type, name, description, topic, created_by, created_at, archived_at, last_seq, member_count, dm_key';

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
  /** JSON array of the attached files' objects (messages.files, 0003_files), NULL when none. */
  files: string | null,
  clientMsgId: string | null,
];

/** Column positions in MessageRow. */
export const M = { id: 0, channelId: 1, seq: 2, deletedAt: 7, mentionUserIds: 11, files: 14 } as const;

export const MESSAGE_COLS =
  'id, channel_id, seq, author_id, text, created_at, edited_at, deleted_at, parent_id, reply_count, last_reply_at, ' +
  'mention_user_ids, mention_channel, mention_here, files, client_msg_id';

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
    files: r[14] ? (JSON.parse(r[14]) as FileObject[]) : [],
    clientMsgId: r[15],
  };
}
