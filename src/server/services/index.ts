// The service layer: one module per domain concept; routes and the realtime gateway call these.
import { AuthService } from './auth.js';
import { ChannelService } from './channels.js';
import type { ServiceDeps } from './context.js';
import { FileService, type FileStorage } from './files.js';
import { MessageService } from './messages.js';
import { NotificationService } from './notifications.js';
import { SearchService } from './search.js';
import { UserService } from './users.js';

export type { Actor, PresenceView, ServiceDeps } from './context.js';

export interface Services {
  auth: AuthService;
  users: UserService;
  channels: ChannelService;
  messages: MessageService;
  notifications: NotificationService;
  files: FileService;
  search: SearchService;
}

/**
 * `jwtSecret` comes from config or is generated once and shared through the store (see main.ts).
 * `fileStorage`: the blob store and thumbnailer (main.ts); without it the file routes answer 503.
 */
export function buildServices(deps: ServiceDeps, jwtSecret: string, fileStorage?: FileStorage): Services {
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
    files: new FileService(deps, channels, fileStorage),
    search: new SearchService(deps),
  };
}
