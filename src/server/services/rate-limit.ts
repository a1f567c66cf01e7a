// Fixed-size sliding-window counters, in process memory. With several nodes each node counts
// its own share (documented in docs/OPERATIONS.md): an attacker spread over N nodes gets N× the
// allowance, which still bounds guessing to a few hundred tries per 15 minutes per account.
import { AppError } from '../errors.js';

export class SlidingWindowLimiter {
  private readonly hits = new Map<string, number[]>();
  private sweeps = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Throws RATE_LIMITED if `key` already used up its window, without counting. */
  check(key: string, now = Date.now()): void {
    const list = this.prune(key, now);
    if (list && list.length >= this.limit) {
      const retryAfterSec = Math.ceil((list[0] + this.windowMs - now) / 1000);
      throw new AppError('RATE_LIMITED', `too many attempts; retry in ${retryAfterSec}s`, { retryAfterSec });
    }
  }

  /** Counts one attempt for `key`, throwing RATE_LIMITED when over the limit. */
  hit(key: string, now = Date.now()): void {
    this.check(key, now);
    let list = this.hits.get(key);
    if (!list) this.hits.set(key, (list = []));
    list.push(now);
    if (++this.sweeps % 1000 === 0) this.sweep(now);
  }

  private prune(key: string, now: number): number[] | undefined {
    const list = this.hits.get(key);
    if (!list) return undefined;
    while (list.length && list[0] <= now - this.windowMs) list.shift();
    if (list.length === 0) this.hits.delete(key);
    return list;
  }

  /** Drops keys whose window has passed, so memory stays bounded by active keys. */
  private sweep(now: number): void {
    for (const key of [...this.hits.keys()]) this.prune(key, now);
  }
}
