// Channels, DMs and membership. Every change publishes after commit: channel events to ch:<id>,
// and a `subscription` event to u:<userId> so that user's sockets on every node follow at once.
//
// Visibility rule (the one place it lives): a private, direct or group channel does not exist for
// a non-member (404, never 403, so ids cannot be probed); a public channel is visible to every
// non-guest account; guests see only channels they were added to.
import { AppError, notFound } from '../errors.js';
import { channelTopic, userTopic } from '../broker/broker.js';
import { newId } from '../ids.js';
import type { Channel, ChannelForMember, Member, MemberRole } from '../store/types.js';
import type { CreateChannelBody, PatchChannelBody } from '../../protocol/rest.js';
import { type Actor, type ServiceDeps, isWorkspaceAdmin } from './context.js';
import { FixedWindowLimiter, unlimited, type RateLimiter } from '../lib/rate-limit.js';

/** Window of config.channelCreateLimit. */
export const CREATE_WINDOW_MS = 60 * 60 * 1000;

export const isDm = (c: Pick<Channel, 'type'>) => c.type === 'direct' || c.type === 'group';

/** ChannelService.knownType's bound (about 100 bytes an entry). */
const KNOWN_TYPES_MAX = 100_000;

/** Writing to a channel needs membership: NOT_A_MEMBER for a visible channel the actor has not joined. */
export function requireJoined(channel: Channel, member: Member | undefined): Member {
  if (!member) throw new AppError('NOT_A_MEMBER', `join #${channel.name} first`);
  return member;
}

export class ChannelService {
  /**
   * Channels one user may create per hour (workspace owners/admins exempt). In memory by
   * default; main.ts swaps in the Redis-backed limiter when Redis is configured.
   */
  createLimiter: RateLimiter;

  constructor(private readonly deps: ServiceDeps) {
    const c = deps.config;
    this.createLimiter = c.loadtestAllowance
      ? unlimited
      : new FixedWindowLimiter(c.channelCreateLimit, CREATE_WINDOW_MS, 'too many channels created');
  }

  private get store() {
    return this.deps.store;
  }

  /**
   * Types of the channels this node has read, for MessageService.send's checked path. A channel's
   * type never changes and channels are never deleted, so an entry never goes stale; an entry says
   * nothing about who may see or write the channel. Bounded: cleared when full.
   */
  private readonly types = new Map<string, Channel['type']>();

  /** The channel's type if this node has read the channel before, else undefined. */
  knownType(channelId: string): Channel['type'] | undefined {
    return this.types.get(channelId);
  }

  /** The channel if the actor may see it, with the actor's membership (if any). */
  async visible(actor: Actor, channelId: string): Promise<{ channel: Channel; member: Member | undefined }> {
    const found = await this.store.channels.getWithMember(channelId, actor.userId);
    if (!found) throw notFound('channel');
    const { channel, member } = found;
    if (!this.types.has(channel.id)) {
      if (this.types.size >= KNOWN_TYPES_MAX) this.types.clear();
      this.types.set(channel.id, channel.type);
    }
    if (!member && (channel.type !== 'public' || actor.role === 'guest')) throw notFound('channel');
    return { channel, member };
  }

  /** The channel and the actor's membership; membership is required to write or to read a non-public channel. */
  async requireMembership(actor: Actor, channelId: string): Promise<{ channel: Channel; member: Member }> {
    const { channel, member } = await this.visible(actor, channelId);
    return { channel, member: requireJoined(channel, member) };
  }

  private canAdminister(actor: Actor, member: Member | undefined): boolean {
    return isWorkspaceAdmin(actor) || member?.role === 'owner' || member?.role === 'admin';
  }

  list(actor: Actor): Promise<ChannelForMember[]> {
    return this.store.channels.listForUser(actor.userId);
  }

  async browsePublic(actor: Actor, limit: number, after?: string): Promise<Channel[]> {
    if (actor.role === 'guest') throw new AppError('FORBIDDEN', 'guests cannot browse channels');
    return this.store.channels.listPublic(limit, after);
  }

