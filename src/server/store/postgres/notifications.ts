import type pg from 'pg';
import type { NotificationStore } from '../store.js';
import type { Notification, Page } from '../types.js';
import { pageLimit } from '../paging.js';
import { NOTIFICATION_COLS, toNotification, type NotificationRow } from './rows.js';

export class PostgresNotifications implements NotificationStore {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Walks notifications_user_idx (user_id, id DESC); notifications of channels the user has
   * left are filtered out by a primary-key probe of channel_members. One extra row tells
   * whether there is a next page.
   */
  async list(userId: string, opts: { unreadOnly: boolean; limit: number; cursor?: string }): Promise<Page<Notification>> {
    const limit = pageLimit('notifications', opts.limit);
    const r = await this.pool.query<NotificationRow>({
      name: 'nchat_notifications_list',
      text: `SELECT ${NOTIFICATION_COLS} FROM notifications n
       WHERE n.user_id = $1
         AND (NOT $2::boolean OR n.read_at IS NULL)
         AND ($3::text IS NULL OR n.id < $3)
         AND EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = n.channel_id AND m.user_id = $1)
       ORDER BY n.id DESC LIMIT $4`,
      values: [userId, !!opts.unreadOnly, opts.cursor ?? null, limit + 1],
    });
    const more = r.rows.length > limit;
    const items = r.rows.slice(0, limit).map(toNotification);
    return { items, nextCursor: more ? items[items.length - 1].id : null };
  }

  async markRead(userId: string, ids: string[] | 'all', at: string): Promise<number> {
    if (ids !== 'all' && ids.length === 0) return 0;
    const r =
      ids === 'all'
        ? await this.pool.query('UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL', [userId, at])
        : await this.pool.query('UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL AND id = ANY($3::text[])', [
            userId,
            at,
            ids,
          ]);
    return r.rowCount ?? 0;
  }
}
