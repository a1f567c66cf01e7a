// Resume: replay what a client missed in one channel, from the store, in seq order.
//
// Contract: the connection is already subscribed to the channel (it was at hello, or through a
// `subscription` event) before the store is read, so every message after the replayed range
// arrives live: nothing acknowledged can fall between replay and live delivery. Live events may
// interleave with the replay and repeat it; duplicates carry the same seq and clients drop them.
// At most `limit` messages are replayed; when more exist the answer is
// `{type:"resumed", limited:true, cursor}` where cursor is the last replayed seq, and the client
// pages on with GET /api/channels/:id/messages?after=<cursor>.
import type { ServerEvent } from '../../protocol/events.js';
import type { Actor, Services } from '../services/index.js';

const PAGE = 200;

export async function replay(
  services: Services,
  actor: Actor,
  channelId: string,
  afterSeq: number,
  limit: number,
  emit: (e: ServerEvent) => void,
): Promise<{ replayed: number; limited: boolean }> {
  let cursor = afterSeq;
  let replayed = 0;
  let limited = false;
  for (;;) {
    // Ask for one more than we may send, to know whether the gap is larger than the limit.
    const want = Math.min(PAGE, limit - replayed + 1);
    const page = await services.messages.history(actor, channelId, { after: cursor, limit: want });
    for (const m of page) {
      if (replayed === limit) {
        limited = true;
        break;
      }
      emit({ type: 'message.created', channelId, seq: m.seq, message: m });
      cursor = m.seq;
      replayed++;
    }
    if (limited || page.length < want) break;
  }
  emit(limited ? { type: 'resumed', channelId, limited: true, cursor } : { type: 'resumed', channelId, limited: false });
  return { replayed, limited };
}
