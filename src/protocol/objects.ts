// The objects on the wire (REST replies and WebSocket events): user, channel, member, message,
// reaction, notification. The stores map their rows to these types, so a change here reaches the
// stores, the services, the routes, the gateway and the load tests at once.
// Times are ISO-8601 UTC strings; ids are strings.
import { Type, type Static } from '@sinclair/typebox';
import { Id, IsoTime, Nullable, SeqNum, Strict, StringEnum } from './fields.js';
import { FileObject } from './files.js';

export const ROLES = ['owner', 'admin', 'moderator', 'member', 'guest'] as const;
export const Role = StringEnum(ROLES, { description: 'workspace role' });
export type Role = Static<typeof Role>;

export const User = Type.Object(
  {
    id: Id,
    username: Type.String({ description: 'lower-case, unique, [a-z0-9._-], 2–32 chars' }),
    email: Type.String({ description: 'lower-case, unique; only for the user themselves and workspace admins' }),
    displayName: Type.String(),
    role: Role,
    status: Nullable(Type.String({ description: 'free-text status ("in a meeting"), null when unset' })),
    avatarFileId: Nullable(Type.String()),
    createdAt: IsoTime,
    deactivatedAt: Nullable(IsoTime),
  },
  { ...Strict, description: 'an account as the user themselves and workspace admins see it' },
);
export type User = Static<typeof User>;

/** A user as anyone may see it: `email` only for the user themselves and workspace admins. */
export const PublicUser = Type.Object(
  { ...User.properties, email: Type.Optional(User.properties.email) },
  { ...Strict, description: 'a profile; email only for the user and workspace admins' },
);
export type PublicUser = Static<typeof PublicUser>;

export const CHANNEL_TYPES = ['public', 'private', 'direct', 'group'] as const;
export const ChannelType = StringEnum(CHANNEL_TYPES);
export type ChannelType = Static<typeof ChannelType>;

export const Channel = Type.Object(
  {
    id: Id,
    type: ChannelType,
    name: Nullable(Type.String({ description: 'unique (case-insensitive) among public and private channels; null for direct/group DMs' })),
    description: Type.String(),
    topic: Type.String(),
    createdBy: Id,
    createdAt: IsoTime,
    archivedAt: Nullable(IsoTime),
    lastSeq: Type.Integer({ description: 'highest seq assigned in this channel (0 when empty)' }),
    memberCount: Type.Integer(),
  },
  Strict,
);
export type Channel = Static<typeof Channel>;

export const MEMBER_ROLES = ['owner', 'admin', 'member'] as const;
export const MemberRole = StringEnum(MEMBER_ROLES, { description: 'role in the channel' });
export type MemberRole = Static<typeof MemberRole>;

/**
 * The most GET /api/channels counts of unread messages and of mentions per channel: a count stops
 * at this many, so the value UNREAD_COUNT_CAP means "that many or more" (show "99+"). A sidebar
 * read then costs at most this many rows per channel, however far behind the member is, instead
 * of one row per unread message.
 */
export const UNREAD_COUNT_CAP = 100;

/** What a channel adds for the member looking at it (GET /api/channels). */
const memberView = {
  memberRole: MemberRole,
  readSeq: Type.Integer({ description: 'highest seq the member has read' }),
  unreadCount: Type.Integer({
    minimum: 0,
    maximum: UNREAD_COUNT_CAP,
    description: `non-deleted messages after readSeq written by someone else, counted up to ${UNREAD_COUNT_CAP} (${UNREAD_COUNT_CAP} means ${UNREAD_COUNT_CAP} or more)`,
  }),
  mentionCount: Type.Integer({
    minimum: 0,
    maximum: UNREAD_COUNT_CAP,
    description: `of those, the ones that mention the member (by name, @channel or @here), counted up to ${UNREAD_COUNT_CAP} (${UNREAD_COUNT_CAP} means ${UNREAD_COUNT_CAP} or more)`,
  }),
  dmUserIds: Nullable(Type.Array(Id, { description: 'direct/group channels: every member (sorted); null otherwise' })),
};

/** A channel as one member sees it in their sidebar. */
export const ChannelForMember = Type.Object({ ...Channel.properties, ...memberView }, Strict);
export type ChannelForMember = Static<typeof ChannelForMember>;

/**
 * An item of GET /api/channels: the caller's channels carry the member view, ?browse=public
 * lists plain channels. One object schema with those fields optional (not a union), so the reply
 * serializer checks no branches.
 */
export const ChannelListItem = Type.Object(
  {
    ...Channel.properties,
    memberRole: Type.Optional(memberView.memberRole),
    readSeq: Type.Optional(memberView.readSeq),
    unreadCount: Type.Optional(memberView.unreadCount),
    mentionCount: Type.Optional(memberView.mentionCount),
    dmUserIds: Type.Optional(memberView.dmUserIds),
  },
  Strict,
);
export type ChannelListItem = Static<typeof ChannelListItem>;

export const Member = Type.Object(
  {
    channelId: Id,
    userId: Id,
    role: MemberRole,
    joinedAt: IsoTime,
    readSeq: Type.Integer({ description: 'highest seq the member has read; never decreases' }),
  },
  Strict,
);
export type Member = Static<typeof Member>;

/** The reactions of one emoji on one message. */
export const Reaction = Type.Object({ emoji: Type.String(), count: Type.Integer(), userIds: Type.Array(Id) }, Strict);
export type Reaction = Static<typeof Reaction>;
/** The store's name for it. */
export type ReactionSummary = Reaction;

export const Mentions = Type.Object({ userIds: Type.Array(Id), channel: Type.Boolean(), here: Type.Boolean() }, Strict);
export type Mentions = Static<typeof Mentions>;

export const Message = Type.Object(
  {
    id: Id,
    channelId: Id,
    seq: Type.Integer({ description: 'per channel, starts at 1, gapless; assigned in the insert transaction' }),
    authorId: Id,
    text: Type.String({ description: 'empty once deleted' }),
    createdAt: IsoTime,
    editedAt: Nullable(IsoTime),
    deletedAt: Nullable(IsoTime),
    parentId: Nullable(Id),
    replyCount: Type.Integer(),
    lastReplyAt: Nullable(IsoTime),
    reactions: Type.Array(Reaction),
    mentions: Mentions,
    files: Type.Array(FileObject, { description: 'attached files (a snapshot taken at send; empty once deleted)' }),
    clientMsgId: Nullable(Type.String()),
  },
  Strict,
);
export type Message = Static<typeof Message>;

export const NOTIFICATION_KINDS = ['mention', 'reply', 'dm'] as const;
export const NotificationKind = StringEnum(NOTIFICATION_KINDS);
export type NotificationKind = Static<typeof NotificationKind>;

export const Notification = Type.Object(
  {
    id: Id,
    userId: Id,
    kind: NotificationKind,
    channelId: Id,
    messageId: Id,
    seq: Type.Integer({ description: "the message's seq, so a client can jump to it" }),
    actorId: Id,
    createdAt: IsoTime,
    readAt: Nullable(IsoTime),
  },
  Strict,
);
export type Notification = Static<typeof Notification>;

export const PRESENCE_STATUSES = ['online', 'away', 'offline'] as const;
export const PresenceStatus = StringEnum(PRESENCE_STATUSES);
export type PresenceStatus = Static<typeof PresenceStatus>;

/** A channel and the last seq the client has (hello, subscription). */
export const ChannelPosition = Type.Object({ channelId: Id, lastSeq: SeqNum }, Strict);
export type ChannelPosition = Static<typeof ChannelPosition>;
