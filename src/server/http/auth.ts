// POST /api/auth/{signup,signin,refresh,signout}, POST /api/admin/users/bulk and POST /api/admin/invites.
import type { FastifyInstance } from 'fastify';
import { actorOf } from './actor.js';
import type { Services } from '../services/index.js';
import { presentUser } from '../services/users.js';
import { BulkUsersBody, CreateInviteBody, RefreshBody, SigninBody, SignupBody } from '../../protocol/rest.js';

const pub = { public: true } as const;

export function registerAuthRoutes(app: FastifyInstance, s: Services): void {
  app.post<{ Body: SignupBody }>('/api/auth/signup', { config: pub, schema: { summary: 'Create an account (the first becomes workspace owner; in invite mode later ones need an invite)', body: SignupBody } }, async (req, reply) => {
    const session = await s.auth.signup(req.body, req.ip);
    return reply.status(201).send(session);
  });

  app.post<{ Body: SigninBody }>('/api/auth/signin', { config: pub, schema: { summary: 'Sign in with email or username', body: SigninBody } }, async (req) => s.auth.signin(req.body, req.ip));

  app.post<{ Body: { refreshToken: string } }>('/api/auth/refresh', { config: pub, schema: { summary: 'Rotate a refresh token', body: RefreshBody } }, async (req) => s.auth.refresh(req.body.refreshToken));

  app.post<{ Body: { refreshToken: string } }>('/api/auth/signout', { config: pub, schema: { summary: 'Revoke this sign-in', body: RefreshBody } }, async (req, reply) => {
    await s.auth.signout(req.body.refreshToken);
    return reply.status(204).send();
  });

  app.post<{ Body: BulkUsersBody }>('/api/admin/users/bulk', { schema: { summary: 'Create up to 1,000 accounts (workspace owner/admin)', body: BulkUsersBody } }, async (req, reply) => {
    const actor = actorOf(req);
    const sessions = await s.auth.bulkCreate(actor, req.body);
    return reply.status(201).send({ users: sessions.map((x) => ({ ...x, user: presentUser(actor, x.user) })) });
  });

  app.post<{ Body: CreateInviteBody }>('/api/admin/invites', { schema: { summary: 'Create a sign-up invite (workspace owner/admin); the token is shown once', body: CreateInviteBody } }, async (req, reply) => {
    return reply.status(201).send(await s.auth.createInvite(actorOf(req), req.body));
  });
}
