// The WebSocket wire contract (GET /ws; docs/API.md, docs/REALTIME.md): client ops, server
// events and close codes.
//
// Client → server: one JSON object a frame, one of ClientOps, chosen by its `op`. The gateway
// compiles each op's schema once and validates a frame against its op's schema only, with the
// rules HTTP bodies follow (unknown fields refused, no type coercion, well-formed Unicode,
// sizes). Every op may carry `ref`, echoed as the `ref` of an error the frame causes.
// Adding an op: its schema here (and in ClientOps), one handler in realtime/connection.ts, one test.
//
// Server → client: every frame is a JSON array of one or more ServerEvents.
import { Type, type Static } from '@sinclair/typebox';
import { Channel, ChannelPosition, Member, Message, Notification, PresenceStatus } from './objects.js';
import { ErrorCode } from './errors.js';
import { ClientMsgId, Id, IsoTime, MessageText, SeqNum, Strict, StringEnum } from './fields.js';
import { SendMessageBody } from './rest.js';
import { FileReadyChannelEvent, FileReadyUserEvent } from './files.js';

/** At most this many channels in one `resume`. */
export const MAX_RESUME_CHANNELS = 2000;
/** `ping.t`: a finite number or a short string; nothing else is echoed. */
export const PING_T_MAX_CHARS = 64;

const Ref = Type.Optional(Type.String({ maxLength: 200, description: 'echoed as the `ref` of an error this frame causes' }));

// ---- client ops ------------------------------------------------------------------------------

/** → `ack {clientMsgId, id, seq, channelId}`, then `message.created` to every member. Same fields and rules as POST /api/channels/:id/messages, but `clientMsgId` is required. */
export const SendOp = Type.Object(
  {
    op: Type.Literal('send'),
    channelId: Id,
    text: MessageText,
    clientMsgId: ClientMsgId,
    parentId: SendMessageBody.properties.parentId,
    fileIds: SendMessageBody.properties.fileIds,
    ref: Ref,
  },
  Strict,
);
/** → `typing` to the channel (throttled per user and channel). */
export const TypingOp = Type.Object({ op: Type.Literal('typing'), channelId: Id, ref: Ref }, Strict);
/** → `channel.read` to all of the user's connections. */
export const ReadOp = Type.Object({ op: Type.Literal('read'), channelId: Id, seq: SeqNum, ref: Ref }, Strict);
/** → per channel: the missed `message.created` in seq order, then `resumed`. */
export const ResumeOp = Type.Object(
  {
    op: Type.Literal('resume'),
    positions: Type.Record(Type.String(), SeqNum, {
      maxProperties: MAX_RESUME_CHANNELS,
      additionalProperties: false,
      description: '{channelId: lastSeq}',
    }),
    ref: Ref,
  },
  Strict,
);
/** → `pong {t}`. */
export const PingOp = Type.Object(
  { op: Type.Literal('ping'), t: Type.Optional(Type.Union([Type.Number(), Type.String({ maxLength: PING_T_MAX_CHARS })])), ref: Ref },
  Strict,
);
/** Marks this connection away or back online. */
export const PresenceOp = Type.Object({ op: Type.Literal('presence'), status: StringEnum(['away', 'online']), ref: Ref }, Strict);
/** → one `presence` event per member of the channel who is not offline. */
export const PresenceQueryOp = Type.Object({ op: Type.Literal('presence.query'), channelId: Id, ref: Ref }, Strict);

/** Every client op by name: the gateway compiles one validator per entry and needs one handler per entry. */
export const ClientOps = {
  send: SendOp,
  typing: TypingOp,
  read: ReadOp,
  resume: ResumeOp,
  ping: PingOp,
  presence: PresenceOp,
  'presence.query': PresenceQueryOp,
} as const;

export type OpName = keyof typeof ClientOps;
export type ClientOpOf<K extends OpName> = Static<(typeof ClientOps)[K]>;
/** Any client op (what a client may send). */
export type ClientOp = { [K in OpName]: ClientOpOf<K> }[OpName];
export type SendOp = Static<typeof SendOp>;
export type TypingOp = Static<typeof TypingOp>;
export type ReadOp = Static<typeof ReadOp>;
export type ResumeOp = Static<typeof ResumeOp>;
export type PingOp = Static<typeof PingOp>;
export type PresenceOp = Static<typeof PresenceOp>;
export type PresenceQueryOp = Static<typeof PresenceQueryOp>;

// ---- server events ---------------------------------------------------------------------------

const ev = Type.Literal;
const ReactionFields = { channelId: Id, messageId: Id, emoji: Type.String(), userId: Id };

