// Resume: replay what a client missed in one channel, from the store, in seq order.
//
// Contract: the connection is already subscribed to the channel (it was at hello, or through a
// `subscription` event) before the store is read, so every message after the replayed range
// arrives live: nothing acknowledged can fall between replay and live delivery. Live events may
// interleave with the replay and repeat it; duplicates carry the same seq and clients drop them.
//
// Bounds (a replay must never build an unbounded reply, and must always make progress):
// - At most `limit` messages per channel (NCHAT_WS_RESUME_LIMIT).
// - At most `budget.bytesLeft` bytes of JSON, shared by every channel of one resume op
//   (min(NCHAT_WS_RESUME_MAX_BYTES, NCHAT_WS_MAX_BUFFERED / 2)). The check is made before each
//   message, so the first message of an op is always sent and the op overshoots by at most one.
// - The sink sends in pieces: sink.pace() after each message flushes once a piece is queued and
//   waits for the socket to drain, so no reply is one giant frame.
// When a bound stops the replay the answer is `{type:"resumed", limited:true, cursor}` where
// cursor is the last replayed seq; the client resumes again from it (or pages on with
// GET /api/channels/:id/messages?after=<cursor>).
import type { ServerEvent } from '../../protocol/events.js';
import type { Actor, Services } from '../services/index.js';

const PAGE = 200;

export interface ReplaySink {
  /** Queues one event for the connection; returns its bytes, 0 when nothing was queued (connection gone). */
  emit(e: ServerEvent): number;
  /** Between messages: sends a full piece and waits for the socket; false once the connection is gone. */
  pace(): Promise<boolean>;
}

export async function replay(
  services: Services,
  actor: Actor,
  channelId: string,
  afterSeq: number,
  limit: number,
  budget: { bytesLeft: number },
  sink: ReplaySink,
): Promise<{ replayed: number; limited: boolean; open: boolean }> {
  let cursor = afterSeq;
  let replayed = 0;
  let limited = false;
  for (;;) {
    if (budget.bytesLeft <= 0) {
      limited = true;
      break;
    }
    // Ask for one more than we may send, to know whether the gap is larger than the limit.
    const want = Math.min(PAGE, limit - replayed + 1);
    const page = await services.messages.history(actor, channelId, { after: cursor, limit: want });
    for (const m of page) {
      if (replayed === limit || budget.bytesLeft <= 0) {
        limited = true;
        break;
      }
      const n = sink.emit({ type: 'message.created', channelId, seq: m.seq, message: m });
      if (n === 0) return { replayed, limited, open: false };
      budget.bytesLeft -= n;
      cursor = m.seq;
      replayed++;
      if (!(await sink.pace())) return { replayed, limited, open: false };
    }
    if (limited || page.length < want) break;
  }
  const open =
    sink.emit(limited ? { type: 'resumed', channelId, limited: true, cursor } : { type: 'resumed', channelId, limited: false }) > 0;
  return { replayed, limited, open };
}
