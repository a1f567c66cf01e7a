// Field schemas every other protocol module builds on: ids, names, text, sequence numbers, times.
// Plain TypeBox (JSON Schema) only — no Node APIs — so the web client can import this module.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Every object on the wire is exact: unknown fields are refused on input and never sent. */
export const Strict = { additionalProperties: false } as const;

/** No C0/C1 control characters and no bidi overrides/isolates or zero-width tricks in names. */
export const SAFE_TEXT = '^[^\\p{Cc}\\u202A-\\u202E\\u2066-\\u2069\\u200B-\\u200F\\u2028\\u2029\\uFEFF]*$';

/**
 * `T` or null. Written as OpenAPI 3.0's `nullable: true` (which Ajv and fast-json-stringify both
 * understand) rather than `anyOf [T, null]`: one type check instead of a schema per branch.
 * Without it fast-json-stringify would write null as "" or 0.
 */
export const Nullable = <T extends TSchema>(schema: T) =>
  Type.Unsafe<Static<T> | null>({ ...(JSON.parse(JSON.stringify(schema)) as object), nullable: true });

/** A string enum as one `enum` keyword (one check, readable in OpenAPI) typed as the union of its values. */
export const StringEnum = <const T extends readonly string[]>(values: T, options: { description?: string } = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

export const Id = Type.String({ pattern: '^[0-9a-z]{22}$', description: 'an ɳChat id' });
/** ISO-8601 UTC time, as every object carries it. */
export const IsoTime = Type.String({ format: 'date-time' });
export const Username = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{1,31}$',
  description: '2–32 chars: letters, digits, . _ - ; stored lower-case',
});
export const Email = Type.String({ format: 'email', maxLength: 254 });
export const Password = Type.String({ minLength: 8, maxLength: 256 });
export const DisplayName = Type.String({ minLength: 1, maxLength: 64, pattern: SAFE_TEXT });
export const ChannelName = Type.String({
  pattern: '^[\\p{L}\\p{N}][\\p{L}\\p{N}._-]{0,79}$',
  description: '1–80 chars, letters/digits/._-, starts with a letter or digit',
});
export const ChannelText = Type.String({ maxLength: 1000, pattern: SAFE_TEXT });
export const Emoji = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[a-z0-9_+-]+$|^\\p{Extended_Pictographic}[\\p{Extended_Pictographic}\\u200D\\uFE0F\\p{M}]{0,15}$',
  description: 'a shortcode (thumbsup) or one emoji',
});
/** Message text: 16 KiB in UTF-8 bytes is checked in the service (JSON Schema counts code points). */
export const MessageText = Type.String({ maxLength: 16384 });
/** A per-channel sequence number (messages start at 1; 0 means "nothing yet"). */
export const SeqNum = Type.Integer({ minimum: 0, maximum: 2 ** 52 });

/**
 * The idempotency key of a send, chosen by the client: the one rule for REST, WebSocket and the
 * message service (which checks it for callers that bypass the edge schemas).
 */
export const CLIENT_MSG_ID_PATTERN = '^[A-Za-z0-9._:-]{1,64}$';
export const ClientMsgId = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: CLIENT_MSG_ID_PATTERN,
  description: '1–64 chars of A-Z a-z 0-9 . _ : -',
});
const clientMsgIdRe = new RegExp(CLIENT_MSG_ID_PATTERN);
export const isClientMsgId = (s: string): boolean => clientMsgIdRe.test(s);
export const CLIENT_MSG_ID_RULE = 'clientMsgId must be 1–64 chars of A-Z a-z 0-9 . _ : -';
