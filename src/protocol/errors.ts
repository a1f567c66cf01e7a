// The one error table: every code the server sends, over HTTP (`{"error":{code,message}}` with
// the status below) and over WebSocket (`{type:"error", code, message, ref}`). The HTTP status
// comes from the code, never from the throw site.
import { Type, type Static } from '@sinclair/typebox';
import { Strict, StringEnum } from './fields.js';

export const errorStatus = {
  BAD_REQUEST: 400,
  /** Schema: unknown field, wrong type, pattern, range (HTTP body/query/params, WebSocket op). */
  VALIDATION_FAILED: 400,
  /** Malformed JSON (or __proto__ / constructor.prototype); over WebSocket also a binary frame. */
  INVALID_JSON: 400,
  INVALID_UNICODE: 400,
  TEXT_TOO_LONG: 400,
  /** WebSocket: a frame whose `op` names no client op. */
  UNKNOWN_OP: 400,
  NOT_A_MEMBER: 403,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_INVALID: 401,
  REFRESH_REUSED: 401,
  FORBIDDEN: 403,
  /** Sign-in, refresh or an access token of an account a workspace admin deactivated. */
  ACCOUNT_DEACTIVATED: 403,
  /** Sign-up in invite mode (NCHAT_SIGNUP_MODE=invite) without an invite, after the first account. */
  INVITE_REQUIRED: 403,
  /** The invite is unknown, expired or used up. */
  INVITE_INVALID: 403,
  NOT_FOUND: 404,
  /** A thumbnail that is still being made (see protocol/files.ts); retry after `file.ready`. */
  NOT_READY: 404,
  CONFLICT: 409,
  USERNAME_TAKEN: 409,
  EMAIL_TAKEN: 409,
  CHANNEL_NAME_TAKEN: 409,
  CHANNEL_ARCHIVED: 409,
  /** WebSocket: a resume or presence.query is still running on this connection (one at a time). */
  OP_IN_PROGRESS: 409,
  /** A per-object cap is reached (reactions per user on a message, distinct emoji per message). */
  LIMIT_REACHED: 409,
  PAYLOAD_TOO_LARGE: 413,
  /** An upload would take the user past NCHAT_UPLOAD_QUOTA_BYTES. */
  QUOTA_EXCEEDED: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** A Range header that selects no byte of the file. */
  RANGE_NOT_SATISFIABLE: 416,
  RATE_LIMITED: 429,
  /** WebSocket upgrade: the user already has NCHAT_WS_MAX_SOCKETS_PER_USER sockets open on this node. */
  TOO_MANY_CONNECTIONS: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;
export const ERROR_CODES = Object.keys(errorStatus) as ErrorCode[];
export const ErrorCode = StringEnum(ERROR_CODES as readonly ErrorCode[]);

/** The body of every HTTP error reply. */
export const ErrorBody = Type.Object(
  { error: Type.Object({ code: ErrorCode, message: Type.String(), details: Type.Optional(Type.Unknown()) }, Strict) },
  { ...Strict, description: 'an error; the HTTP status comes from the code' },
);
export type ErrorBody = Static<typeof ErrorBody>;