  positions(actor: Actor) {
    return this.store.channels.positionsForUser(actor.userId);
  }

  async create(actor: Actor, body: CreateChannelBody): Promise<Channel> {
    if (actor.role === 'guest') throw new AppError('FORBIDDEN', 'guests cannot create channels');
    if (!isWorkspaceAdmin(actor)) await this.createLimiter.hit(actor.userId);
    const channel = await this.store.channels.create({
      id: newId(),
      type: body.type,
      name: body.name.toLowerCase(),
      description: body.description ?? '',
      topic: body.topic ?? '',
      createdBy: actor.userId,
      createdAt: this.deps.now().toISOString(),
    });
    this.subscribed(actor.userId, channel, true);
    return channel;
  }

  async update(actor: Actor, channelId: string, patch: PatchChannelBody): Promise<Channel> {
    const { channel, member } = await this.visible(actor, channelId);
    if (isDm(channel)) throw new AppError('BAD_REQUEST', 'direct messages have no name or topic');
    if (channel.archivedAt) throw new AppError('CHANNEL_ARCHIVED', 'channel is archived');
    if (!this.canAdminister(actor, member)) throw new AppError('FORBIDDEN', 'only channel admins can change the channel');
    const updated = await this.store.channels.update(channelId, { ...patch, name: patch.name?.toLowerCase() });
    if (!updated) throw notFound('channel');
    this.deps.broker.publish(channelTopic(channelId), { type: 'channel.updated', channelId, channel: updated });
    return updated;
  }

  async archive(actor: Actor, channelId: string): Promise<Channel> {
    const { channel, member } = await this.visible(actor, channelId);
    if (isDm(channel)) throw new AppError('BAD_REQUEST', 'direct messages cannot be archived');
    if (!(isWorkspaceAdmin(actor) || member?.role === 'owner'))
      throw new AppError('FORBIDDEN', 'only the channel owner or a workspace admin can archive');
    const archived = channel.archivedAt ? channel : await this.store.channels.archive(channelId, this.deps.now().toISOString());
    if (!archived) throw notFound('channel');
    this.deps.broker.publish(channelTopic(channelId), { type: 'channel.updated', channelId, channel: archived });
    return archived;
  }

  async join(actor: Actor, channelId: string): Promise<Member> {
    const { channel, member } = await this.visible(actor, channelId);
    if (member) return member;
    if (channel.type !== 'public') throw notFound('channel');
    if (channel.archivedAt) throw new AppError('CHANNEL_ARCHIVED', 'channel is archived');
    await this.addAndAnnounce(channel, [actor.userId]);
    return (await this.store.channels.getMember(channelId, actor.userId))!;
  }

  async leave(actor: Actor, channelId: string): Promise<void> {
    const { channel, member } = await this.visible(actor, channelId);
    if (!member) return;
    if (channel.type === 'direct') throw new AppError('BAD_REQUEST', 'a direct message cannot be left');
    if (await this.store.channels.removeMember(channelId, actor.userId)) this.announceRemoval(channel, actor.userId);
  }

  async addMembers(actor: Actor, channelId: string, userIds: string[]): Promise<string[]> {
    const { channel, member } = await this.visible(actor, channelId);
    if (!member) throw new AppError('NOT_A_MEMBER', 'only members can add people');
    if (actor.role === 'guest') throw new AppError('FORBIDDEN', 'guests cannot add members');
    if (isDm(channel)) throw new AppError('BAD_REQUEST', 'start a new group message to add people');
    if (channel.archivedAt) throw new AppError('CHANNEL_ARCHIVED', 'channel is archived');
    const users = await this.store.users.getMany(userIds);
    if (users.length !== new Set(userIds).size) throw new AppError('VALIDATION_FAILED', 'unknown user id in userIds');
    return this.addAndAnnounce(channel, userIds);
  }

