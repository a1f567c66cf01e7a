// Uploads' own deadline (POST /api/files and the resumable PATCHes), in place of node's
// server-wide request timeout. Used by http/files.ts and http/files-tus.ts.
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Node enforces NCHAT_REQUEST_TIMEOUT_MS through its list of parsing connections (no per-route
 * setting); an upload of 50 MB legitimately takes longer. So an upload, once authenticated and
 * admitted (rate limit, quota), leaves that list (`parser.remove()`, what node itself does for a
 * WebSocket upgrade) and gets its own deadline instead; its connection is closed after the reply,
 * so nothing untracked outlives it. Node's idle timeout (socket inactivity) still applies.
 * Returns a function that clears the deadline.
 */
export function ownDeadline(req: FastifyRequest, reply: FastifyReply, timeoutMs: number, open: Set<Socket>): () => void {
  const socket = req.raw.socket;
  reply.header('connection', 'close');
  const parser = (socket as Socket & { parser?: { remove?: () => void } }).parser;
  if (typeof parser?.remove === 'function') parser.remove();
  open.add(socket);
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  return () => {
    clearTimeout(timer);
    open.delete(socket);
  };
}
