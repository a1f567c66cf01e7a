// Password-guessing limits for sign-in that an attacker cannot turn into a lock-out of the owner.
//
// Policy (windows of 15 minutes, counted per node, see rate-limit.ts), with ip = ipKey(client
// address) (IPv6 by /64) and account = the RESOLVED account id (so username, email and any case
// of them hit one counter; an unknown login counts under `?<login>` so it behaves exactly like
// an account and does not reveal whether one exists):
//  1. per ip: every sign-in and sign-up attempt counts; over signinLimitPerIp → 429.
//  2. per (account, ip): failures count; at signinLimitPerAccountIp → 429 for this ip on this
//     account (guessing from one address stops early; other addresses are unaffected).
//  3. per account: failures from every ip count; at signinLimitPerAccount:
//     - an ip that signed in to this account successfully in the last 30 days (remembered in
//       memory on this node, at most 8 per account) is only slowed down: each attempt waits
//       SLOWDOWN_MS before the password is checked. The owner keeps access while someone else
//       fails with their username from elsewhere.
//     - any other ip gets 429 (a distributed guesser is stopped at the account limit).
// Checks run before the password is verified and only failures count (2 and 3), so a user who
// signs in often is never limited by their own successes. A success remembers the ip as good.
// Limits are lifted by the load-test allowance.
import { AppError } from '../errors.js';
import { ipKey, SlidingWindowLimiter } from '../lib/rate-limit.js';

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

export class SigninGuard {
  private readonly perIp: SlidingWindowLimiter;
  private readonly perAccount: SlidingWindowLimiter;
  private readonly perAccountIp: SlidingWindowLimiter;
  /** account → (ip key → last successful sign-in, ms). */
  private readonly goodIps = new Map<string, Map<string, number>>();

  constructor(
    limits: SigninLimits,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.perIp = new SlidingWindowLimiter(limits.perIp, WINDOW_MS);
    this.perAccount = new SlidingWindowLimiter(limits.perAccount, WINDOW_MS);
    this.perAccountIp = new SlidingWindowLimiter(limits.perAccountIp, WINDOW_MS);
  }

  /** Counts one attempt (sign-in or sign-up) from this client address. */
  hitIp(ip: string): void {
    this.perIp.hit(ipKey(ip));
  }

  /** The account key of a login: the resolved id, or a per-login key for an unknown login. */
  static accountKey(accountId: string | undefined, login: string): string {
    return accountId ?? `?${login.toLowerCase()}`;
  }

  /** Before the password check: throws RATE_LIMITED, or waits SLOWDOWN_MS (see the policy above). */
  async admit(account: string, ip: string): Promise<void> {
    const k = ipKey(ip);
    this.perAccountIp.check(`${account}|${k}`);
    try {
      this.perAccount.check(account);
    } catch (err) {
      if (!this.isGood(account, k)) throw err;
      await this.sleep(SLOWDOWN_MS);
    }
  }

  failed(account: string, ip: string): void {
    const k = ipKey(ip);
    this.count(this.perAccountIp, `${account}|${k}`);
    this.count(this.perAccount, account);
  }

  succeeded(account: string, ip: string, now = Date.now()): void {
    const k = ipKey(ip);
    let ips = this.goodIps.get(account);
    if (!ips) {
      if (this.goodIps.size >= MAX_ACCOUNTS_REMEMBERED) this.goodIps.clear(); // bounded memory
      this.goodIps.set(account, (ips = new Map()));
    }
    ips.delete(k);
    ips.set(k, now); // re-insert: Map order is oldest first
    while (ips.size > GOOD_IPS_PER_ACCOUNT) ips.delete(ips.keys().next().value!);
  }

  private isGood(account: string, k: string, now = Date.now()): boolean {
    const at = this.goodIps.get(account)?.get(k);
    return at !== undefined && now - at < GOOD_IP_TTL_MS;
  }

  /** Counts a failure without throwing (the caller already answers INVALID_CREDENTIALS). */
  private count(l: SlidingWindowLimiter, key: string): void {
    try {
      l.hit(key);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
    }
  }
}
