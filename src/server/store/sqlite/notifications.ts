import { newId } from '../../ids.js';
import type { NotificationStore } from '../store.js';
import type { NewMessage, Notification, NotificationKind, Page } from '../types.js';
import { lazy, SqliteModule } from './db.js';
import { pageLimit } from '../paging.js';
import { toNotification, type NotificationRow } from './rows.js';

/** Kind precedence when one user qualifies several ways: mention > reply > dm. */
const rank: Record<NotificationKind, number> = { dm: 1, reply: 2, mention: 3 };

export class SqliteNotifications extends SqliteModule implements NotificationStore {
  private readonly q = lazy(() => {
    const db = this.db;
    return {
      memberIds: db.prepare('SELECT user_id FROM members WHERE channel_id = ?').pluck(),
      isMember: db.prepare('SELECT 1 FROM members WHERE channel_id = ? AND user_id = ?').pluck(),
      // The root's author and everyone who replied to it.
      participants: db
        .prepare('SELECT author_id FROM messages WHERE id = @root UNION SELECT author_id FROM messages WHERE parent_id = @root')
        .pluck(),
      insert: db.prepare(
        `INSERT INTO notifications (id, user_id, kind, channel_id, message_id, seq, actor_id, created_at, read_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
      ),
      // Newest first by id (ids are time-ordered); only channels the user still belongs to.
      list: db.prepare(
        `SELECT n.* FROM notifications n
         WHERE n.user_id = @userId AND (@cursor IS NULL OR n.id < @cursor) AND (@unreadOnly = 0 OR n.read_at IS NULL)
           AND EXISTS (SELECT 1 FROM members m WHERE m.channel_id = n.channel_id AND m.user_id = n.user_id)
         ORDER BY n.id DESC LIMIT @limit`,
      ),
      markAll: db.prepare('UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL'),
      markIds: db.prepare(
        `UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL
           AND id IN (SELECT value FROM json_each(?))`,
      ),
    };
  });

  /**
   * Writes the notification rows of a new message; must run inside the message's transaction.
   * The recipient rule is MessageStore.create's (store.ts); the PostgreSQL store applies the
   * same rule in SQL (postgres/message-sql.ts), and contract/notifications.ts checks both.
   */
  createForMessage(input: NewMessage, seq: number): Notification[] {
    const n = input.notify;
    const wantsThread = n.threadParticipants && input.parentId !== null;
    if (!n.allMembers && n.mentionUserIds.length === 0 && !wantsThread) return [];
    const q = this.q();
    const kinds = new Map<string, NotificationKind>();
    const give = (userId: string, kind: NotificationKind) => {
      const cur = kinds.get(userId);
      if (!cur || rank[kind] > rank[cur]) kinds.set(userId, kind);
    };
    let members: Set<string> | undefined;
    if (n.allMembers) {
      members = new Set(q.memberIds.all(input.channelId) as string[]);
      for (const u of members) give(u, n.allMembers);
    }
    const isMember = (u: string) => (members ? members.has(u) : q.isMember.get(input.channelId, u) === 1);
    if (wantsThread) {
      for (const u of q.participants.all({ root: input.parentId }) as string[]) if (isMember(u)) give(u, 'reply');
    }
    for (const u of n.mentionUserIds) if (typeof u === 'string' && isMember(u)) give(u, 'mention');
    kinds.delete(input.authorId);

    const out: Notification[] = [];
    for (const userId of [...kinds.keys()].sort()) {
      const kind = kinds.get(userId)!;
      const id = newId();
      q.insert.run(id, userId, kind, input.channelId, input.id, seq, input.authorId, input.createdAt);
      out.push({
        id,
        userId,
        kind,
        channelId: input.channelId,
        messageId: input.id,
        seq,
        actorId: input.authorId,
        createdAt: input.createdAt,
        readAt: null,
      });
    }
    return out;
  }

  async list(userId: string, opts: { unreadOnly: boolean; limit: number; cursor?: string }): Promise<Page<Notification>> {
    const limit = pageLimit('notifications', opts.limit);
    const rows = this.q().list.all({
      userId,
      cursor: opts.cursor ?? null,
      unreadOnly: opts.unreadOnly ? 1 : 0,
      limit: limit + 1,
    }) as NotificationRow[];
    const more = rows.length > limit;
    const items = (more ? rows.slice(0, limit) : rows).map(toNotification);
    return { items, nextCursor: more ? items[items.length - 1].id : null };
  }

  async markRead(userId: string, ids: string[] | 'all', at: string): Promise<number> {
    if (ids === 'all') return this.q().markAll.run(at, userId).changes;
    if (ids.length === 0) return 0;
    return this.q().markIds.run(at, userId, JSON.stringify(ids)).changes;
  }
}
