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

export class UserService {
  /** Set by buildServices: drops the auth layer's cached role so the change applies at once. */
  onRoleChanged?: (userId: string) => void;

  constructor(private readonly deps: ServiceDeps) {}

  async me(actor: Actor): Promise<User> {
    const u = await this.deps.store.users.get(actor.userId);
    if (!u) throw new AppError('UNAUTHENTICATED', 'account no longer exists');
    return u;
  }

  async updateMe(actor: Actor, patch: PatchMeBody): Promise<User> {
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
   * Workspace roles: the owner may grant any role; admins may grant moderator, member or guest
   * to accounts that are not owners or admins. Nobody changes their own role (no lock-out).
   */
  async setRole(actor: Actor, id: string, role: Role): Promise<User> {
    if (!isWorkspaceAdmin(actor)) throw new AppError('FORBIDDEN', 'only workspace owners and admins can change roles');
    if (id === actor.userId) throw new AppError('FORBIDDEN', 'you cannot change your own role');
    const target = await this.deps.store.users.get(id);
    if (!target) throw notFound('user');
    if (actor.role !== 'owner' && (target.role === 'owner' || target.role === 'admin' || role === 'owner' || role === 'admin')) {
      throw new AppError('FORBIDDEN', 'only the owner can grant or change owner and admin roles');
    }
    const updated = (await this.deps.store.users.update(id, { role }))!;
    this.onRoleChanged?.(id);
    return updated;
  }

  async search(actor: Actor, q: string, limit: number, after?: string): Promise<PublicUser[]> {
    const users = await this.deps.store.users.search(q.trim().toLowerCase(), limit, after);
    return users.map((u) => presentUser(actor, u));
  }
}
