// Bulk loading of a whole workspace (nchat seed), below the Store contract: rows go straight
// into the base tables in big transactions, without the per-send work of messages.create
// (group commit, notifications, idempotency checks). Two implementations: sqlite/bulk.ts and
// postgres/bulk.ts. Search index maintenance is not their concern: the caller pauses it through
// store.search.pauseIndexing() before and rebuilds it with resumeIndexing() after.
//
// What the caller guarantees (the writers do not re-check it, that is the point of bulk):
// - every id is unique and in the server's id format; usernames/emails are lower-case and unique;
// - a message's channel and users exist (written by writeDirectory first), and its author and
//   mentioned users are members of the channel;
// - per channel, messages arrive in seq order 1, 2, 3… across calls (gapless), created_at
//   non-decreasing with seq; a reply's parent is an earlier top-level message of the same channel;
// - reactions are distinct per (user, emoji) on a message.
// What the writers guarantee: each call is one transaction (all of it or nothing), and after
// finish() channels.last_seq, member read positions and the roots' reply_count/last_reply_at are
// what the messages written imply, so the server's own reads (history, channel list with unread
// counts, threads) work on the result as on a workspace built by sends.
import type { ChannelType, MemberRole, Role } from './types.js';

export interface BulkUser {
  id: string;
  username: string;
  email: string;
  displayName: string;
  passwordHash: string;
  role: Role;
  createdAt: string;
}

export interface BulkChannel {
  id: string;
  type: ChannelType;
  name: string | null;
  description: string;
  createdBy: string;
  createdAt: string;
  /** Sorted member ids joined by ',' for direct/group channels, else null. */
  dmKey: string | null;
}

export interface BulkMember {
  channelId: string;
  userId: string;
  role: MemberRole;
  joinedAt: string;
}

export interface BulkReaction {
  userId: string;
  emoji: string;
  createdAt: string;
}

export interface BulkMessage {
  id: string;
  channelId: string;
  seq: number;
  authorId: string;
  text: string;
  createdAt: string;
  parentId: string | null;
  mentionUserIds: string[];
  mentionChannel: boolean;
  reactions: BulkReaction[];
}

export interface BulkFinish {
  /** Highest seq written per channel id (channels without messages may be absent: 0). */
  lastSeq: Map<string, number>;
  /** Read positions to set (each ≤ that channel's last seq); members not listed keep 0. */
  readSeq: { channelId: string; userId: string; readSeq: number }[];
  /** Thread roots: how many replies and when the last one was written. */
  threads: { rootId: string; replyCount: number; lastReplyAt: string }[];
}

export interface BulkWriter {
  /** Users, channels (member_count set from members) and members, in one transaction. */
  writeDirectory(users: BulkUser[], channels: BulkChannel[], members: BulkMember[]): Promise<void>;
  /** One batch of messages with their mention rows and reactions, in one transaction. */
  writeMessages(batch: BulkMessage[]): Promise<void>;
  /** Counters and positions the messages imply (see BulkFinish), in one transaction. */
  finish(f: BulkFinish): Promise<void>;
  /** Releases the writer's own connection (the Store is separate and stays open). */
  close(): Promise<void>;
}
