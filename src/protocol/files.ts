// Files on the wire (issue 11): the public file object (upload reply, message attachments), the
// upload route's form fields, and the `file.ready` event. Plain TypeBox, no server imports.
//
// Thumbnail readiness: `thumbnailUrl` is set from the upload reply on for every image that will
// get a thumbnail, and never changes. Until the thumbnail is made, GET on it answers 404 with code
// NOT_READY (and Retry-After); once made it serves the image. Clients learn it is ready from the
// `file.ready` event (to the uploader, and to the channel of the message it is attached to), or
// by retrying. Images over the pixel limit, and every non-image, have no `thumbnailUrl`.
import { Type, type Static } from '@sinclair/typebox';
import { Id, IsoTime, Strict } from './fields.js';

/** At most this many files on one message. */
export const MAX_FILES_PER_MESSAGE = 10;
/** Longest stored filename, in UTF-16 code units, after sanitizing (longer names are shortened, the extension kept). */
export const MAX_FILENAME_CHARS = 255;
/** Raster types served inline (and thumbnailed); everything else is only ever served as a download. */
export const INLINE_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif'] as const;

export const FileObject = Type.Object(
  {
    id: Id,
    name: Type.String({ description: 'sanitized filename (no path, control or bidi characters, ≤ 255 chars)' }),
    size: Type.Integer({ minimum: 0, description: 'bytes' }),
    mime: Type.String({ description: 'type sniffed from the bytes (application/octet-stream when unknown), never the client’s claim' }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'hex SHA-256 of the bytes, computed while they arrived' }),
    uploaderId: Id,
    createdAt: IsoTime,
    url: Type.String({ description: 'GET this for the bytes (Range, ETag supported)' }),
    width: Type.Optional(Type.Integer({ description: 'images: pixel width after orientation' })),
    height: Type.Optional(Type.Integer({ description: 'images: pixel height after orientation' })),
    thumbnailUrl: Type.Optional(Type.String({ description: 'images that get a thumbnail: 404 NOT_READY until `file.ready`' })),
  },
  { ...Strict, description: 'an uploaded file' },
);
export type FileObject = Static<typeof FileObject>;

/** POST /api/files form (documentation: the route reads the parts itself, in this order). */
export const UploadForm = Type.Object(
  {
    channelId: Type.Optional(Type.String({ pattern: Id.pattern, description: 'a channel you are a member of (before the file part)' })),
    file: Type.String({ format: 'binary', description: 'the file; its filename is sanitized, its type sniffed from the bytes' }),
  },
  Strict,
);

/**
 * A reply that is the bytes themselves (a file, a thumbnail, a report file), not JSON; its
 * Content-Type is the file's. The OpenAPI document lists it under application/octet-stream.
 */
export const BinaryReply = Type.String({ format: 'binary', description: 'the bytes (Content-Type per file)' });

/** POST /api/files → 201. */
export const UploadReply = FileObject;
export type UploadReply = FileObject;

/** GET /api/files/:id/info → the file object as the caller may see it. */
export const FileInfoReply = FileObject;

/** `file.ready` to the uploader's connections: the thumbnail is made (or failed: no thumbnailUrl). */
export const FileReadyUserEvent = Type.Object(
  {
    type: Type.Literal('file.ready'),
    fileId: Id,
    thumbnailUrl: Type.Optional(Type.String()),
    processingMs: Type.Integer({ description: 'upload complete → thumbnail ready, ms' }),
  },
  Strict,
);
export type FileReadyUserEvent = Static<typeof FileReadyUserEvent>;

/** `file.ready` to a channel where the file is attached to a message. */
export const FileReadyChannelEvent = Type.Object(
  {
    type: Type.Literal('file.ready'),
    channelId: Id,
    messageId: Id,
    fileId: Id,
    thumbnailUrl: Type.Optional(Type.String()),
    processingMs: Type.Integer(),
  },
  Strict,
);
export type FileReadyChannelEvent = Static<typeof FileReadyChannelEvent>;

export const fileUrl = (id: string) => `/api/files/${id}`;
export const thumbnailUrl = (id: string) => `/api/files/${id}/thumbnail`;
