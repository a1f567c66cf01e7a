// Access tokens this node has already verified, so that a client's every request does not redo
// the HMAC, the base64 and the two JSON parses of verifyHs256. Under the API load test those were
// 6.3% of the server's main thread (in-situ profile, 2026-12-02 09:46; a microbenchmark on an
// idle machine had put the verify at ~1%, which is why an earlier attempt was dropped).
//
// Contract:
// - Only a token that verifyHs256 accepted is kept, keyed by its exact string: a hit is the same
//   bytes, so the same signature, header, issuer and audience. Nothing that failed is kept.
// - Expiry is checked again on every hit against the kept `exp` (and a hit past it is dropped),
//   so a cached token expires at the same second an uncached one would.
// - What a token grants beyond its claims (session revoked, account deactivated, role changed)
//   is checked by the caller on every request, cached or not.
// - Memory is bounded: two generations of at most `max` entries; when the newer one is full the
//   older is dropped. A token used in the last generation moves to the newer one on its hit.

export interface VerifiedClaims {
  payload: Record<string, unknown>;
  exp: number;
}

export class VerifiedTokens {
  private young = new Map<string, VerifiedClaims>();
  private old = new Map<string, VerifiedClaims>();

  constructor(private readonly max = 8192) {}

  /** The kept claims of `token` when it was verified and has not expired at `nowSec`. */
  get(token: string, nowSec: number): Record<string, unknown> | undefined {
    let v = this.young.get(token);
    if (v === undefined) {
      v = this.old.get(token);
      if (v === undefined) return undefined;
      this.old.delete(token);
      if (v.exp > nowSec) this.put(token, v);
    }
    if (v.exp <= nowSec) {
      this.young.delete(token);
      return undefined;
    }
    return v.payload;
  }

  /** Keeps a token verifyHs256 accepted; `payload.exp` must be a number (it checked so). */
  set(token: string, payload: Record<string, unknown>): void {
    // Frozen: one object now answers every request that presents this token.
    this.put(token, { payload: Object.freeze(payload), exp: payload.exp as number });
  }

  /** Entries kept, both generations (tests). */
  get size(): number {
    return this.young.size + this.old.size;
  }

  private put(token: string, v: VerifiedClaims): void {
    if (this.young.size >= this.max) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(token, v);
  }
}
