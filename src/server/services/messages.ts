// Messages: authorize → write (one store transaction) → publish after commit.
// The same `send` serves REST and WebSocket, so both validate and authorize identically.
import { AppError, notFound, SendRefused } from '../errors.js';
import { channelTopic, userTopic } from '../broker/broker.js';
import { newId } from '../ids.js';
import type { Channel, Member, Message, NewMessage } from '../store/types.js';
import { type Actor, type ServiceDeps, isModerator } from './context.js';
import type { ChannelService } from './channels.js';
import { isDm, requireJoined } from './channels.js';
import { parseMentions, type ParsedMentions } from './mentions.js';
import { HistoryPages } from './history-pages.js';
import { FixedWindowLimiter, unlimited, type RateLimiter } from '../lib/rate-limit.js';
import { assertWellFormed, checkMessageText } from '../lib/text.js';
import { CLIENT_MSG_ID_RULE, isClientMsgId } from '../../protocol/fields.js';
import { MAX_FILES_PER_MESSAGE } from '../../protocol/files.js';

export interface SendInput {
  channelId: string;
  text: string;
  clientMsgId?: string;
  parentId?: string;
  fileIds?: string[];
}

export class MessageService {
  /**
   * Per-user send limit, counted in send() so REST and WebSocket sends share one budget.
   * In memory by default (an O(1) check); main.ts replaces it with the Redis-backed limiter when
   * Redis is configured, so the budget is per user across all nodes. Off under the load-test allowance.
   */
  sendLimiter: RateLimiter;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly channels: ChannelService,
  ) {
    const c = deps.config;
    this.sendLimiter = c.loadtestAllowance ? unlimited : new FixedWindowLimiter(c.sendLimit, c.sendLimitWindowMs, 'too many messages');
  }

  private get store() {
    return this.deps.store;
  }

  async send(actor: Actor, input: SendInput): Promise<{ message: Message; created: boolean }> {
    const fileIds = input.fileIds ?? [];
    checkMessageText(input.text, fileIds.length > 0);
    if (input.clientMsgId !== undefined && !isClientMsgId(input.clientMsgId)) throw new AppError('VALIDATION_FAILED', CLIENT_MSG_ID_RULE);
    // The edge schemas say the same; callers inside the server may bypass them. Ownership and
    // "attached at most once" are checked by the store in the send transaction (services/files.ts).
    if (fileIds.length > MAX_FILES_PER_MESSAGE || new Set(fileIds).size !== fileIds.length)
      throw new AppError('VALIDATION_FAILED', `fileIds: at most ${MAX_FILES_PER_MESSAGE} distinct file ids`);
    // Before any store read, so a refused send costs nothing; a repeat (same clientMsgId) counts too.
    // The in-memory limiter answers synchronously: await only the Redis one (no extra microtask per send).
    const limited = this.sendLimiter.hit(actor.userId);
    if (limited) await limited;
    const parsed = parseMentions(input.text);

    // The checked path: no authorization read before the write. The store checks, inside the
    // write, that the channel is there and not archived and that the author is a member
    // (NewMessage.checkAuthor), so one statement does the work of two on PostgreSQL. It needs the
    // channel's type (DMs notify every member), which never changes and which this node learns
    // from any earlier read of the channel; and it is taken only for sends that need nothing else
    // of the channel: no parent (checked against the channel first), no @channel or @here (both
    // depend on the member count). The store checks the author before any file the send attaches,
    // so a non-member still hears about membership first. A refused write has written nothing; the
    // read below then gives the exact error the send would have had (or, if the author joined or
    // the channel was unarchived in between, the send goes on as usual).
    const type = input.parentId || parsed.channel || parsed.here ? undefined : this.channels.knownType(input.channelId);
    if (type !== undefined) {
      try {
        return await this.write(actor, input, fileIds, { id: input.channelId, type }, parsed, true);
      } catch (err) {
        if (!(err instanceof SendRefused)) throw err;
      }
    }

    const { channel } = await this.channels.requireMembership(actor, input.channelId);
    if (channel.archivedAt) throw new AppError('CHANNEL_ARCHIVED', 'channel is archived');
    if (input.parentId) await this.requireRoot(input.parentId, channel.id);
    return this.write(actor, input, fileIds, channel, parsed, false);
  }

  /**
   * Mentions resolved, notification recipients decided, the message written and published.
   * `channel.memberCount` is needed only for @channel and @here (the checked path has neither).
   */
  private async write(
    actor: Actor,
    input: SendInput,
    fileIds: string[],
    channel: Pick<Channel, 'id' | 'type'> & { memberCount?: number },
    parsed: ParsedMentions,
    checkAuthor: boolean,
  ): Promise<{ message: Message; created: boolean }> {
    const mentions = await this.resolveMentions(parsed, channel.id);
    const explicit = new Set(mentions.userIds);
    const small = channel.memberCount !== undefined && channel.memberCount <= this.deps.config.notifyChannelMaxMembers;
    if (mentions.here && small) {
      const members = await this.store.channels.memberIds(channel.id);
      for (const id of this.deps.presence.onlineUserIds(members)) explicit.add(id);
    }
    const input2: NewMessage = {
      id: newId(),
      channelId: channel.id,
      authorId: actor.userId,
      text: input.text,
      clientMsgId: input.clientMsgId ?? null,
      parentId: input.parentId ?? null,
      mentions,
      fileIds,
      createdAt: this.deps.now().toISOString(),
      notify: {
        mentionUserIds: [...explicit],
        allMembers: isDm(channel) ? 'dm' : mentions.channel && small ? 'mention' : null,
        threadParticipants: Boolean(input.parentId),
      },
      checkAuthor,
    };
    const result = await this.store.messages.create(input2);
    if (result.created) {
      const m = result.message;
      this.deps.broker.publish(channelTopic(m.channelId), { type: 'message.created', channelId: m.channelId, seq: m.seq, message: m });
      for (const n of result.notifications) this.deps.broker.publish(userTopic(n.userId), { type: 'notification', notification: n });
    }
    return { message: result.message, created: result.created };
  }

  private async requireRoot(parentId: string, channelId: string): Promise<void> {
    const parent = await this.store.messages.get(parentId);
    if (!parent || parent.channelId !== channelId) throw new AppError('VALIDATION_FAILED', 'parentId is not a message of this channel');
    if (parent.parentId) throw new AppError('VALIDATION_FAILED', 'replies go to the root message of a thread');
    if (parent.deletedAt) throw new AppError('VALIDATION_FAILED', 'cannot reply to a deleted message');
  }

  /** Mentioned usernames that exist and are members (a mention never reveals a channel to a non-member). */
  private async resolveMentions(parsed: ParsedMentions, channelId: string): Promise<NewMessage['mentions']> {
    if (parsed.usernames.length === 0) return { userIds: [], channel: parsed.channel, here: parsed.here };
    // One read for every name (was a user lookup, then one member lookup per user).
    const userIds = await this.store.channels.memberIdsByUsernames(channelId, parsed.usernames);
    return { userIds, channel: parsed.channel, here: parsed.here };
  }

  /** A message the actor may read, or NOT_FOUND (the same answer as for an id that does not exist). */
  async get(actor: Actor, id: string): Promise<Message> {
    return (await this.load(actor, id)).message;
  }

  /**
   * The message with its channel and the actor's membership, in two reads (message, then
   * channel + member). Anything the actor may not see is NOT_FOUND for the message.
   */
  private async load(actor: Actor, id: string): Promise<{ message: Message; channel: Channel; member: Member | undefined }> {
    const message = await this.store.messages.get(id);
    if (!message) throw notFound('message');
    try {
      return { message, ...(await this.channels.visible(actor, message.channelId)) };
    } catch (e) {
      if (e instanceof AppError && e.code === 'NOT_FOUND') throw notFound('message');
      throw e;
    }
  }

  async history(actor: Actor, channelId: string, q: { before?: number; after?: number; limit: number }): Promise<Message[]> {
    await this.channels.visible(actor, channelId);
    if (q.before !== undefined && q.after !== undefined) throw new AppError('VALIDATION_FAILED', 'use before or after, not both');
    return this.store.messages.history(channelId, q);
  }

  /** Newest pages kept serialized (history-pages.ts). */
  readonly pages = new HistoryPages();

  /**
   * The newest page (what history() gives without before/after) as the reply body `serialize`
   * makes of it, reused while the store's history version holds, with the page's ETag when the
   * store versions pages (history-pages.ts). `matches(etag)` true (the request's If-None-Match
   * names that tag) gives `notModified` and no body, without reading the page. Authorized like history(),
   * on every call; the version is read before the page (MessageStore.historyVersion).
   */
  async newestPage(
    actor: Actor,
    channelId: string,
    limit: number,
    serialize: (messages: Message[]) => string,
    matches: (etag: string) => boolean = () => false,
  ): Promise<{ notModified: true; etag: string } | { notModified: false; body: string | Buffer; etag?: string }> {
    await this.channels.visible(actor, channelId);
    const version = await this.store.messages.historyVersion(channelId);
    const load = async () => serialize(await this.store.messages.history(channelId, { limit }));
    if (version === undefined) return { notModified: false, body: await load() };
    const etag = this.pages.etag(channelId, limit, version);
    if (matches(etag)) return { notModified: true, etag };
    return { notModified: false, body: await this.pages.get(channelId, limit, version, load), etag };
  }

  async thread(actor: Actor, rootId: string, limit: number, after?: number): Promise<{ root: Message; replies: Message[] }> {
    const root = await this.get(actor, rootId);
    if (root.parentId) throw new AppError('VALIDATION_FAILED', 'not a thread root');
    return { root, replies: await this.store.messages.thread(rootId, limit, after) };
  }

  async edit(actor: Actor, id: string, text: string): Promise<Message> {
    assertWellFormed(text);
    const { message: m, channel, member } = await this.load(actor, id);
    if (m.authorId !== actor.userId) throw new AppError('FORBIDDEN', 'only the author can edit a message');
    if (m.deletedAt) throw notFound('message');
    checkMessageText(text, m.files.length > 0);
    if (channel.archivedAt) throw new AppError('CHANNEL_ARCHIVED', 'channel is archived');
    requireJoined(channel, member);
    const updated = await this.store.messages.update(
      id,
      text,
      await this.resolveMentions(parseMentions(text), channel.id),
      this.deps.now().toISOString(),
    );
    if (!updated) throw notFound('message');
    this.deps.broker.publish(channelTopic(updated.channelId), {
      type: 'message.updated',
      channelId: updated.channelId,
      seq: updated.seq,
      message: updated,
    });
    return updated;
  }

  async remove(actor: Actor, id: string): Promise<Message> {
    const { message: m, member } = await this.load(actor, id);
    if (m.deletedAt) return m;
    if (m.authorId !== actor.userId && !isModerator(actor)) {
      if (!(member && (member.role === 'owner' || member.role === 'admin')))
        throw new AppError('FORBIDDEN', 'only the author, a channel admin or a moderator can delete');
    }
    const deleted = await this.store.messages.softDelete(id, this.deps.now().toISOString());
    if (!deleted) throw notFound('message');
    this.deps.broker.publish(channelTopic(deleted.channelId), {
      type: 'message.deleted',
      channelId: deleted.channelId,
      seq: deleted.seq,
      id,
      deletedAt: deleted.deletedAt!,
    });
    return deleted;
  }

  async react(actor: Actor, id: string, emoji: string, add: boolean): Promise<Message> {
    const { message: m, channel, member } = await this.load(actor, id);
    if (m.deletedAt) throw notFound('message');
    requireJoined(channel, member);
    const changed = add
      ? await this.store.messages.addReaction(id, actor.userId, emoji, this.deps.now().toISOString(), {
          perUser: this.deps.config.reactionsPerUserLimit,
          perMessage: this.deps.config.emojiPerMessageLimit,
        })
      : await this.store.messages.removeReaction(id, actor.userId, emoji);
    if (changed) {
      this.deps.broker.publish(channelTopic(m.channelId), {
        type: add ? 'reaction.added' : 'reaction.removed',
        channelId: m.channelId,
        messageId: id,
        emoji,
        userId: actor.userId,
      });
    }
    return (await this.store.messages.get(id))!;
  }
}
