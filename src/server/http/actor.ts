// The authenticated caller of an HTTP request. app.ts's onRequest hook sets `req.actor` from the
// bearer token before any body is read; routes not marked `config.public` call actorOf().
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { Actor } from '../services/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | undefined;
  }
}

/** The authenticated caller; routes marked public never call this. */
export function actorOf(req: FastifyRequest): Actor {
  if (!req.actor) throw new AppError('UNAUTHENTICATED', 'missing bearer token');
  return req.actor;
}