  async removeMember(actor: Actor, channelId: string, userId: string): Promise<void> {
    if (userId === actor.userId) return this.leave(actor, channelId);
    const { channel, member } = await this.visible(actor, channelId);
    if (isDm(channel)) throw new AppError('BAD_REQUEST', 'people cannot be removed from direct messages');
    if (!this.canAdminister(actor, member)) throw new AppError('FORBIDDEN', 'only channel admins can remove members');
    // Like their role, the owner's membership is not the admins' to take (they may leave themselves).
    const target = await this.store.channels.getMember(channelId, userId);
    if (target?.role === 'owner') throw new AppError('FORBIDDEN', 'the channel owner cannot be removed');
    if (await this.store.channels.removeMember(channelId, userId)) this.announceRemoval(channel, userId);
  }

  async setMemberRole(actor: Actor, channelId: string, userId: string, role: MemberRole): Promise<void> {
    const { channel, member } = await this.visible(actor, channelId);
    if (isDm(channel)) throw new AppError('BAD_REQUEST', 'direct messages have no channel admins');
    if (!this.canAdminister(actor, member)) throw new AppError('FORBIDDEN', 'only channel admins can change roles');
    const target = await this.store.channels.getMember(channelId, userId);
    if (!target) throw notFound('member');
    if (target.role === 'owner') throw new AppError('FORBIDDEN', "the channel owner's role cannot be changed");
    await this.store.channels.setMemberRole(channelId, userId, role);
  }

  async members(actor: Actor, channelId: string, limit: number, after?: string): Promise<Member[]> {
    await this.visible(actor, channelId);
    return this.store.channels.listMembers(channelId, limit, after);
  }

  /** The same channel for the same set of people, whoever asks and in whatever order. */
  async openDm(actor: Actor, userIds: string[]): Promise<Channel> {
    if (actor.role === 'guest') throw new AppError('FORBIDDEN', 'guests cannot start direct messages');
    const ids = [...new Set([actor.userId, ...userIds])].sort();
    if (ids.length > 9) throw new AppError('VALIDATION_FAILED', 'a group message has at most 9 people');
    const users = await this.store.users.getMany(ids);
    if (users.length !== ids.length) throw new AppError('VALIDATION_FAILED', 'unknown user id in userIds');
    const { channel, created } = await this.store.channels.getOrCreateDm(ids, actor.userId, newId(), this.deps.now().toISOString());
    if (created) for (const id of ids) this.subscribed(id, channel, true);
    return channel;
  }

  async markRead(actor: Actor, channelId: string, seq: number): Promise<number> {
    const readSeq = await this.store.channels.markRead(channelId, actor.userId, seq);
    if (readSeq === undefined) throw notFound('channel');
    this.deps.broker.publish(userTopic(actor.userId), { type: 'channel.read', channelId, seq: readSeq });
    return readSeq;
  }

  private async addAndAnnounce(channel: Channel, userIds: string[]): Promise<string[]> {
    const at = this.deps.now().toISOString();
    const added = await this.store.channels.addMembers(
      channel.id,
      userIds.map((userId) => ({ userId, role: 'member' as const })),
      at,
    );
    for (const userId of added) {
      this.subscribed(userId, channel, true);
      const member: Member = { channelId: channel.id, userId, role: 'member', joinedAt: at, readSeq: 0 };
      this.deps.broker.publish(channelTopic(channel.id), { type: 'member.joined', channelId: channel.id, userId, member });
    }
    return added;
  }

  private announceRemoval(channel: Channel, userId: string): void {
    // member.left goes out before the unsubscribe so the leaver's own clients see it too.
    this.deps.broker.publish(channelTopic(channel.id), { type: 'member.left', channelId: channel.id, userId });
    this.subscribed(userId, channel, false);
  }

  private subscribed(userId: string, channel: Channel, subscribed: boolean): void {
    this.deps.broker.publish(userTopic(userId), { type: 'subscription', channelId: channel.id, subscribed, lastSeq: channel.lastSeq });
  }
}
