// Password-guessing limits for sign-in that an attacker cannot turn into a lock-out of the owner.
//
// Policy (windows of 15 minutes), with ip = ipKey(client
// address) (IPv6 by /64) and account = the RESOLVED account id (so username, email and any case
// of them hit one counter; an unknown login counts under `?<login>` so it behaves exactly like
// an account and does not reveal whether one exists):
//  1. per ip: every sign-in and sign-up attempt counts; over signinLimitPerIp → 429.
//  2. per (account, ip): failures count; at signinLimitPerAccountIp → 429 for this ip on this
//     account (guessing from one address stops early; other addresses are unaffected).
//  3. per account: failures from every ip count; at signinLimitPerAccount:
//     - an ip that signed in to this account successfully in the last 30 days (remembered, at
//       most 8 per account) is only slowed down: each attempt waits
//       SLOWDOWN_MS before the password is checked. The owner keeps access while someone else
//       fails with their username from elsewhere.
//     - any other ip gets 429 (a distributed guesser is stopped at the account limit).
// Checks run before the password is verified and only failures count (2 and 3), so a user who
// signs in often is never limited by their own successes. A success remembers the ip as good.
// Limits are lifted by the load-test allowance.
//
// Where the counts live: by default in this process (each node counts its own share: with N
// nodes and no Redis a guesser gets N times the allowance). With NCHAT_REDIS_URL,
// services/shared-limits.ts gives the guard a Redis backend: every counter and the known-good
// ips are shared by all nodes, so the 6th failure is refused on whichever node it reaches, and
// an owner known on one node is known on all. While Redis is unreachable each piece falls back
// to this node's memory (fail open to per-node limits, logged), as the write limits do.
import { AppError } from '../errors.js';
import { ipKey, type RedisEval, type SlidingWindow, SlidingWindowLimiter } from '../lib/rate-limit.js';

const WINDOW_MS = 15 * 60_000;
export const SLOWDOWN_MS = 1000;
const GOOD_IP_TTL_MS = 30 * 86_400_000;
const GOOD_IPS_PER_ACCOUNT = 8;
const MAX_ACCOUNTS_REMEMBERED = 100_000;

export interface SigninLimits {
  perIp: number;
  perAccount: number;
  perAccountIp: number;
}

/**
 * The ips that signed in to an account successfully within GOOD_IP_TTL_MS, at most
 * GOOD_IPS_PER_ACCOUNT per account (the oldest is forgotten first).
 */
export interface KnownIps {
  remember(account: string, ipk: string, now: number): void | Promise<void>;
  isKnown(account: string, ipk: string, now: number): boolean | Promise<boolean>;
}

/** Where a guard keeps its counts: `window(name, …)` makes the counter called `name`. */
export interface SigninGuardBackend {
  window(name: 'ip' | 'account' | 'account-ip', limit: number, windowMs: number): SlidingWindow;
  knownIps: KnownIps;
}

/** This process's memory (the default; exact for one node). */
export const memoryBackend = (): SigninGuardBackend => ({
  window: (_name, limit, windowMs) => new SlidingWindowLimiter(limit, windowMs),
  knownIps: new MemoryKnownIps(),
});

export class SigninGuard {
  private readonly perIp: SlidingWindow;
  private readonly perAccount: SlidingWindow;
  private readonly perAccountIp: SlidingWindow;
  private readonly knownIps: KnownIps;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    readonly limits: SigninLimits,
    opts: { backend?: SigninGuardBackend; sleep?: (ms: number) => Promise<void> } = {},
  ) {
    const backend = opts.backend ?? memoryBackend();
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.perIp = backend.window('ip', limits.perIp, WINDOW_MS);
    this.perAccount = backend.window('account', limits.perAccount, WINDOW_MS);
    this.perAccountIp = backend.window('account-ip', limits.perAccountIp, WINDOW_MS);
    this.knownIps = backend.knownIps;
  }

  /** Counts one attempt (sign-in or sign-up) from this client address. */
  async hitIp(ip: string): Promise<void> {
    await this.perIp.hit(ipKey(ip));
  }

  /** The account key of a login: the resolved id, or a per-login key for an unknown login. */
  static accountKey(accountId: string | undefined, login: string): string {
    return accountId ?? `?${login.toLowerCase()}`;
  }

  /** Before the password check: throws RATE_LIMITED, or waits SLOWDOWN_MS (see the policy above). */
  async admit(account: string, ip: string): Promise<void> {
    const k = ipKey(ip);
    await this.perAccountIp.check(`${account}|${k}`);
    try {
      await this.perAccount.check(account);
    } catch (err) {
      if (!(err instanceof AppError) || !(await this.knownIps.isKnown(account, k, Date.now()))) throw err;
      await this.sleep(SLOWDOWN_MS);
    }
  }

  async failed(account: string, ip: string): Promise<void> {
    const k = ipKey(ip);
    await Promise.all([this.count(this.perAccountIp, `${account}|${k}`), this.count(this.perAccount, account)]);
  }

  async succeeded(account: string, ip: string, now = Date.now()): Promise<void> {
    await this.knownIps.remember(account, ipKey(ip), now);
  }

  /** Counts a failure without throwing (the caller already answers INVALID_CREDENTIALS). */
  private async count(l: SlidingWindow, key: string): Promise<void> {
    try {
      await l.hit(key);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
    }
  }
}

