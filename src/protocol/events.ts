// Server → client events (the WebSocket wire contract, see docs/API.md).
// Every frame the server sends is a JSON array of one or more of these.
import type { Channel, Member, Message, Notification } from '../server/store/types.js';

export type ChannelEvent =
  | { type: 'message.created'; channelId: string; seq: number; message: Message }
  | { type: 'message.updated'; channelId: string; seq: number; message: Message }
  | { type: 'message.deleted'; channelId: string; seq: number; id: string; deletedAt: string }
  | { type: 'reaction.added'; channelId: string; messageId: string; emoji: string; userId: string }
  | { type: 'reaction.removed'; channelId: string; messageId: string; emoji: string; userId: string }
  | { type: 'typing'; channelId: string; userId: string; expiresInMs: number }
  | { type: 'channel.updated'; channelId: string; channel: Channel }
  | { type: 'member.joined'; channelId: string; userId: string; member: Member }
  | { type: 'member.left'; channelId: string; userId: string };

export type UserEvent =
  | { type: 'channel.read'; channelId: string; seq: number }
  | { type: 'notification'; notification: Notification }
  | { type: 'presence'; userId: string; status: 'online' | 'away' | 'offline' }
  /** Tells every connection of the user to (un)subscribe a channel: join, leave, added, removed, new DM. */
  | { type: 'subscription'; channelId: string; subscribed: boolean; lastSeq: number };

export type ConnectionEvent =
  | { type: 'hello'; userId: string; connectionId: string; channels: { channelId: string; lastSeq: number }[]; heartbeatMs: number }
  | { type: 'ack'; clientMsgId: string; id: string; seq: number; channelId: string }
  | { type: 'error'; code: string; message: string; ref?: string }
  /**
   * Ends one channel's replay. `limited:true` when the op's message or byte budget ran out first:
   * resume again from `cursor` (the last seq delivered for that channel, or the position sent when
   * the budget ran out before the channel's turn).
   */
  | { type: 'resumed'; channelId: string; limited: boolean; cursor?: number }
  /** Echoes the ping's `t`, which must be a finite number or a string of at most 64 characters. */
  | { type: 'pong'; t?: number | string };

export type ServerEvent = ChannelEvent | UserEvent | ConnectionEvent;

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
} as const;
