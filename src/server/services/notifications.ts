// A user's notifications: mentions, replies in threads they are in, DMs. Created by the store in
// the send transaction; delivered live as `notification` events on u:<userId>.
import type { Notification, Page } from '../store/types.js';
import type { Actor, ServiceDeps } from './context.js';

export class NotificationService {
  constructor(private readonly deps: ServiceDeps) {}

  list(actor: Actor, opts: { unreadOnly: boolean; limit: number; cursor?: string }): Promise<Page<Notification>> {
    return this.deps.store.notifications.list(actor.userId, opts);
  }

  markRead(actor: Actor, ids: string[] | 'all'): Promise<number> {
    return this.deps.store.notifications.markRead(actor.userId, ids, this.deps.now().toISOString());
  }
}