/** Known ips in this process's memory, bounded by MAX_ACCOUNTS_REMEMBERED accounts. */
export class MemoryKnownIps implements KnownIps {
  /** account → (ip key → last successful sign-in, ms), each inner Map oldest first. */
  private readonly byAccount = new Map<string, Map<string, number>>();

  remember(account: string, ipk: string, now: number): void {
    let ips = this.byAccount.get(account);
    if (!ips) {
      if (this.byAccount.size >= MAX_ACCOUNTS_REMEMBERED) this.byAccount.clear(); // bounded memory
      this.byAccount.set(account, (ips = new Map()));
    }
    ips.delete(ipk);
    ips.set(ipk, now); // re-insert: Map order is oldest first
    while (ips.size > GOOD_IPS_PER_ACCOUNT) ips.delete(ips.keys().next().value!);
  }

  isKnown(account: string, ipk: string, now: number): boolean {
    const at = this.byAccount.get(account)?.get(ipk);
    return at !== undefined && now - at < GOOD_IP_TTL_MS;
  }
}

// HSET the ip's time, forget the oldest ip past ARGV[3], keep the hash GOOD_IP_TTL_MS after the
// last success.
const REMEMBER_LUA = `redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('HLEN', KEYS[1]) > tonumber(ARGV[3]) then
  local all = redis.call('HGETALL', KEYS[1])
  local oldest, at = nil, nil
  for i = 1, #all, 2 do
    local t = tonumber(all[i + 1])
    if at == nil or t < at then oldest, at = all[i], t end
  end
  redis.call('HDEL', KEYS[1], oldest)
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;
const KNOWN_LUA = `return redis.call('HGET', KEYS[1], ARGV[1])`;

/**
 * Known ips shared through Redis: one hash per account (ip key → ms of the last success). This
 * node's memory is written too and asked first, so a success seen here still counts while Redis
 * is unreachable; a Redis failure answers "not known" (the caller then refuses rather than slows
 * down, the same answer as without this memory).
 */
export class RedisKnownIps implements KnownIps {
  private readonly local = new MemoryKnownIps();
  private warned = false;

  constructor(
    private readonly redis: RedisEval,
    private readonly prefix: string,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  async remember(account: string, ipk: string, now: number): Promise<void> {
    this.local.remember(account, ipk, now);
    if (!this.redis.isReady) return;
    await this.redis
      .eval(REMEMBER_LUA, {
        keys: [this.prefix + account],
        arguments: [ipk, String(now), String(GOOD_IPS_PER_ACCOUNT), String(GOOD_IP_TTL_MS)],
      })
      .catch((err: unknown) => this.failed(err));
  }

  async isKnown(account: string, ipk: string, now: number): Promise<boolean> {
    if (this.local.isKnown(account, ipk, now)) return true;
    if (!this.redis.isReady) return false;
    try {
      const at = await this.redis.eval(KNOWN_LUA, { keys: [this.prefix + account], arguments: [ipk] });
      return typeof at === 'string' && now - Number(at) < GOOD_IP_TTL_MS;
    } catch (err) {
      this.failed(err);
      return false;
    }
  }

  private failed(err: unknown): void {
    if (!this.warned) this.onError(err);
    this.warned = true;
  }
}
