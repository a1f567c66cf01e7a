// The message stream: N messages in time order over the plan's channels, each slot i at a fixed
// time (T_START + i·span/N) with a fixed id, so the relevance set can name its answers before a
// single row is written. Slots the relevance set planted carry its text; every other slot gets a
// generated message (channel by volume weight, author among the channel's members with a few
// regulars doing most of the talking, ~10% thread replies to a recent root, mentions from the
// text, ~5% with reactions). Seqs are per channel and gapless by construction.
import type { BulkFinish, BulkMessage, BulkReaction } from '../server/store/bulk.js';
import type { Plan } from './plan.js';
import { T_SPAN, T_START } from './plan.js';
import { Rng, seededId } from './rng.js';
import { EMOJI_NAMES, Vocabulary } from './vocab.js';

/** A message the relevance set put at a slot (channel and author are plan indices). */
export interface Planted {
  channel: number;
  author: number;
  text: string;
  /** Slot of the thread root this replies to (an earlier planted slot in the same channel). */
  parentSlot?: number;
  /** Planted messages with `root` may receive planted replies; generated replies never pick any planted message. */
  root?: boolean;
}

export const slotMs = (n: number, i: number) => T_START + Math.floor((i * T_SPAN) / n);
export const slotId = (plan: Plan, i: number) => seededId(slotMs(plan.params.messages, i), plan.salt, i);

const THREAD_SHARE = 0.1;
const REACTION_SHARE = 0.05;
const RECENT_ROOTS = 16;

export class MessageStream {
  private readonly rng: Rng;
  private readonly vocab = new Vocabulary();
  private readonly cdf: Float64Array;
  private readonly seq: Int32Array;
  private readonly roots: string[][];
  private readonly mentionable: { id: string; username: string }[][];
  /** Members per channel in a random order: the first few are its regulars. */
  private readonly speakers: number[][];
  private readonly threads = new Map<string, { n: number; last: string }>();
  /** Slot → (channel, seq) of planted messages, for planted replies. */
  private readonly plantedAt = new Map<number, { id: string; channel: number }>();
  written = 0;

  constructor(
    private readonly plan: Plan,
    private readonly planted: Map<number, Planted>,
  ) {
    this.rng = new Rng(plan.params.seed, 2);
    const ch = plan.channels;
    this.cdf = new Float64Array(ch.length);
    let sum = 0;
    ch.forEach((c, i) => {
      sum += c.weight;
      this.cdf[i] = sum;
    });
    for (let i = 0; i < ch.length; i++) this.cdf[i] /= sum;
    this.seq = new Int32Array(ch.length);
    this.roots = ch.map(() => []);
    this.speakers = ch.map((c) => this.rng.sample(c.members, c.members.length));
    this.mentionable = ch.map((c) => c.members.map((m) => ({ id: plan.users[m].id, username: plan.users[m].username })));
  }

  private pickChannel(): number {
    const u = this.rng.next();
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private reactions(channel: number, ms: number): BulkReaction[] {
    const members = this.plan.channels[channel].members;
    const n = this.rng.range(1, 3);
    const out: BulkReaction[] = [];
    const seen = new Set<string>();
    for (let k = 0; k < n; k++) {
      const userId = this.plan.users[this.rng.pick(members)].id;
      const emoji = this.rng.pick(EMOJI_NAMES);
      const key = `${userId} ${emoji}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ userId, emoji, createdAt: new Date(ms + 1000 * (k + 1)).toISOString() });
    }
    return out;
  }

  private noteReply(rootId: string, at: string): void {
    const t = this.threads.get(rootId);
    if (t) {
      t.n++;
      t.last = at;
    } else this.threads.set(rootId, { n: 1, last: at });
  }

  /** The message of slot i (call in slot order). */
  private at(i: number): BulkMessage {
    const n = this.plan.params.messages;
    const ms = slotMs(n, i);
    const id = seededId(ms, this.plan.salt, i);
    const createdAt = new Date(ms).toISOString();
    const p = this.planted.get(i);
    if (p) {
      const channel = this.plan.channels[p.channel];
      let parentId: string | null = null;
      if (p.parentSlot !== undefined) {
        const root = this.plantedAt.get(p.parentSlot);
        if (!root || root.channel !== p.channel)
          throw new Error(`relevance set: slot ${i} replies to slot ${p.parentSlot}, not an earlier root in its channel`);
        parentId = root.id;
        this.noteReply(parentId, createdAt);
      }
      if (p.root) this.plantedAt.set(i, { id, channel: p.channel });
      return {
        id,
        channelId: channel.id,
        seq: ++this.seq[p.channel],
        authorId: this.plan.users[p.author].id,
        text: p.text,
        createdAt,
        parentId,
        mentionUserIds: [],
        mentionChannel: false,
        reactions: [],
      };
    }
    const c = this.pickChannel();
    const channel = this.plan.channels[c];
    const speakers = this.speakers[c];
    // Regulars: the index is skewed to the front of the channel's shuffled member list.
    const u = this.rng.next();
    const author = speakers[Math.floor(speakers.length * u * u)];
    const gen = this.vocab.message(this.rng, { members: this.mentionable[c] });
    const roots = this.roots[c];
    let parentId: string | null = null;
    if (roots.length > 0 && this.rng.chance(THREAD_SHARE)) {
      const v = this.rng.next();
      parentId = roots[roots.length - 1 - Math.floor(roots.length * v * v)];
      this.noteReply(parentId, createdAt);
    } else {
      roots.push(id);
      if (roots.length > RECENT_ROOTS) roots.shift();
    }
    return {
      id,
      channelId: channel.id,
      seq: ++this.seq[c],
      authorId: this.plan.users[author].id,
      text: gen.text,
      createdAt,
      parentId,
      mentionUserIds: gen.mentionUserIds.filter((m) => m !== this.plan.users[author].id),
      mentionChannel: gen.mentionChannel,
      reactions: this.rng.chance(REACTION_SHARE) ? this.reactions(c, ms) : [],
    };
  }

  /** Batches of up to `size` messages, in slot order, until all N are produced. */
  *batches(size: number): Generator<BulkMessage[]> {
    const n = this.plan.params.messages;
    while (this.written < n) {
      const end = Math.min(n, this.written + size);
      const batch: BulkMessage[] = new Array(end - this.written);
      for (let i = this.written; i < end; i++) batch[i - this.written] = this.at(i);
      this.written = end;
      yield batch;
    }
  }

  /** What the messages imply for channels, read positions and thread roots (call after the last batch). */
  finishRows(): BulkFinish {
    const lastSeq = new Map<string, number>();
    const readSeq: BulkFinish['readSeq'] = [];
    const rng = new Rng(this.plan.params.seed, 3);
    this.plan.channels.forEach((c, i) => {
      const last = this.seq[i];
      lastSeq.set(c.id, last);
      // Everyone has read nearly everything: a few unread messages each, like a live team
      // (and unread counts, a range scan from read_seq, stay cheap as on a real server).
      for (const m of c.members)
        readSeq.push({ channelId: c.id, userId: this.plan.users[m].id, readSeq: Math.max(0, last - rng.int(Math.min(last, 25) + 1)) });
    });
    const threads = [...this.threads].map(([rootId, t]) => ({ rootId, replyCount: t.n, lastReplyAt: t.last }));
    return { lastSeq, readSeq, threads };
  }
}