/** Published to a channel's topic; delivered to every connection subscribed to the channel. */
export const ChannelEvent = Type.Union([
  Type.Object({ type: ev('message.created'), channelId: Id, seq: SeqNum, message: Message }, Strict),
  Type.Object({ type: ev('message.updated'), channelId: Id, seq: SeqNum, message: Message }, Strict),
  Type.Object({ type: ev('message.deleted'), channelId: Id, seq: SeqNum, id: Id, deletedAt: IsoTime }, Strict),
  Type.Object({ type: ev('reaction.added'), ...ReactionFields }, Strict),
  Type.Object({ type: ev('reaction.removed'), ...ReactionFields }, Strict),
  Type.Object({ type: ev('typing'), channelId: Id, userId: Id, expiresInMs: Type.Integer() }, Strict),
  Type.Object({ type: ev('channel.updated'), channelId: Id, channel: Channel }, Strict),
  Type.Object({ type: ev('member.joined'), channelId: Id, userId: Id, member: Member }, Strict),
  Type.Object({ type: ev('member.left'), channelId: Id, userId: Id }, Strict),
  FileReadyChannelEvent,
]);
export type ChannelEvent = Static<typeof ChannelEvent>;

/** Published to a user's topic; delivered to every connection of that user. */
export const UserEvent = Type.Union([
  Type.Object({ type: ev('channel.read'), channelId: Id, seq: SeqNum }, Strict),
  Type.Object({ type: ev('notification'), notification: Notification }, Strict),
  Type.Object({ type: ev('presence'), userId: Id, status: PresenceStatus }, Strict),
  /** Tells every connection of the user to (un)subscribe a channel: join, leave, added, removed, new DM. */
  Type.Object({ type: ev('subscription'), channelId: Id, subscribed: Type.Boolean(), lastSeq: SeqNum }, Strict),
  FileReadyUserEvent,
]);
export type UserEvent = Static<typeof UserEvent>;

/** Sent to one connection only. */
export const ConnectionEvent = Type.Union([
  Type.Object(
    { type: ev('hello'), userId: Id, connectionId: Type.String(), channels: Type.Array(ChannelPosition), heartbeatMs: Type.Integer() },
    Strict,
  ),
  Type.Object({ type: ev('ack'), clientMsgId: Type.String(), id: Id, seq: SeqNum, channelId: Id }, Strict),
  /** `ref`: the frame's `ref`, else its clientMsgId, else its channelId, else its op (for resume entries: the channel id). */
  Type.Object({ type: ev('error'), code: ErrorCode, message: Type.String(), ref: Type.Optional(Type.String()) }, Strict),
  /**
   * Ends one channel's replay. `limited:true` when the op's message or byte budget ran out first:
   * resume again from `cursor` (the last seq delivered for that channel, or the position sent when
   * the budget ran out before the channel's turn).
   */
  Type.Object({ type: ev('resumed'), channelId: Type.String(), limited: Type.Boolean(), cursor: Type.Optional(SeqNum) }, Strict),
  /** Echoes the ping's `t`. */
  Type.Object({ type: ev('pong'), t: PingOp.properties.t }, Strict),
]);
export type ConnectionEvent = Static<typeof ConnectionEvent>;

export const ServerEvent = Type.Union([...ChannelEvent.anyOf, ...UserEvent.anyOf, ...ConnectionEvent.anyOf]);
export type ServerEvent = ChannelEvent | UserEvent | ConnectionEvent;
export type ServerEventType = ServerEvent['type'];
/** The event of one type, e.g. EventOf<'message.created'>. */
export type EventOf<T extends ServerEventType> = Extract<ServerEvent, { type: T }>;

/** WebSocket close codes ɳChat uses (4000–4999 are application codes). */
export const CloseCodes = {
  /** Server restarting (SIGTERM); reason carries a JSON retry hint {retryInMs}. */
  SERVICE_RESTART: 1012,
  /** Abuse: frame flood past the rate limit, or repeated invalid frames. */
  POLICY_VIOLATION: 1008,
  /** Frame larger than maxPayload (ws closes with this itself). */
  MESSAGE_TOO_BIG: 1009,
  /** Slow consumer: send buffer passed its bound. Reconnect and op:"resume". */
  RESUME: 4008,
  /** Access token expired while connected. Refresh and reconnect. */
  TOKEN_EXPIRED: 4001,
  /** The session was signed out or revoked (refresh-token reuse, account deactivated). Sign in again. */
  SESSION_REVOKED: 4003,
  /** Internal error: setup failed, or an event for this connection could not be serialized. Reconnect with backoff. */
  INTERNAL_ERROR: 1011,
  /** Try again later: the connection could not be set up because the database is unavailable. Reconnect with backoff. */
  TRY_AGAIN_LATER: 1013,
} as const;
export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes];
