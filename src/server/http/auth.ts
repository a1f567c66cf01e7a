// POST /api/auth/{signup,signin,refresh,signout}, POST /api/admin/users/bulk and POST /api/admin/invites.
import type { FastifyInstance } from 'fastify';
import { actorOf } from './actor.js';
import type { Services } from '../services/index.js';
import { presentUser } from '../services/users.js';
import {
  BulkUsersBody,
  BulkUsersReply,
  CreateInviteBody,
  InviteReply,
  NoContent,
  RefreshBody,
  SessionReply,
  SigninBody,
  SignupBody,
  TokensReply,
} from '../../protocol/rest.js';

const pub = { public: true } as const;

export function registerAuthRoutes(app: FastifyInstance, s: Services): void {
  app.post<{ Body: SignupBody }>(
    '/api/auth/signup',
    {
      config: pub,
      schema: {
        summary: 'Create an account (the first becomes workspace owner; in invite mode later ones need an invite)',
        body: SignupBody,
        response: { 201: SessionReply },
      },
    },
    async (req, reply) => {
      const session = await s.auth.signup(req.body, req.ip);
      return reply.status(201).send(session satisfies SessionReply);
    },
  );

  app.post<{ Body: SigninBody }>(
    '/api/auth/signin',
    { config: pub, schema: { summary: 'Sign in with email or username', body: SigninBody, response: { 200: SessionReply } } },
    async (req): Promise<SessionReply> => s.auth.signin(req.body, req.ip),
  );

  app.post<{ Body: RefreshBody }>(
    '/api/auth/refresh',
    { config: pub, schema: { summary: 'Rotate a refresh token', body: RefreshBody, response: { 200: TokensReply } } },
    async (req): Promise<TokensReply> => s.auth.refresh(req.body.refreshToken),
  );

  app.post<{ Body: RefreshBody }>(
    '/api/auth/signout',
    { config: pub, schema: { summary: 'Revoke this sign-in', body: RefreshBody, response: { 204: NoContent } } },
    async (req, reply) => {
      await s.auth.signout(req.body.refreshToken);
      return reply.status(204).send();
    },
  );

  app.post<{ Body: BulkUsersBody }>(
    '/api/admin/users/bulk',
    { schema: { summary: 'Create up to 1,000 accounts (workspace owner/admin)', body: BulkUsersBody, response: { 201: BulkUsersReply } } },
    async (req, reply) => {
      const actor = actorOf(req);
      const sessions = await s.auth.bulkCreate(actor, req.body);
      return reply.status(201).send({ users: sessions.map((x) => ({ ...x, user: presentUser(actor, x.user) })) } satisfies BulkUsersReply);
    },
  );

  app.post<{ Body: CreateInviteBody }>(
    '/api/admin/invites',
    {
      schema: {
        summary: 'Create a sign-up invite (workspace owner/admin); the token is shown once',
        body: CreateInviteBody,
        response: { 201: InviteReply },
      },
    },
    async (req, reply) => {
      return reply.status(201).send((await s.auth.createInvite(actorOf(req), req.body)) satisfies InviteReply);
    },
  );
}
