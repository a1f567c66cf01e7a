// /api/files: upload (multipart, streamed), download, thumbnail, info. Thin: the parser's
// limits and errors here, the rules in services/files.ts, the HTTP serving in files/download.ts.
//
// Multipart is registered inside this plugin's own scope, for the upload route only: every other
// route keeps app.ts's JSON-only parsing. Upload form: an optional `channelId` field, then one
// part named `file`; anything else is a 400 and nothing is kept.
import multipart, { type FastifyMultipartBaseOptions } from '@fastify/multipart';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { BinaryReply, FileInfoReply, UploadForm, UploadReply } from '../../protocol/files.js';
import { Id } from '../../protocol/fields.js';
import { IdParams } from '../../protocol/rest.js';
import { AppError } from '../errors.js';
import { sendBlob } from '../files/download.js';
import type { Services } from '../services/index.js';
import type { ChannelCheck, ReceivedFile } from '../services/files.js';
import { actorOf } from './actor.js';
import { registerTusRoutes } from './files-tus.js';
import { ownDeadline } from './upload-deadline.js';

type IdP = { Params: { id: string } };

declare module 'fastify' {
  interface FastifySchema {
    /** The multipart form for the OpenAPI document (system.ts); not validated by fastify. */
    multipartBody?: unknown;
  }
}

const ID_RE = new RegExp(Id.pattern as string);

/** Busboy / @fastify/multipart failures → the contract's coded 4xx. */
function multipartError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const e = err as { code?: string; message?: string };
  switch (e?.code) {
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new AppError('VALIDATION_FAILED', 'too many parts: send an optional "channelId" field and one "file" part');
    case 'FST_REQ_FILE_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', 'the file is too large');
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'send multipart/form-data');
    case 'FST_PROTO_VIOLATION':
      return new AppError('VALIDATION_FAILED', 'forbidden field name');
  }
  // Busboy's own parse errors (no boundary, malformed headers, unexpected end) and a premature close.
  return new AppError('BAD_REQUEST', `malformed multipart body${e?.message ? `: ${e.message}` : ''}`);
}

