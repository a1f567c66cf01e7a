// Profiles and the directory. Email addresses are private: only the user and workspace admins see them.
import { AppError, notFound } from '../errors.js';
import type { Role, User } from '../store/types.js';
import type { PatchMeBody } from '../../protocol/rest.js';
import { type Actor, type ServiceDeps, isWorkspaceAdmin } from './context.js';

export type PublicUser = Omit<User, 'email'> & { email?: string };

export function presentUser(actor: Actor | undefined, u: User): PublicUser {
  if (actor && (actor.userId === u.id || isWorkspaceAdmin(actor))) return u;
  const { email: _hidden, ...rest } = u;
  return rest;
}

/**
 * Who may change another account's role or deactivate it: workspace owners and admins; admins
 * only for accounts that are not owners or admins, and never to grant owner or admin. Nobody
 * changes or deactivates their own account (no lock-out). Missing target: 404.
 */
export function assertCanManage(actor: Actor, id: string, target: User | undefined, newRole?: Role): asserts target is User {
  if (!isWorkspaceAdmin(actor)) throw new AppError('FORBIDDEN', 'only workspace owners and admins can manage accounts');
  if (id === actor.userId) throw new AppError('FORBIDDEN', 'you cannot change or deactivate your own account');
  if (!target) throw notFound('user');
  if (actor.role !== 'owner' && (target.role === 'owner' || target.role === 'admin' || newRole === 'owner' || newRole === 'admin')) {
    throw new AppError('FORBIDDEN', 'only the owner can grant or change owner and admin roles, or deactivate them');
  }
}

export class UserService {
  /** Set by buildServices: drops the auth layer's cached role so the change applies at once. */
  onRoleChanged?: (userId: string) => void;

  constructor(private readonly deps: ServiceDeps) {}

  async me(actor: Actor): Promise<User> {
    const u = await this.deps.store.users.get(actor.userId);
    if (!u) throw new AppError('UNAUTHENTICATED', 'account no longer exists');
    return u;
  }

  /**
   * `avatarFileId` (non-null) must name the caller's own upload of a raster image (the inline
   * types of protocol/files.ts: never SVG or another type served as an attachment), else 400
   * VALIDATION_FAILED and nothing is changed; null clears the avatar. Once set, the file is
   * readable by every signed-in user (services/files.ts).
   */
  async updateMe(actor: Actor, patch: PatchMeBody): Promise<User> {
    if (patch.avatarFileId) {
      const f = await this.deps.store.files.get(patch.avatarFileId);
      if (!f || f.uploaderId !== actor.userId || !f.isImage)
        throw new AppError('VALIDATION_FAILED', 'avatarFileId must be an image file you uploaded (PNG, JPEG, GIF or WebP)', {
          field: 'avatarFileId',
        });
    }
    const u = await this.deps.store.users.update(actor.userId, patch);
    if (!u) throw new AppError('UNAUTHENTICATED', 'account no longer exists');
    return u;
  }

  async get(actor: Actor, id: string): Promise<PublicUser> {
    const u = await this.deps.store.users.get(id);
    if (!u) throw notFound('user');
    return presentUser(actor, u);
  }

  /**
   * Workspace roles: see assertCanManage. The change reaches every node at once: cached roles
   * are dropped and the user's open sockets are closed with 4001 so they reconnect (and
   * re-subscribe) with the new role; access tokens stay valid and carry the new role at once.
   */
  async setRole(actor: Actor, id: string, role: Role): Promise<User> {
    assertCanManage(actor, id, await this.deps.store.users.get(id), role);
    const updated = await this.deps.store.users.update(id, { role });
    if (!updated) throw notFound('user');
    this.onRoleChanged?.(id);
    return updated;
  }

  async search(actor: Actor, q: string, limit: number, after?: string): Promise<PublicUser[]> {
    const users = await this.deps.store.users.search(q.trim().toLowerCase(), limit, after);
    return users.map((u) => presentUser(actor, u));
  }
}
