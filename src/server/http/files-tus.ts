// Resumable uploads: the tus 1.0.0 core protocol with the creation, termination and expiration
// extensions (https://tus.io/protocols/resumable-upload), for large files on flaky networks.
//
//   POST   /api/files/tus        Upload-Length, Upload-Metadata (filename, channelId; base64)
//                                → 201 Location: /api/files/tus/<id>
//   HEAD   /api/files/tus/:id    → Upload-Offset, Upload-Length
//   PATCH  /api/files/tus/:id    Upload-Offset, Content-Type: application/offset+octet-stream
//                                → 204 Upload-Offset; on the last byte the file is stored exactly
//                                as POST /api/files stores it, and `Nchat-File-Id` names it
//   DELETE /api/files/tus/:id    → 204
//
// Same rules as a plain upload (size limit, quota — unfinished uploads reserve their length —,
// rate limit on creation, type from the bytes, thumbnails), plus: at most MAX_PENDING unfinished
// uploads per user, each expiring MAX_AGE_MS after creation; only its creator sees an upload
// (404 otherwise). Deviations from tus: errors use this API's codes and JSON bodies (a missing
// or wrong Tus-Resumable is 400, not 412), and creation-with-upload is not offered.
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Id } from '../../protocol/fields.js';
import { IdParams, NoContent } from '../../protocol/rest.js';
import { AppError, notFound } from '../errors.js';
import { TusBusyError, TusTooLongError } from '../files/tus-store.js';
import { newId } from '../ids.js';
import type { Services } from '../services/index.js';
import { actorOf } from './actor.js';
import { ownDeadline } from './upload-deadline.js';

export const TUS_VERSION = '1.0.0';
export const MAX_PENDING = 10;
export const MAX_AGE_MS = 24 * 3600 * 1000;
const OCTETS = 'application/offset+octet-stream';
const ID_RE = new RegExp(Id.pattern as string);

type IdP = { Params: { id: string } };

function tusHeaders(reply: FastifyReply): void {
  reply.header('tus-resumable', TUS_VERSION);
  reply.header('cache-control', 'no-store');
}

function requireTus(req: FastifyRequest): void {
  if (req.headers['tus-resumable'] !== TUS_VERSION) throw new AppError('VALIDATION_FAILED', `send Tus-Resumable: ${TUS_VERSION}`);
}

/** A non-negative integer header, or undefined when absent or not one. */
function intHeader(req: FastifyRequest, name: string): number | undefined {
  const v = req.headers[name];
  return typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : undefined;
}

/** Upload-Metadata: comma-separated `key base64value`; only filename and channelId are used. */
export function parseMetadata(header: string | undefined): { filename?: string; channelId?: string } {
  const out: { filename?: string; channelId?: string } = {};
  if (!header) return out;
  if (header.length > 4096) throw new AppError('VALIDATION_FAILED', 'Upload-Metadata is too long');
  for (const pair of header.split(',')) {
    const [key, value = '', extra] = pair.trim().split(' ');
    if (extra !== undefined || !/^[A-Za-z0-9._-]{1,64}$/.test(key ?? '') || !/^[A-Za-z0-9+/]*={0,2}$/.test(value))
      throw new AppError('VALIDATION_FAILED', 'Upload-Metadata must be "key base64value" pairs');
    const text = Buffer.from(value, 'base64').toString('utf8');
    if (key === 'filename') out.filename = text;
    if (key === 'channelId') {
      if (!ID_RE.test(text)) throw new AppError('VALIDATION_FAILED', 'channelId is not an id');
      out.channelId = text;
    }
  }
  return out;
}

