// Messages, threads and reactions.
import type { FastifyInstance } from 'fastify';
import { actorOf } from './actor.js';
import { noneMatch } from './conditional.js';
import type { Services } from '../services/index.js';
import {
  EditMessageBody,
  HistoryQuery,
  IdParams,
  MessagesReply,
  NoContent,
  ReactionParams,
  SendMessageBody,
  ThreadQuery,
  ThreadReply,
} from '../../protocol/rest.js';
import { Message } from '../../protocol/objects.js';

type IdP = { Params: { id: string } };

export function registerMessageRoutes(app: FastifyInstance, s: Services): void {
  app.post<IdP & { Body: SendMessageBody }>(
    '/api/channels/:id/messages',
    {
      schema: {
        summary: 'Send (idempotent by clientMsgId: a repeat returns 200 with the original)',
        params: IdParams,
        body: SendMessageBody,
        response: { 200: Message, 201: Message },
      },
    },
    async (req, reply) => {
      const { message, created } = await s.messages.send(actorOf(req), { ...req.body, channelId: req.params.id });
      return reply.status(created ? 201 : 200).send(message satisfies Message);
    },
  );

  app.get<IdP & { Querystring: HistoryQuery }>(
    '/api/channels/:id/messages',
    {
      schema: {
        summary: 'History by seq: newest first; ?after= gives oldest first',
        params: IdParams,
        querystring: HistoryQuery,
        response: { 200: MessagesReply, 304: NoContent },
      },
    },
    async (req, reply) => {
      const q = req.query;
      if (q.before === undefined && q.after === undefined) {
        // The newest page: reused serialized while the channel is unchanged, and revalidated by
        // its ETag (services/history-pages.ts). Per user (authorization runs on every request),
        // so private; no-cache: a browser asks again each time, and mostly gets a 304.
        const page = await s.messages.newestPage(
          actorOf(req),
          req.params.id,
          q.limit ?? 50,
          (messages) => {
            // The route's compiled response serializer (the 200 schema below) makes a string.
            const out = reply.serialize({ messages } satisfies MessagesReply);
            return typeof out === 'string' ? out : Buffer.from(out as ArrayBuffer).toString('utf8');
          },
          (etag) => noneMatch(req.headers['if-none-match'], etag),
        );
        if (page.etag) reply.header('etag', page.etag).header('cache-control', 'private, no-cache');
        if (page.notModified) return reply.status(304).send();
        return reply.type('application/json; charset=utf-8').send(page.body);
      }
      const messages = await s.messages.history(actorOf(req), req.params.id, { before: q.before, after: q.after, limit: q.limit ?? 50 });
      return { messages } satisfies MessagesReply;
    },
  );

  app.get<IdP>('/api/messages/:id', { schema: { summary: 'One message', params: IdParams, response: { 200: Message } } }, async (req) =>
    s.messages.get(actorOf(req), req.params.id),
  );

  app.patch<IdP & { Body: { text: string } }>(
    '/api/messages/:id',
    { schema: { summary: 'Edit (author only)', params: IdParams, body: EditMessageBody, response: { 200: Message } } },
    async (req) => s.messages.edit(actorOf(req), req.params.id, req.body.text),
  );

  app.delete<IdP>(
    '/api/messages/:id',
    { schema: { summary: 'Delete (author, channel admin or moderator); the seq stays', params: IdParams, response: { 200: Message } } },
    async (req) => s.messages.remove(actorOf(req), req.params.id),
  );

  app.get<IdP & { Querystring: { after?: number; limit?: number } }>(
    '/api/messages/:id/thread',
    { schema: { summary: 'A root message and its replies', params: IdParams, querystring: ThreadQuery, response: { 200: ThreadReply } } },
    async (req): Promise<ThreadReply> => {
      return s.messages.thread(actorOf(req), req.params.id, req.query.limit ?? 100, req.query.after);
    },
  );

  app.put<{ Params: { id: string; emoji: string } }>(
    '/api/messages/:id/reactions/:emoji',
    { schema: { summary: 'Add your reaction', params: ReactionParams, response: { 200: Message } } },
    async (req) => s.messages.react(actorOf(req), req.params.id, req.params.emoji, true),
  );

  app.delete<{ Params: { id: string; emoji: string } }>(
    '/api/messages/:id/reactions/:emoji',
    { schema: { summary: 'Remove your reaction', params: ReactionParams, response: { 200: Message } } },
    async (req) => s.messages.react(actorOf(req), req.params.id, req.params.emoji, false),
  );
}
