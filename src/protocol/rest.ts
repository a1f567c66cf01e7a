// REST request and reply schemas: the one wire contract that validates input at the edge
// (fastify + Ajv), serializes replies (fast-json-stringify), generates /api/openapi.json, and
// types the web client and the load tests. Every object schema forbids unknown fields; strings
// have explicit byte/char limits.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ChannelListItem, Member, Message, Notification, PublicUser, Role, User } from './objects.js';
import { ErrorBody } from './errors.js';
import {
  ChannelName,
  ChannelText,
  ClientMsgId,
  DisplayName,
  Email,
  Emoji,
  Id,
  IsoTime,
  MessageText,
  Password,
  SAFE_TEXT,
  SeqNum,
  Nullable,
  Strict,
  StringEnum,
  Username,
} from './fields.js';
import { PAGE_LIMITS, type PagedRead } from './paging.js';

/** A page size: bounds and default from the one page table (paging.ts), which the stores enforce too. */
const Limit = (read: PagedRead) => Type.Integer({ minimum: 1, maximum: PAGE_LIMITS[read].max, default: PAGE_LIMITS[read].default });

/** Free text that reaches a database query as a value: anything but NUL, which PostgreSQL text cannot hold. */
const NO_NUL = '^[^\\u0000]*$';

/** An invite token from POST /api/admin/invites (base64url). */
export const InviteToken = Type.String({ minLength: 20, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' });
export const SignupBody = Type.Object(
  { email: Email, username: Username, password: Password, displayName: Type.Optional(DisplayName), invite: Type.Optional(InviteToken) },
  Strict,
);
export const SigninBody = Type.Object(
  // login: no NUL (PostgreSQL text cannot hold one; it was a 500 there). Passwords are only hashed.
  { login: Type.String({ minLength: 1, maxLength: 254, pattern: NO_NUL }), password: Type.String({ minLength: 1, maxLength: 256 }) },
  Strict,
);
export const RefreshBody = Type.Object({ refreshToken: Type.String({ minLength: 10, maxLength: 200 }) }, Strict);
export const BulkUsersBody = Type.Object(
  {
    users: Type.Array(
      Type.Object({ email: Email, username: Username, password: Password, displayName: Type.Optional(DisplayName) }, Strict),
      { minItems: 1, maxItems: 1000 },
    ),
  },
  Strict,
);

export const PatchMeBody = Type.Object(
  {
    displayName: Type.Optional(DisplayName),
    status: Type.Optional(Type.Union([Type.String({ maxLength: 100, pattern: SAFE_TEXT }), Type.Null()])),
    avatarFileId: Type.Optional(Type.Union([Id, Type.Null()])),
  },
  { ...Strict, minProperties: 1 },
);
export const RoleBody = Type.Object({ role: Role }, Strict);
/** PATCH /api/admin/users/:id: a role, and/or deactivated (true ends every session at once and refuses sign-in). */
export const AdminUserBody = Type.Object(
  { role: Type.Optional(RoleBody.properties.role), deactivated: Type.Optional(Type.Boolean()) },
  { ...Strict, minProperties: 1 },
);
/** POST /api/admin/invites. Defaults: one use, valid 7 days. */
export const CreateInviteBody = Type.Object(
  {
    maxUses: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 1 })),
    expiresInSec: Type.Optional(Type.Integer({ minimum: 60, maximum: 30 * 86400, default: 7 * 86400 })),
  },
  Strict,
);
export const UsersQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 64, pattern: SAFE_TEXT })),
    limit: Type.Optional(Limit('users')),
    after: Type.Optional(Type.String({ maxLength: 64, pattern: NO_NUL })),
  },
  Strict,
);

