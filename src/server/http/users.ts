// /api/users: me, profiles, directory.
import type { FastifyInstance } from 'fastify';
import { actorOf } from './actor.js';
import type { Services } from '../services/index.js';
import { AdminUserBody, IdParams, PatchMeBody, UsersQuery, UsersReply } from '../../protocol/rest.js';
import { PublicUser, User } from '../../protocol/objects.js';

export function registerUserRoutes(app: FastifyInstance, s: Services): void {
  app.get('/api/users/me', { schema: { summary: "The caller's profile", response: { 200: User } } }, async (req) =>
    s.users.me(actorOf(req)),
  );

  app.patch<{ Body: PatchMeBody }>(
    '/api/users/me',
    { schema: { summary: 'Update display name, status, avatar', body: PatchMeBody, response: { 200: User } } },
    async (req) => s.users.updateMe(actorOf(req), req.body),
  );

  app.get<{ Params: { id: string } }>(
    '/api/users/:id',
    { schema: { summary: 'A profile', params: IdParams, response: { 200: PublicUser } } },
    async (req) => s.users.get(actorOf(req), req.params.id),
  );

  app.get<{ Querystring: UsersQuery }>(
    '/api/users',
    { schema: { summary: 'Directory: prefix match on username / display name', querystring: UsersQuery, response: { 200: UsersReply } } },
    async (req): Promise<UsersReply> => {
      const q = req.query;
      return { users: await s.users.search(actorOf(req), q.q ?? '', q.limit ?? 20, q.after) };
    },
  );

  // role and/or deactivated. Both are checked by one permission rule (users.assertCanManage), so
  // when the role change passes, the deactivation does too: no half-applied request.
  app.patch<{ Params: { id: string }; Body: AdminUserBody }>(
    '/api/admin/users/:id',
    {
      schema: {
        summary: "Change a user's workspace role and/or deactivate the account (owner/admin)",
        params: IdParams,
        body: AdminUserBody,
        response: { 200: User },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      let user = req.body.role !== undefined ? await s.users.setRole(actor, req.params.id, req.body.role) : undefined;
      if (req.body.deactivated !== undefined) user = await s.auth.setDeactivated(actor, req.params.id, req.body.deactivated);
      return user;
    },
  );
}
