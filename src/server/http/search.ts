// GET /api/search and GET /api/search/suggest (issue 10). Thin: the schemas from protocol/search.ts
// validate (q length, dates, limit, cursor shape: a 400 before any work), the service does the rest.
import type { FastifyInstance } from 'fastify';
import { SearchQuery, SearchReply, SuggestQuery, SuggestReply } from '../../protocol/search.js';
import type { Services } from '../services/index.js';
import { actorOf } from './actor.js';

export function registerSearchRoutes(app: FastifyInstance, s: Services): void {
  app.get<{ Querystring: SearchQuery }>(
    '/api/search',
    {
      schema: {
        summary:
          'Search messages in your channels: words, "phrases", -excluded, prefix*, from:@user in:#channel has:file|image|link before:/after:/on: is:thread',
        querystring: SearchQuery,
        response: { 200: SearchReply },
      },
    },
    async (req): Promise<SearchReply> => s.search.search(actorOf(req), req.query),
  );

  app.get<{ Querystring: SuggestQuery }>(
    '/api/search/suggest',
    {
      schema: {
        summary: 'Type-ahead: terms from messages you can read, people, your channels',
        querystring: SuggestQuery,
        response: { 200: SuggestReply },
      },
    },
    async (req): Promise<SuggestReply> => s.search.suggest(actorOf(req), req.query.q, req.query.limit ?? 8),
  );
}