export function registerFileRoutes(app: FastifyInstance, s: Services, limits: { maxBytes: number; timeoutMs: number }): void {
  const { maxBytes, timeoutMs } = limits;
  // Upload sockets are outside node's connection list: closeAllConnections() cannot see them.
  const uploading = new Set<Socket>();
  app.addHook('onClose', async () => {
    for (const socket of uploading) socket.destroy();
  });
  // The unattached-upload sweep (services/files.ts) runs while this app serves files: every node
  // sweeps (the store gives each row to one of them), and it stops with the app.
  let stopSweeper: (() => Promise<void>) | undefined;
  app.addHook('onReady', async () => {
    stopSweeper = s.files.startSweeper();
  });
  app.addHook('onClose', async () => {
    await stopSweeper?.();
  });
  app.register(async (scope) => registerTusRoutes(scope, s, { maxBytes, timeoutMs, uploading }));
  app.register(async (scope) => {
    const options = {
      // Busboy's cut-off is a backstop one byte past the limit; the blob store's own count is exact.
      limits: { fileSize: maxBytes + 1, files: 1, fields: 1, parts: 2, fieldNameSize: 64, fieldSize: 256, headerPairs: 16 },
      // Filenames as UTF-8 (busboy's default is latin1, which garbles every non-ASCII name).
      // A busboy option the plugin passes through but does not declare.
      defParamCharset: 'utf8',
      throwFileSizeLimit: true,
    };
    await scope.register(multipart, options as FastifyMultipartBaseOptions);

    scope.post(
      '/api/files',
      {
        schema: {
          summary:
            'Upload one file (multipart/form-data: optional "channelId" field, then a "file" part); streamed, hashed, type from the bytes',
          response: { 201: UploadReply },
          multipartBody: UploadForm,
        },
      },
      async (req, reply) => {
        const actor = actorOf(req);
        if (!req.isMultipart()) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send multipart/form-data with one part named "file"');
        let budget: Awaited<ReturnType<typeof s.files.prepare>>;
        try {
          budget = await s.files.prepare(actor);
        } catch (err) {
          // Refused before reading any of the body (rate limit, quota): same reason as below.
          reply.header('connection', 'close');
          throw err;
        }
        let received: ReceivedFile | undefined;
        let channelId: string | undefined;
        let channelCheck: ChannelCheck | undefined;
        const done = ownDeadline(req, reply, timeoutMs, uploading);
        try {
          for await (const part of req.parts()) {
            if (part.type === 'field') {
              if (part.fieldname !== 'channelId' || channelId !== undefined || received)
                throw new AppError(
                  'VALIDATION_FAILED',
                  `unexpected field "${part.fieldname}": only "channelId" may precede the "file" part`,
                );
              if (typeof part.value !== 'string' || !ID_RE.test(part.value))
                throw new AppError('VALIDATION_FAILED', 'channelId is not an id');
              channelId = part.value;
              // Checked while the file arrives; commit() awaits the outcome.
              channelCheck = s.files.checkChannel(actor, channelId);
              continue;
            }
            if (part.fieldname !== 'file') throw new AppError('VALIDATION_FAILED', 'the file goes in a part named "file"');
            if (received) throw new AppError('VALIDATION_FAILED', 'one file per upload');
            const stream = part.file;
            received = await s.files.receive(budget, {
              stream,
              filename: part.filename,
              declaredType: part.mimetype,
              truncated: () => stream.truncated,
            });
          }
          if (!received) throw new AppError('VALIDATION_FAILED', 'no part named "file"');
        } catch (err) {
          // Refused before the body was read to its end (over the limit, a bad part): the rest is
          // never read (that would waste up to the size limit); the connection closes after the
          // reply (ownDeadline), so it cannot stall a next request either.
          if (received) await s.files.discard(received);
          throw multipartError(err);
        } finally {
          done();
        }
        return reply.status(201).send(await s.files.commit(actor, received, channelId, channelCheck));
      },
    );
  });

  app.get<IdP>(
    '/api/files/:id',
    {
      schema: {
        summary: 'The bytes (Range, ETag); uploader or readers of a message it is attached to',
        params: IdParams,
        response: { 200: BinaryReply, 206: BinaryReply },
      },
    },
    async (req, reply) => {
      const f = await s.files.readable(actorOf(req), req.params.id);
      return sendBlob(req, reply, s.files.blobStore(), { key: f.blobKey, size: f.size, etag: `"${f.sha256}"`, mime: f.mime, name: f.name });
    },
  );

  app.get<IdP>(
    '/api/files/:id/thumbnail',
    {
      schema: {
        summary: 'WebP thumbnail of an image (404 NOT_READY until file.ready)',
        params: IdParams,
        response: { 200: BinaryReply, 206: BinaryReply },
      },
    },
    async (req, reply) => {
      const f = await s.files.readable(actorOf(req), req.params.id);
      if (f.thumbState === 'pending') {
        reply.header('retry-after', '1');
        throw new AppError('NOT_READY', 'the thumbnail is still being made; retry after the file.ready event');
      }
      const blobs = s.files.blobStore();
      const size = f.thumbKey ? (await blobs.stat(f.thumbKey))?.size : undefined;
      if (f.thumbState !== 'ready' || !f.thumbKey || size === undefined) throw new AppError('NOT_FOUND', 'this file has no thumbnail');
      const stem = f.name.replace(/\.[^.]*$/, '') || 'thumbnail';
      return sendBlob(req, reply, blobs, { key: f.thumbKey, size, etag: `"t-${f.sha256}"`, mime: 'image/webp', name: `${stem}.webp` });
    },
  );

  app.get<IdP>(
    '/api/files/:id/info',
    { schema: { summary: 'The file object (same access rule as the bytes)', params: IdParams, response: { 200: FileInfoReply } } },
    async (req) => s.files.info(actorOf(req), req.params.id),
  );
}
