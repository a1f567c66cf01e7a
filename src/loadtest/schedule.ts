// Send schedules for open-model load: every message has its own intended time, fixed before the
// generator tries to send it, so latency can be measured from that time and a late generator
// shows up as schedule lag (actual send − intended) instead of disappearing from the figures
// (coordinated omission). Used by the ws scenario's chat (Poisson) and by bench:fanout (fixed rate).

/** mulberry32: a small seeded PRNG in [0, 1); the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed from a string (FNV-1a), e.g. the run tag + worker index, so a run can be replayed. */
export function seedOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Poisson arrivals at a rate that may change over time (a non-homogeneous Poisson process by time
 * change): each arrival needs an Exp(1) amount of "integrated rate" ∫rate dt, drawn from a seeded
 * RNG. The caller says which rate held since its last call; arrivals are placed at the exact
 * instant the integral reaches the draw, so their intended times do not depend on how often the
 * caller's loop wakes up. Times are in ms (performance.now()), rates in events per second.
 */
export class PoissonArrivals {
  private need: number;
  private acc = 0;
  private last: number;

  constructor(
    private readonly rng: () => number,
    start: number,
  ) {
    this.last = start;
    this.need = this.draw();
  }

  private draw(): number {
    return -Math.log(1 - this.rng()); // Exp(1); 1 - u is in (0, 1], so never log(0)
  }

  /**
   * Moves the clock to `now`, `ratePerSec` having held since the previous call; returns the
   * intended times of the arrivals in (previous call, now], in order.
   */
  advance(now: number, ratePerSec: number): number[] {
    const out: number[] = [];
    if (now <= this.last) return out;
    if (ratePerSec > 0) {
      let t = this.last;
      for (;;) {
        const at = t + ((this.need - this.acc) / ratePerSec) * 1000;
        if (at > now) break;
        out.push(at);
        t = at;
        this.acc = 0;
        this.need = this.draw();
      }
      this.acc += ((now - t) / 1000) * ratePerSec;
    }
    this.last = now;
    return out;
  }

  /** When the next arrival falls if the rate stays `ratePerSec` (Infinity at rate 0). */
  nextAt(ratePerSec: number): number {
    return ratePerSec > 0 ? this.last + ((this.need - this.acc) / ratePerSec) * 1000 : Infinity;
  }
}

/** Fixed rate: slot k (0-based) is intended at start + k × 1000 / rate ms, whenever it actually leaves. */
export class FixedRateSchedule {
  readonly interval: number;
  constructor(
    readonly start: number,
    readonly ratePerSec: number,
    readonly slots: number,
  ) {
    this.interval = 1000 / ratePerSec;
  }
  intendedAt(k: number): number {
    return this.start + k * this.interval;
  }
  /** How many slots are due by `now` (capped at the schedule's length). */
  dueBy(now: number): number {
    if (now < this.start) return 0;
    return Math.min(this.slots, Math.floor((now - this.start) / this.interval) + 1);
  }
}
