// /api/notifications: list (optionally unread only) and mark read.
import type { FastifyInstance } from 'fastify';
import { actorOf } from './actor.js';
import type { Services } from '../services/index.js';
import { NotificationsQuery, NotificationsReadBody, NotificationsReadReply, NotificationsReply } from '../../protocol/rest.js';

export function registerNotificationRoutes(app: FastifyInstance, s: Services): void {
  app.get<{ Querystring: NotificationsQuery }>(
    '/api/notifications',
    {
      schema: {
        summary: 'Mentions, thread replies, DMs — newest first',
        querystring: NotificationsQuery,
        response: { 200: NotificationsReply },
      },
    },
    async (req): Promise<NotificationsReply> => {
      const q = req.query;
      const page = await s.notifications.list(actorOf(req), { unreadOnly: q.unread === true, limit: q.limit ?? 50, cursor: q.cursor });
      return { notifications: page.items, nextCursor: page.nextCursor };
    },
  );

  app.post<{ Body: NotificationsReadBody }>(
    '/api/notifications/read',
    { schema: { summary: 'Mark some or all notifications read', body: NotificationsReadBody, response: { 200: NotificationsReadReply } } },
    async (req): Promise<NotificationsReadReply> => {
      const b = req.body;
      const updated = await s.notifications.markRead(actorOf(req), 'ids' in b ? b.ids : 'all');
      return { updated };
    },
  );
}