export const ChannelsQuery = Type.Object(
  {
    browse: Type.Optional(Type.Literal('public')),
    limit: Type.Optional(Limit('publicChannels')),
    after: Type.Optional(Type.String({ maxLength: 80, pattern: NO_NUL })),
  },
  Strict,
);
export const CreateChannelBody = Type.Object(
  {
    name: ChannelName,
    type: Type.Union([Type.Literal('public'), Type.Literal('private')]),
    description: Type.Optional(ChannelText),
    topic: Type.Optional(ChannelText),
  },
  Strict,
);
export const PatchChannelBody = Type.Object(
  { name: Type.Optional(ChannelName), description: Type.Optional(ChannelText), topic: Type.Optional(ChannelText) },
  { ...Strict, minProperties: 1 },
);
export const AddMembersBody = Type.Object({ userIds: Type.Array(Id, { minItems: 1, maxItems: 1000, uniqueItems: true }) }, Strict);
export const MembersQuery = Type.Object({ limit: Type.Optional(Limit('members')), after: Type.Optional(Id) }, Strict);
export const MemberRoleBody = Type.Object({ role: Type.Union([Type.Literal('admin'), Type.Literal('member')]) }, Strict);
export const DmBody = Type.Object({ userIds: Type.Array(Id, { minItems: 1, maxItems: 8, uniqueItems: true }) }, Strict);

export const SendMessageBody = Type.Object(
  {
    text: MessageText,
    clientMsgId: Type.Optional(ClientMsgId),
    parentId: Type.Optional(Id),
    fileIds: Type.Optional(Type.Array(Id, { maxItems: 10, uniqueItems: true })),
  },
  Strict,
);
export const HistoryQuery = Type.Object(
  { before: Type.Optional(SeqNum), after: Type.Optional(SeqNum), limit: Type.Optional(Limit('history')) },
  Strict,
);
export const ThreadQuery = Type.Object({ after: Type.Optional(SeqNum), limit: Type.Optional(Limit('thread')) }, Strict);
export const EditMessageBody = Type.Object({ text: MessageText }, Strict);
export const ReadBody = Type.Object({ seq: SeqNum }, Strict);

export const NotificationsQuery = Type.Object(
  { unread: Type.Optional(Type.Boolean()), limit: Type.Optional(Limit('notifications')), cursor: Type.Optional(Id) },
  Strict,
);
export const NotificationsReadBody = Type.Union([
  Type.Object({ ids: Type.Array(Id, { minItems: 1, maxItems: 500, uniqueItems: true }) }, Strict),
  Type.Object({ all: Type.Literal(true) }, Strict),
]);

export const IdParams = Type.Object({ id: Id }, Strict);
export const ReactionParams = Type.Object({ id: Id, emoji: Emoji }, Strict);
export const MemberParams = Type.Object({ id: Id, userId: Id }, Strict);

/** The body of every error reply (see protocol/errors.ts for the codes). */
export const ErrorResponse = ErrorBody;

// ---- replies ---------------------------------------------------------------------------------
// Each route declares these as its `schema.response`: the OpenAPI document shows them and
// fastify writes replies with serializers compiled from them. A serializer writes exactly the
// listed fields (others are dropped), so every field that can be absent is Optional and every
// field that can be null is Nullable.

