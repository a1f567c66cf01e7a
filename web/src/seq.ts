// Per-channel sequence tracking for the realtime client: nothing missing, nothing doubled.
// `position` is the highest seq up to which the client has every message (contiguous); a seq
// above position+1 is kept in `ahead` and reported as a gap, which the client repairs with a
// `resume` from `position` (docs/REALTIME.md: the store always holds the message). A seq already
// at or below position, or already in `ahead`, is a repeat (replay, broker repair) and dropped.

export type SeqVerdict = 'new' | 'dup' | 'gap';

export class SeqTracker {
  private readonly pos = new Map<string, number>();
  private readonly ahead = new Map<string, Set<number>>();

  /** Sets a channel's starting position (from hello or a fresh history load) unless already further. */
  track(channelId: string, lastSeq: number): void {
    const cur = this.pos.get(channelId);
    if (cur === undefined || lastSeq > cur) {
      this.pos.set(channelId, lastSeq);
      this.settle(channelId);
    }
  }

  forget(channelId: string): void {
    this.pos.delete(channelId);
    this.ahead.delete(channelId);
  }

  has(channelId: string): boolean {
    return this.pos.has(channelId);
  }

  position(channelId: string): number | undefined {
    return this.pos.get(channelId);
  }

  positions(): Record<string, number> {
    return Object.fromEntries(this.pos);
  }

  /** Judges one message.created: 'new' (deliver), 'dup' (drop), 'gap' (deliver, then resume from position). */
  accept(channelId: string, seq: number): SeqVerdict {
    const p = this.pos.get(channelId);
    if (p === undefined) {
      // A channel this client did not know (joined elsewhere): start from here.
      this.pos.set(channelId, seq);
      return 'new';
    }
    if (seq <= p) return 'dup';
    const set = this.ahead.get(channelId);
    if (set?.has(seq)) return 'dup';
    if (seq === p + 1) {
      this.pos.set(channelId, seq);
      this.settle(channelId);
      return 'new';
    }
    if (set) set.add(seq);
    else this.ahead.set(channelId, new Set([seq]));
    return 'gap';
  }

  /** Channels with messages above their contiguous position (a resume is owed). */
  gaps(): string[] {
    return [...this.ahead.entries()].filter(([, s]) => s.size > 0).map(([c]) => c);
  }

  private settle(channelId: string): void {
    const set = this.ahead.get(channelId);
    if (!set) return;
    let p = this.pos.get(channelId)!;
    for (const s of [...set]) if (s <= p) set.delete(s);
    while (set.has(p + 1)) {
      p++;
      set.delete(p);
    }
    this.pos.set(channelId, p);
    if (set.size === 0) this.ahead.delete(channelId);
  }
}

/** Reconnect delay: exponential backoff with full jitter (uniform in [0, min(cap, base·2^attempt)]). */
export function backoffMs(attempt: number, baseMs = 500, capMs = 30_000, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
