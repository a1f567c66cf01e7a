// /api/channels and /api/dms: thin — decode, call the channel service, present.
import type { FastifyInstance } from 'fastify';
import { actorOf } from './actor.js';
import type { Services } from '../services/index.js';
import {
  AddMembersBody,
  AddMembersReply,
  ChannelsQuery,
  ChannelsReply,
  CreateChannelBody,
  DmBody,
  IdParams,
  MemberParams,
  MemberRoleBody,
  MembersQuery,
  MembersReply,
  NoContent,
  PatchChannelBody,
  ReadBody,
  ReadReply,
} from '../../protocol/rest.js';
import { Channel, Member } from '../../protocol/objects.js';

type IdP = { Params: { id: string } };

export function registerChannelRoutes(app: FastifyInstance, s: Services): void {
  app.get<{ Querystring: ChannelsQuery }>(
    '/api/channels',
    {
      schema: {
        summary: "The caller's channels with unread state, or ?browse=public",
        querystring: ChannelsQuery,
        response: { 200: ChannelsReply },
      },
    },
    async (req): Promise<ChannelsReply> => {
      const actor = actorOf(req);
      if (req.query.browse === 'public') return { channels: await s.channels.browsePublic(actor, req.query.limit ?? 100, req.query.after) };
      return { channels: await s.channels.list(actor) };
    },
  );

  app.post<{ Body: CreateChannelBody }>(
    '/api/channels',
    { schema: { summary: 'Create a public or private channel', body: CreateChannelBody, response: { 201: Channel } } },
    async (req, reply) => {
      return reply.status(201).send((await s.channels.create(actorOf(req), req.body)) satisfies Channel);
    },
  );

  app.get<IdP>(
    '/api/channels/:id',
    { schema: { summary: 'One channel', params: IdParams, response: { 200: Channel } } },
    async (req) => (await s.channels.visible(actorOf(req), req.params.id)).channel,
  );

  app.patch<IdP & { Body: PatchChannelBody }>(
    '/api/channels/:id',
    {
      schema: {
        summary: 'Rename, describe, set topic (channel admins)',
        params: IdParams,
        body: PatchChannelBody,
        response: { 200: Channel },
      },
    },
    async (req) => s.channels.update(actorOf(req), req.params.id, req.body),
  );

  app.delete<IdP>(
    '/api/channels/:id',
    { schema: { summary: 'Archive (channel owner or workspace admin)', params: IdParams, response: { 200: Channel } } },
    async (req) => s.channels.archive(actorOf(req), req.params.id),
  );

  app.post<IdP>(
    '/api/channels/:id/join',
    { schema: { summary: 'Join a public channel', params: IdParams, response: { 200: Member } } },
    async (req) => s.channels.join(actorOf(req), req.params.id),
  );

  app.post<IdP>(
    '/api/channels/:id/leave',
    { schema: { summary: 'Leave a channel', params: IdParams, response: { 204: NoContent } } },
    async (req, reply) => {
      await s.channels.leave(actorOf(req), req.params.id);
      return reply.status(204).send();
    },
  );

  app.get<IdP & { Querystring: { limit?: number; after?: string } }>(
    '/api/channels/:id/members',
    { schema: { summary: 'Members', params: IdParams, querystring: MembersQuery, response: { 200: MembersReply } } },
    async (req): Promise<MembersReply> => ({
      members: await s.channels.members(actorOf(req), req.params.id, req.query.limit ?? 100, req.query.after),
    }),
  );

  app.post<IdP & { Body: { userIds: string[] } }>(
    '/api/channels/:id/members',
    { schema: { summary: 'Add members', params: IdParams, body: AddMembersBody, response: { 200: AddMembersReply } } },
    async (req): Promise<AddMembersReply> => ({
      added: await s.channels.addMembers(actorOf(req), req.params.id, req.body.userIds),
    }),
  );

  app.delete<{ Params: { id: string; userId: string } }>(
    '/api/channels/:id/members/:userId',
    { schema: { summary: 'Remove a member (channel admins; anyone for themselves)', params: MemberParams, response: { 204: NoContent } } },
    async (req, reply) => {
      await s.channels.removeMember(actorOf(req), req.params.id, req.params.userId);
      return reply.status(204).send();
    },
  );

  app.patch<{ Params: { id: string; userId: string }; Body: { role: 'admin' | 'member' } }>(
    '/api/channels/:id/members/:userId',
    {
      schema: {
        summary: 'Make a member channel admin or plain member',
        params: MemberParams,
        body: MemberRoleBody,
        response: { 204: NoContent },
      },
    },
    async (req, reply) => {
      await s.channels.setMemberRole(actorOf(req), req.params.id, req.params.userId, req.body.role);
      return reply.status(204).send();
    },
  );

  app.post<IdP & { Body: { seq: number } }>(
    '/api/channels/:id/read',
    { schema: { summary: 'Mark read up to seq', params: IdParams, body: ReadBody, response: { 200: ReadReply } } },
    async (req): Promise<ReadReply> => ({
      readSeq: await s.channels.markRead(actorOf(req), req.params.id, req.body.seq),
    }),
  );

  app.post<{ Body: { userIds: string[] } }>(
    '/api/dms',
    { schema: { summary: 'The direct / group-direct channel for a set of people (idempotent)', body: DmBody, response: { 200: Channel } } },
    async (req) => s.channels.openDm(actorOf(req), req.body.userIds),
  );
}
