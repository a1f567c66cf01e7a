// What every service receives from the composition root, and the caller identity it acts for.
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { Broker } from '../broker/broker.js';
import type { Store } from '../store/store.js';
import type { Role } from '../store/types.js';

/** The authenticated caller. Services authorize every call against it. */
export interface Actor {
  userId: string;
  role: Role;
  /**
   * The session (refresh-token family, the access token's `sid`) the caller acts in; set for
   * every authenticated request and socket, absent for actors built inside the server.
   */
  sessionId?: string;
}

/** Who is connected right now (implemented by the realtime layer); used for @here. */
export interface PresenceView {
  onlineUserIds(userIds: string[]): string[];
}

export interface ServiceDeps {
  readonly config: Config;
  readonly store: Store;
  readonly broker: Broker;
  readonly logger: Logger;
  /** Who is online, cluster-wide (main.ts builds it from the broker before the services). */
  readonly presence: PresenceView;
  /** Clock, overridable in tests. */
  readonly now: () => Date;
}

/** The presence of a process without a realtime layer (bench/store.ts): nobody is online. */
export const nobodyOnline: PresenceView = { onlineUserIds: () => [] };

export const isWorkspaceAdmin = (a: Actor) => a.role === 'owner' || a.role === 'admin';
export const isModerator = (a: Actor) => isWorkspaceAdmin(a) || a.role === 'moderator';
