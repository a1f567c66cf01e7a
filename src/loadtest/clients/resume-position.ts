// Where a load-test client resumes one channel after an unexpected drop (the ws and messages
// scenarios), following the server's resume contract (src/server/realtime/resume.ts):
// - The resume starts from the last seq seen BEFORE the drop, kept until `resumed` answers. Not
//   the last seq at reconnect time: live messages can arrive on the new socket before the
//   reconnect's continuation sends the resume (hello and live frames in one read), and would move
//   the position past what was missed.
// - A second drop before `resumed` keeps that older position.
// - Live messages may interleave with the replay and repeat it: a seq already received since the
//   drop is a repeat, and the client drops it.
export class ResumePosition {
  /** The highest seq received. */
  last = 0;
  private from: number | undefined;
  private readonly sinceDrop = new Set<number>();

  /** The channel's lastSeq from the first hello. */
  start(seq: number): void {
    this.last = seq;
  }

  /** A message.created's seq: false when it repeats one received since the drop (drop it). */
  received(seq: number | undefined): boolean {
    if (typeof seq !== 'number') return true;
    if (this.from !== undefined) {
      if (this.sinceDrop.has(seq)) return false;
      this.sinceDrop.add(seq);
    }
    if (seq > this.last) this.last = seq;
    return true;
  }

  /** The connection closed unexpectedly. */
  dropped(): void {
    if (this.from !== undefined) return;
    this.from = this.last;
    this.sinceDrop.clear();
  }

  /** The server answered the resume. */
  resumed(): void {
    this.from = undefined;
    this.sinceDrop.clear();
  }

  /** Where the next resume starts. */
  get resumeFrom(): number {
    return this.from ?? this.last;
  }
}
