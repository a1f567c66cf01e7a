// Readiness of the store for /api/health: a trivial store ping (SELECT 1), bounded in time and
// cached, so a node whose database is down answers 503 and a load balancer moves its traffic
// elsewhere, while a load balancer polling every node many times a second costs at most one ping
// per node per `ttlMs`.
//
// Contract of check():
// - resolves true/false, never rejects, and within about `timeoutMs` (a ping slower than that
//   counts as a failure: a database that takes seconds to answer SELECT 1 cannot serve sends);
// - a result is reused for `ttlMs`; concurrent callers share one ping;
// - while an earlier ping is still hanging (past its timeout), no second ping is started and the
//   answer is false: pings never pile up on a stuck pool.

export interface ReadinessOptions {
  /** How long a result is reused (ms). */
  ttlMs: number;
  /** A ping slower than this counts as failed (ms). */
  timeoutMs: number;
}

export const DEFAULT_READINESS: ReadinessOptions = { ttlMs: 1000, timeoutMs: 1000 };

export class StoreReadiness {
  private last: { at: number; ready: boolean } | undefined;
  private inflight: Promise<boolean> | undefined;
  private hanging = false;

  constructor(
    private readonly ping: () => Promise<void>,
    private readonly opts: ReadinessOptions = DEFAULT_READINESS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  check(): Promise<boolean> {
    if (this.last && this.now() - this.last.at < this.opts.ttlMs) return Promise.resolve(this.last.ready);
    this.inflight ??= this.probe().then((ready) => {
      this.last = { at: this.now(), ready };
      this.inflight = undefined;
      return ready;
    });
    return this.inflight;
  }

  private probe(): Promise<boolean> {
    if (this.hanging) return Promise.resolve(false);
    this.hanging = true;
    const pinged = Promise.resolve()
      .then(() => this.ping())
      .then(
        () => true,
        () => false,
      )
      .finally(() => {
        this.hanging = false;
      });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.opts.timeoutMs);
    });
    return Promise.race([pinged, timedOut]).finally(() => clearTimeout(timer));
  }
}
