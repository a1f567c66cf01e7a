// Rate limiting: sliding-window counters for sign-in, fixed windows for per-user write limits,
// each in process memory or shared by every node through Redis, and ipKey() for per-IP keys.
//
// In memory (one node, or several nodes without Redis) each node counts its own share: an
// attacker spread over N nodes gets N times the allowance. With NCHAT_REDIS_URL the composition
// root (services/shared-limits.ts) swaps in the Redis implementations, which count every node
// together and fall back to their in-memory twin while Redis is unreachable.
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { AppError } from '../errors.js';

/**
 * A sliding window per key: check() refuses (RATE_LIMITED, details.retryAfterSec) without
 * counting when the key already has `limit` attempts in the last `windowMs`; hit() does the same
 * check and, when admitted, counts one attempt. A refused hit is not counted, so a key holds at
 * most `limit` attempts. Two implementations: SlidingWindowLimiter (this process) and
 * RedisSlidingWindowLimiter (every node sharing one Redis).
 */
export interface SlidingWindow {
  check(key: string): void | Promise<void>;
  hit(key: string): void | Promise<void>;
}

export class SlidingWindowLimiter implements SlidingWindow {
  private readonly hits = new Map<string, number[]>();
  private sweeps = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
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

/**
 * The key a client address counts under in per-IP limits: an IPv4 address (also when it comes
 * IPv4-mapped, `::ffff:1.2.3.4`) is itself; an IPv6 address counts by its /64 prefix
 * (`2001:db8:1:2::/64`), because one subscriber usually holds a whole /64 and could otherwise
 * rotate through 2^64 addresses. A zone id (`%eth0`) is dropped. Anything that is not an IP
 * address is returned unchanged.
 */
export function ipKey(ip: string): string {
  const addr = ip.split('%')[0];
  const kind = isIP(addr);
  if (kind === 4) return addr;
  if (kind !== 6) return ip;
  const groups = ipv6Groups(addr);
  // ::ffff:0:0/96 is IPv4-mapped: the client is an IPv4 host (dual-stack socket).
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255].join('.');
  }
  return (
    groups
      .slice(0, 4)
      .map((g) => g.toString(16))
      .join(':') + '::/64'
  );
}

/** The eight 16-bit groups of a valid IPv6 address (with `::` expanded and a dotted IPv4 tail converted). */
function ipv6Groups(addr: string): number[] {
  let s = addr.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    s = s.slice(0, v4.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...zeros, ...t].map((g) => parseInt(g, 16));
}

/**
 * A counter per key over a window: hit() counts one attempt and throws RATE_LIMITED (details:
 * retryAfterSec) when the key is over its limit. Two implementations: FixedWindowLimiter (this
 * process) and RedisFixedWindowLimiter (every node sharing one Redis); main.ts picks one.
 */
export interface RateLimiter {
  hit(key: string): void | Promise<void>;
}

/** No limit (the load-test allowance). */
export const unlimited: RateLimiter = { hit: () => undefined };

function limited(what: string, retryAfterMs: number): AppError {
  const retryAfterSec = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new AppError('RATE_LIMITED', `${what}; retry in ${retryAfterSec}s`, { retryAfterSec });
}

/**
 * Fixed window in process memory: one Map lookup and an increment per hit (O(1), no timers),
 * cheap enough for every message send. A fixed window lets a client spend up to 2× the limit
 * across a window boundary; for an abuse cap that is fine and keeps the state one number.
 */
export class FixedWindowLimiter implements RateLimiter {
  private readonly windows = new Map<string, { n: number; resetAt: number }>();
  private hits = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    readonly what = 'too many requests',
  ) {}

  hit(key: string, now = Date.now()): void {
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      w = { n: 0, resetAt: now + this.windowMs };
      this.windows.set(key, w);
      // Amortized sweep: memory stays bounded by keys active within one window.
      if (++this.hits % 1000 === 0) for (const [k, v] of this.windows) if (v.resetAt <= now) this.windows.delete(k);
    }
    if (w.n >= this.limit) throw limited(this.what, w.resetAt - now);
    w.n++;
  }
}