export function registerTusRoutes(
  scope: FastifyInstance,
  s: Services,
  o: { maxBytes: number; timeoutMs: number; uploading: Set<Socket> },
): void {
  // PATCH bodies are streamed by the handler: the parser leaves them unread.
  scope.addContentTypeParser(OCTETS, (_req, _payload, done) => done(null, undefined));

  const owned = async (req: FastifyRequest<IdP>) => {
    const tus = s.files.tusStore();
    const found = await tus.get(req.params.id);
    if (!found || found.upload.userId !== actorOf(req).userId) throw notFound('upload');
    return { tus, ...found };
  };

  scope.post(
    '/api/files/tus',
    {
      schema: {
        summary: 'Start a resumable (tus 1.0.0) upload: Upload-Length, Upload-Metadata → 201 Location',
        response: { 201: NoContent },
      },
    },
    async (req, reply) => {
      tusHeaders(reply);
      const actor = actorOf(req);
      const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
      if (hasBody) reply.header('connection', 'close');
      requireTus(req);
      if (hasBody) throw new AppError('VALIDATION_FAILED', 'creation-with-upload is not supported: send the bytes with PATCH');
      const length = intHeader(req, 'upload-length');
      if (length === undefined)
        throw new AppError('VALIDATION_FAILED', 'Upload-Length must be a whole number (deferred length is not supported)');
      if (length > o.maxBytes)
        throw new AppError('PAYLOAD_TOO_LARGE', `the file is larger than ${o.maxBytes} bytes`, { maxBytes: o.maxBytes });
      const meta = parseMetadata(req.headers['upload-metadata'] as string | undefined);
      const tus = s.files.tusStore();
      await tus.sweep(MAX_AGE_MS);
      const pending = await tus.ofUser(actor.userId);
      if (pending.length >= MAX_PENDING)
        throw new AppError('LIMIT_REACHED', `at most ${MAX_PENDING} unfinished resumable uploads; finish or DELETE one`);
      const budget = await s.files.prepare(
        actor,
        pending.reduce((n, u) => n + u.length, 0),
      );
      if (length > budget.maxBytes)
        throw budget.byQuota
          ? new AppError('QUOTA_EXCEEDED', 'this upload would exceed your storage quota')
          : new AppError('PAYLOAD_TOO_LARGE', 'the file is too large');
      const id = newId();
      const createdAt = new Date();
      await tus.create({
        id,
        userId: actor.userId,
        length,
        filename: meta.filename,
        channelId: meta.channelId,
        createdAt: createdAt.toISOString(),
      });
      reply.header('location', `/api/files/tus/${id}`);
      reply.header('upload-expires', new Date(createdAt.getTime() + MAX_AGE_MS).toUTCString());
      return reply.status(201).send();
    },
  );

  scope.head<IdP>('/api/files/tus/:id', { schema: { params: IdParams } }, async (req, reply) => {
    tusHeaders(reply);
    const { upload, offset } = await owned(req);
    reply.header('upload-offset', String(offset));
    reply.header('upload-length', String(upload.length));
    return reply.status(200).send();
  });

  scope.patch<IdP>(
    '/api/files/tus/:id',
    {
      schema: {
        summary: 'Append bytes at Upload-Offset (application/offset+octet-stream); the last byte stores the file',
        params: IdParams,
        response: { 204: NoContent },
      },
    },
    async (req, reply) => {
      tusHeaders(reply);
      if (!req.raw.readableEnded) reply.header('connection', 'close');
      requireTus(req);
      if (req.headers['content-type'] !== OCTETS) throw new AppError('UNSUPPORTED_MEDIA_TYPE', `send Content-Type: ${OCTETS}`);
      const actor = actorOf(req);
      const { tus, upload, offset } = await owned(req);
      const at = intHeader(req, 'upload-offset');
      if (at !== offset) {
        reply.header('upload-offset', String(offset));
        throw new AppError('CONFLICT', `Upload-Offset must be the current offset, ${offset}`, { offset });
      }
      const done = ownDeadline(req, reply, o.timeoutMs, o.uploading);
      let now: number;
      try {
        now = await tus.append(upload.id, req.raw, upload.length - offset);
      } catch (err) {
        if (err instanceof TusBusyError) throw new AppError('CONFLICT', err.message);
        if (err instanceof TusTooLongError) throw new AppError('PAYLOAD_TOO_LARGE', 'more bytes than Upload-Length');
        // Disk full (tus-store.ts): nothing of this PATCH was kept; resume from the same offset.
        if (err instanceof AppError && err.code === 'UNAVAILABLE') reply.header('upload-offset', String(offset));
        throw err;
      } finally {
        done();
      }
      reply.header('upload-offset', String(now));
      if (now === upload.length) {
        // Complete: stored like any upload (sniffed, hashed, quota re-checked, thumbnail queued).
        // Any refusal ends the upload, except the server's own (UNAVAILABLE: disk full, database
        // down): then this PATCH's bytes are taken back, the offset is what it was before it, and
        // the client resends them once the server can store the file (503 with Retry-After).
        let keep = false;
        try {
          const received = await s.files.receive(
            { maxBytes: upload.length, byQuota: false },
            { stream: tus.read(upload.id), filename: upload.filename, truncated: () => false },
          );
          const file = await s.files.commit(actor, received, upload.channelId);
          reply.header('nchat-file-id', file.id);
        } catch (err) {
          if (err instanceof AppError && err.code === 'UNAVAILABLE') {
            await tus.truncateTo(upload.id, offset);
            reply.header('upload-offset', String(offset));
            keep = true;
          }
          throw err;
        } finally {
          if (!keep) await tus.remove(upload.id);
        }
      }
      return reply.status(204).send();
    },
  );

  scope.delete<IdP>(
    '/api/files/tus/:id',
    { schema: { summary: 'Abandon a resumable upload (its bytes are removed)', params: IdParams, response: { 204: NoContent } } },
    async (req, reply) => {
      tusHeaders(reply);
      const { tus, upload } = await owned(req);
      await tus.remove(upload.id);
      return reply.status(204).send();
    },
  );
}
