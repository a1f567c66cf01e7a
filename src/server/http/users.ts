// /api/users: me, profiles, directory.
import type { FastifyInstance } from 'fastify';
import { actorOf } from '../app.js';
import type { Services } from '../services/index.js';
import { IdParams, PatchMeBody, RoleBody, UsersQuery } from '../../protocol/rest.js';
import type { Role } from '../store/types.js';

export function registerUserRoutes(app: FastifyInstance, s: Services): void {
  app.get('/api/users/me', { schema: { summary: "The caller's profile" } }, async (req) => s.users.me(actorOf(req)));

  app.patch<{ Body: PatchMeBody }>('/api/users/me', { schema: { summary: 'Update display name, status, avatar', body: PatchMeBody } }, async (req) => s.users.updateMe(actorOf(req), req.body));

  app.get<{ Params: { id: string } }>('/api/users/:id', { schema: { summary: 'A profile', params: IdParams } }, async (req) => s.users.get(actorOf(req), req.params.id));

  app.get<{ Querystring: UsersQuery }>('/api/users', { schema: { summary: 'Directory: prefix match on username / display name', querystring: UsersQuery } }, async (req) => {
    const q = req.query;
    return { users: await s.users.search(actorOf(req), q.q ?? '', q.limit ?? 20, q.after) };
  });

  app.patch<{ Params: { id: string }; Body: { role: Role } }>('/api/admin/users/:id', { schema: { summary: "Change a user's workspace role (owner/admin)", params: IdParams, body: RoleBody } }, async (req) =>
    s.users.setRole(actorOf(req), req.params.id, req.body.role),
  );
}