/** What RedisFixedWindowLimiter needs of a node-redis client. */
export interface RedisEval {
  readonly isReady: boolean;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

// INCR the window's counter, start its expiry on the first hit, answer [count, ms left].
const FIXED_WINDOW_LUA = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

/**
 * Fixed window shared by every node through Redis: ONE round trip per hit (an EVAL of the
 * script above; atomic, so concurrent hits from several nodes never over-admit). That round
 * trip is the stated price of an exact cluster-wide limit: ~0.1 ms on a LAN, paid only by
 * sends, searches, uploads and channel creations, never by fan-out; the load-test allowance
 * skips it.
 * A local token bucket with periodic Redis sync would save it but admit up to nodes × the
 * sync period's worth over the limit. When Redis is not ready or the call fails, the node falls
 * back to its own in-memory window (fail open to a per-node limit rather than refuse every send
 * while Redis is down: Redis is a hint here as for fan-out).
 */
export class RedisFixedWindowLimiter implements RateLimiter {
  private readonly local: FixedWindowLimiter;
  private warned = false;

  constructor(
    private readonly redis: RedisEval,
    private readonly prefix: string,
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly what = 'too many requests',
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.local = new FixedWindowLimiter(limit, windowMs, what);
  }

  async hit(key: string): Promise<void> {
    if (!this.redis.isReady) return this.local.hit(key);
    let reply: unknown;
    try {
      reply = await this.redis.eval(FIXED_WINDOW_LUA, { keys: [this.prefix + key], arguments: [String(this.windowMs)] });
    } catch (err) {
      if (!this.warned) this.onError(err);
      this.warned = true;
      return this.local.hit(key);
    }
    const [n, ttl] = reply as [number, number];
    if (n > this.limit) throw limited(this.what, ttl);
  }
}

// Drop the attempts that left the window, then admit when fewer than ARGV[2] remain; ARGV[3] =
// '1' counts the admitted attempt (ARGV[4] makes its member unique). Time is Redis's own clock,
// so nodes with skewed clocks still agree on the window. Answers [admitted 0|1, ms until the
// oldest attempt leaves the window].
const SLIDING_WINDOW_LUA = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local win = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - win)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + win - now}
end
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[1], now, now .. ':' .. ARGV[4])
  redis.call('PEXPIRE', KEYS[1], win)
end
return {1, 0}`;

/**
 * Sliding window shared by every node through Redis: a sorted set per key holding at most
 * `limit` attempt times (refusals are not stored), expiring one window after the last attempt;
 * one atomic EVAL per check or hit. Meant for sign-in and sign-up, which cost an argon2 hash
 * anyway, so the round trip does not matter. Like RedisFixedWindowLimiter it falls back to its
 * in-memory twin (per node) while Redis is not ready or a call fails, and reports the first
 * failure through onError.
 */
export class RedisSlidingWindowLimiter implements SlidingWindow {
  private readonly local: SlidingWindowLimiter;
  private readonly node = randomBytes(6).toString('hex');
  private seq = 0;
  private warned = false;

  constructor(
    private readonly redis: RedisEval,
    private readonly prefix: string,
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.local = new SlidingWindowLimiter(limit, windowMs);
  }

  check(key: string): Promise<void> {
    return this.run(key, false);
  }

  hit(key: string): Promise<void> {
    return this.run(key, true);
  }

  private async run(key: string, count: boolean): Promise<void> {
    if (!this.redis.isReady) return count ? this.local.hit(key) : this.local.check(key);
    let reply: unknown;
    try {
      reply = await this.redis.eval(SLIDING_WINDOW_LUA, {
        keys: [this.prefix + key],
        arguments: [String(this.windowMs), String(this.limit), count ? '1' : '0', `${this.node}.${++this.seq}`],
      });
    } catch (err) {
      if (!this.warned) this.onError(err);
      this.warned = true;
      return count ? this.local.hit(key) : this.local.check(key);
    }
    const [admitted, retryMs] = reply as [number, number];
    if (!admitted) throw limited('too many attempts', retryMs);
  }
}
