// REST request schemas: the one wire contract that validates input at the edge (fastify + Ajv),
// generates /api/openapi.json, and types the web client and the load tests.
// Every object schema forbids unknown fields; strings have explicit byte/char limits.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** No C0/C1 control characters and no bidi overrides/isolates or zero-width tricks in names. */
const SAFE_TEXT = '^[^\\p{Cc}\\u202A-\\u202E\\u2066-\\u2069\\u200B-\\u200F\\u2028\\u2029\\uFEFF]*$';
const Strict = { additionalProperties: false } as const;

export const Id = Type.String({ pattern: '^[0-9a-z]{22}$', description: 'an ɳChat id' });
export const Username = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{1,31}$', description: '2–32 chars: letters, digits, . _ - ; stored lower-case' });
export const Email = Type.String({ format: 'email', maxLength: 254 });
export const Password = Type.String({ minLength: 8, maxLength: 256 });
export const DisplayName = Type.String({ minLength: 1, maxLength: 64, pattern: SAFE_TEXT });
export const ChannelName = Type.String({ pattern: '^[\\p{L}\\p{N}][\\p{L}\\p{N}._-]{0,79}$', description: '1–80 chars, letters/digits/._-, starts with a letter or digit' });
export const ChannelText = Type.String({ maxLength: 1000, pattern: SAFE_TEXT });
export const ClientMsgId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' });
export const Emoji = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9_+-]+$|^\\p{Extended_Pictographic}[\\p{Extended_Pictographic}\\u200D\\uFE0F\\p{M}]{0,15}$', description: 'a shortcode (thumbsup) or one emoji' });
/** Message text: 16 KiB in UTF-8 bytes is checked in the service (JSON Schema counts code points). */
export const MessageText = Type.String({ maxLength: 16384 });
const SeqNum = Type.Integer({ minimum: 0, maximum: 2 ** 52 });
const Limit = (max: number, dflt: number) => Type.Integer({ minimum: 1, maximum: max, default: dflt });

/** An invite token from POST /api/admin/invites (base64url). */
export const InviteToken = Type.String({ minLength: 20, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' });
export const SignupBody = Type.Object({ email: Email, username: Username, password: Password, displayName: Type.Optional(DisplayName), invite: Type.Optional(InviteToken) }, Strict);
export const SigninBody = Type.Object({ login: Type.String({ minLength: 1, maxLength: 254 }), password: Type.String({ minLength: 1, maxLength: 256 }) }, Strict);
export const RefreshBody = Type.Object({ refreshToken: Type.String({ minLength: 10, maxLength: 200 }) }, Strict);
export const BulkUsersBody = Type.Object(
  { users: Type.Array(Type.Object({ email: Email, username: Username, password: Password, displayName: Type.Optional(DisplayName) }, Strict), { minItems: 1, maxItems: 1000 }) },
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
export const RoleBody = Type.Object({ role: Type.Union(['owner', 'admin', 'moderator', 'member', 'guest'].map((r) => Type.Literal(r))) }, Strict);
/** PATCH /api/admin/users/:id: a role, and/or deactivated (true ends every session at once and refuses sign-in). */
export const AdminUserBody = Type.Object(
  { role: Type.Optional(RoleBody.properties.role), deactivated: Type.Optional(Type.Boolean()) },
  { ...Strict, minProperties: 1 },
);
/** POST /api/admin/invites. Defaults: one use, valid 7 days. */
export const CreateInviteBody = Type.Object(
  { maxUses: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 1 })), expiresInSec: Type.Optional(Type.Integer({ minimum: 60, maximum: 30 * 86400, default: 7 * 86400 })) },
  Strict,
);
export const UsersQuery = Type.Object({ q: Type.Optional(Type.String({ maxLength: 64, pattern: SAFE_TEXT })), limit: Type.Optional(Limit(100, 20)), after: Type.Optional(Type.String({ maxLength: 64 })) }, Strict);

export const ChannelsQuery = Type.Object({ browse: Type.Optional(Type.Literal('public')), limit: Type.Optional(Limit(200, 100)), after: Type.Optional(Type.String({ maxLength: 80 })) }, Strict);
export const CreateChannelBody = Type.Object(
  { name: ChannelName, type: Type.Union([Type.Literal('public'), Type.Literal('private')]), description: Type.Optional(ChannelText), topic: Type.Optional(ChannelText) },
  Strict,
);
export const PatchChannelBody = Type.Object({ name: Type.Optional(ChannelName), description: Type.Optional(ChannelText), topic: Type.Optional(ChannelText) }, { ...Strict, minProperties: 1 });
export const AddMembersBody = Type.Object({ userIds: Type.Array(Id, { minItems: 1, maxItems: 1000, uniqueItems: true }) }, Strict);
export const MembersQuery = Type.Object({ limit: Type.Optional(Limit(1000, 100)), after: Type.Optional(Id) }, Strict);
export const MemberRoleBody = Type.Object({ role: Type.Union([Type.Literal('admin'), Type.Literal('member')]) }, Strict);
export const DmBody = Type.Object({ userIds: Type.Array(Id, { minItems: 1, maxItems: 8, uniqueItems: true }) }, Strict);

export const SendMessageBody = Type.Object(
  { text: MessageText, clientMsgId: Type.Optional(ClientMsgId), parentId: Type.Optional(Id), fileIds: Type.Optional(Type.Array(Id, { maxItems: 10, uniqueItems: true })) },
  Strict,
);
export const HistoryQuery = Type.Object({ before: Type.Optional(SeqNum), after: Type.Optional(SeqNum), limit: Type.Optional(Limit(200, 50)) }, Strict);
export const ThreadQuery = Type.Object({ after: Type.Optional(SeqNum), limit: Type.Optional(Limit(200, 100)) }, Strict);
export const EditMessageBody = Type.Object({ text: MessageText }, Strict);
export const ReadBody = Type.Object({ seq: SeqNum }, Strict);

export const NotificationsQuery = Type.Object(
  { unread: Type.Optional(Type.Boolean()), limit: Type.Optional(Limit(100, 50)), cursor: Type.Optional(Id) },
  Strict,
);
export const NotificationsReadBody = Type.Union([
  Type.Object({ ids: Type.Array(Id, { minItems: 1, maxItems: 500, uniqueItems: true }) }, Strict),
  Type.Object({ all: Type.Literal(true) }, Strict),
]);

export const IdParams = Type.Object({ id: Id }, Strict);
export const ReactionParams = Type.Object({ id: Id, emoji: Emoji }, Strict);
export const MemberParams = Type.Object({ id: Id, userId: Id }, Strict);

export const ErrorResponse = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) }) });

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
export type { TSchema };