export const HealthReply = Type.Object(
  {
    status: StringEnum(['ok', 'draining', 'unavailable'], {
      description:
        'draining (with 503) while the server shuts down; unavailable (with 503) while a trivial store ping fails or takes over 1 s (checked at most once a second)',
    }),
    version: Type.String(),
    store: StringEnum(['sqlite', 'postgres']),
    broker: StringEnum(['memory', 'redis']),
  },
  Strict,
);
/** Sign-up, sign-in: the account and the tokens of the new session. */
export const SessionReply = Type.Object({ user: User, accessToken: Type.String(), refreshToken: Type.String() }, Strict);
export const TokensReply = Type.Object({ accessToken: Type.String(), refreshToken: Type.String() }, Strict);
export const BulkUsersReply = Type.Object(
  { users: Type.Array(Type.Object({ user: PublicUser, accessToken: Type.String(), refreshToken: Type.String() }, Strict)) },
  Strict,
);
export const InviteReply = Type.Object(
  { id: Id, token: Type.String({ description: 'shown once; only its SHA-256 is stored' }), expiresAt: IsoTime, maxUses: Type.Integer() },
  Strict,
);
export const UsersReply = Type.Object({ users: Type.Array(PublicUser) }, Strict);
export const ChannelsReply = Type.Object({ channels: Type.Array(ChannelListItem) }, Strict);
export const MembersReply = Type.Object({ members: Type.Array(Member) }, Strict);
export const AddMembersReply = Type.Object({ added: Type.Array(Id, { description: 'the users who were not members before' }) }, Strict);
export const ReadReply = Type.Object({ readSeq: SeqNum }, Strict);
export const MessagesReply = Type.Object({ messages: Type.Array(Message) }, Strict);
export const ThreadReply = Type.Object({ root: Message, replies: Type.Array(Message) }, Strict);
export const NotificationsReply = Type.Object(
  { notifications: Type.Array(Notification), nextCursor: Nullable(Type.String({ description: 'opaque; null when there is no more' })) },
  Strict,
);
export const NotificationsReadReply = Type.Object({ updated: Type.Integer() }, Strict);
/** 204: no body. */
export const NoContent = Type.Null({ description: 'no content' });

export type SignupBody = Static<typeof SignupBody>;
export type SigninBody = Static<typeof SigninBody>;
export type BulkUsersBody = Static<typeof BulkUsersBody>;
export type AdminUserBody = Static<typeof AdminUserBody>;
export type CreateInviteBody = Static<typeof CreateInviteBody>;
export type PatchMeBody = Static<typeof PatchMeBody>;
export type UsersQuery = Static<typeof UsersQuery>;
export type ChannelsQuery = Static<typeof ChannelsQuery>;
export type CreateChannelBody = Static<typeof CreateChannelBody>;
export type PatchChannelBody = Static<typeof PatchChannelBody>;
export type SendMessageBody = Static<typeof SendMessageBody>;
export type HistoryQuery = Static<typeof HistoryQuery>;
export type NotificationsQuery = Static<typeof NotificationsQuery>;
export type NotificationsReadBody = Static<typeof NotificationsReadBody>;
export type RefreshBody = Static<typeof RefreshBody>;
export type RoleBody = Static<typeof RoleBody>;
export type AddMembersBody = Static<typeof AddMembersBody>;
export type MembersQuery = Static<typeof MembersQuery>;
export type MemberRoleBody = Static<typeof MemberRoleBody>;
export type DmBody = Static<typeof DmBody>;
export type ThreadQuery = Static<typeof ThreadQuery>;
export type EditMessageBody = Static<typeof EditMessageBody>;
export type ReadBody = Static<typeof ReadBody>;
export type IdParams = Static<typeof IdParams>;
export type ReactionParams = Static<typeof ReactionParams>;
export type MemberParams = Static<typeof MemberParams>;

export type HealthReply = Static<typeof HealthReply>;
export type SessionReply = Static<typeof SessionReply>;
export type TokensReply = Static<typeof TokensReply>;
export type BulkUsersReply = Static<typeof BulkUsersReply>;
export type InviteReply = Static<typeof InviteReply>;
export type UsersReply = Static<typeof UsersReply>;
export type ChannelsReply = Static<typeof ChannelsReply>;
export type MembersReply = Static<typeof MembersReply>;
export type AddMembersReply = Static<typeof AddMembersReply>;
export type ReadReply = Static<typeof ReadReply>;
export type MessagesReply = Static<typeof MessagesReply>;
export type ThreadReply = Static<typeof ThreadReply>;
export type NotificationsReply = Static<typeof NotificationsReply>;
export type NotificationsReadReply = Static<typeof NotificationsReadReply>;
export type ErrorResponse = Static<typeof ErrorResponse>;
export type { TSchema };
