// The service layer: one module per domain concept; routes and the realtime gateway call these.
import { AuthService } from './auth.js';
import { ChannelService } from './channels.js';
import type { ServiceDeps } from './context.js';
import { MessageService } from './messages.js';
import { NotificationService } from './notifications.js';
import { UserService } from './users.js';

export type { Actor, PresenceView, ServiceDeps } from './context.js';

export interface Services {
  auth: AuthService;
  users: UserService;
  channels: ChannelService;
  messages: MessageService;
  notifications: NotificationService;
}

/** `jwtSecret` comes from config or is generated once and shared through the store (see main.ts). */
export function buildServices(deps: ServiceDeps, jwtSecret: string): Services {
  const channels = new ChannelService(deps);
  const auth = new AuthService(deps, jwtSecret);
  const users = new UserService(deps);
  users.onRoleChanged = (userId) => auth.forgetRole(userId);
  return {
    auth,
    users,
    channels,
    messages: new MessageService(deps, channels),
    notifications: new NotificationService(deps),
  };
}
