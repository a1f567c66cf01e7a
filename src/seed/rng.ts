// A small deterministic PRNG (sfc32, seeded through splitmix32) and the few sampling helpers the
// seeder needs. Same seed → same workspace, on any machine and Node version: nothing here reads
// Math.random, the clock or the environment.

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `stream` derives independent sequences from one user seed (plan, text, relevance…). */
  constructor(seed: number, stream = 0) {
    const init = splitmix32((seed ^ Math.imul(stream + 1, 0x632be5ab)) >>> 0);
    this.a = init();
    this.b = init();
    this.c = init();
    this.d = init();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }

  /** k distinct elements of list (k ≤ list.length), in random order (partial Fisher–Yates on a copy). */
  sample<T>(list: readonly T[], k: number): T[] {
    const a = list.slice();
    const n = Math.min(k, a.length);
    for (let i = 0; i < n; i++) {
      const j = i + this.int(a.length - i);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a.slice(0, n);
  }
}

/**
 * Draws ranks 0..n-1 with probability ∝ 1/(rank+1)^s (Zipf). Inverse-CDF over a precomputed
 * cumulative table, O(log n) per draw.
 */
export class Zipf {
  private readonly cdf: Float64Array;

  constructor(
    readonly n: number,
    s = 1.0,
  ) {
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      sum += 1 / (i + 1) ** s;
      this.cdf[i] = sum;
    }
    for (let i = 0; i < n; i++) this.cdf[i] /= sum;
  }

  draw(rng: Rng): number {
    const u = rng.next();
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Base-32 alphabet of server ids (src/server/ids.ts). */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * A deterministic id in the server's format (22 chars: 10 of milliseconds, 12 more): the tail is
 * a 4-char salt from the seed and an 8-char counter, so seeded ids never collide with each other,
 * and ids stay time-ordered like the server's own (B-tree appends).
 */
export function seededId(ms: number, salt: string, counter: number): string {
  let head = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    head = ALPHABET[t % 32] + head;
    t = Math.floor(t / 32);
  }
  let tail = '';
  let c = counter;
  for (let i = 0; i < 8; i++) {
    tail = ALPHABET[c % 32] + tail;
    c = Math.floor(c / 32);
  }
  return head + salt + tail;
}

/** The 4-char salt of a seed's ids. */
export function idSalt(seed: number): string {
  const r = new Rng(seed, 99);
  let s = '';
  for (let i = 0; i < 4; i++) s += ALPHABET[r.int(32)];
  return s;
}
