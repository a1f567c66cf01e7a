import type pg from 'pg';
import type { TokenStore } from '../store.js';
import type { Invite, RefreshToken, RotateResult, SuccessorToken } from '../types.js';
import { tx } from './db.js';
import { toInvite, toToken, type InviteRow, type TokenRow } from './rows.js';

const TOKEN_COLS = 'id, user_id, family_id, token_hash, expires_at, used_at, revoked_at, created_at';
/**
 * Advisory-lock namespace of refresh-token families: pg_advisory_xact_lock(FAMILY_LOCK, hashtext(family)).
 * Why a lock and not only row locks: a revocation is one UPDATE over the family's rows, and under
 * READ COMMITTED it does not see a successor that a concurrent rotation inserts while it waits;
 * the family lock makes rotate and revoke of one family strictly one after the other, and the
 * later statement then sees everything the earlier transaction committed. A hash collision
 * between two families only makes them wait for each other.
 */
const FAMILY_LOCK = 0x6e636802;
const lockFamily = (c: pg.PoolClient, familyId: string) =>
  c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [FAMILY_LOCK, familyId]);

export class PostgresTokens implements TokenStore {
  constructor(private readonly pool: pg.Pool) {}

  async create(t: Omit<RefreshToken, 'usedAt' | 'revokedAt'>): Promise<void> {
    await this.pool.query(
      `INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [t.id, t.userId, t.familyId, t.tokenHash, t.expiresAt, t.createdAt],
    );
  }

  async findByHash(tokenHash: string): Promise<RefreshToken | undefined> {
    const r = await this.pool.query<TokenRow>(`SELECT ${TOKEN_COLS} FROM refresh_tokens WHERE token_hash = $1`, [tokenHash]);
    return r.rows[0] ? toToken(r.rows[0]) : undefined;
  }

  /** Compare-and-set: of several concurrent callers exactly one sees true (row lock + re-check). */
  async markUsed(id: string, at: string): Promise<boolean> {
    const r = await this.pool.query('UPDATE refresh_tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL', [id, at]);
    return (r.rowCount ?? 0) === 1;
  }

  /**
   * One round trip: public.nchat_token_rotate (token-migration.ts) takes FAMILY_LOCK and reads
   * the token again under it, as revokeFamily's transaction does, then marks it used and inserts
   * the successor, or revokes the family on reuse.
   */
  async rotate(tokenHash: string, s: SuccessorToken, at: string): Promise<RotateResult> {
    const r = await this.pool.query<TokenRow & { outcome: RotateResult['outcome'] }>({
      name: 'nchat_token_rotate',
      text: `SELECT outcome, ${TOKEN_COLS} FROM public.nchat_token_rotate($1, $2, $3, $4, $5, $6)`,
      values: [tokenHash, s.id, s.tokenHash, s.expiresAt, s.createdAt, at],
    });
    const row = r.rows[0];
    if (!row || row.outcome === 'unknown') return { outcome: 'unknown' };
    return { outcome: row.outcome, token: toToken(row) };
  }

  async revokeFamily(familyId: string, at: string): Promise<number> {
    return tx(this.pool, async (c) => {
      await lockFamily(c, familyId);
      const r = await c.query('UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL', [familyId, at]);
      return r.rowCount ?? 0;
    });
  }

  async revokeUser(userId: string, at: string): Promise<string[]> {
    return tx(this.pool, async (c) => {
      const fams = await c.query<{ family_id: string }>(
        'SELECT DISTINCT family_id FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY family_id',
        [userId],
      );
      // Locks in one global order (sorted ids); rotate takes only one, so this cannot deadlock.
      for (const f of fams.rows) await lockFamily(c, f.family_id);
      const r = await c.query<{ family_id: string }>(
        'UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL RETURNING family_id',
        [userId, at],
      );
      return [...new Set(r.rows.map((x) => x.family_id))].sort();
    });
  }

  async revokedSince(since: string): Promise<{ familyId: string; userId: string }[]> {
    const r = await this.pool.query<{ family_id: string; user_id: string }>(
      'SELECT DISTINCT family_id, user_id FROM refresh_tokens WHERE revoked_at >= $1',
      [since],
    );
    return r.rows.map((x) => ({ familyId: x.family_id, userId: x.user_id }));
  }

  async createInvite(i: Omit<Invite, 'uses'>): Promise<Invite> {
    const r = await this.pool.query<InviteRow>(
      `INSERT INTO invites (id, token_hash, created_by, created_at, expires_at, max_uses) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [i.id, i.tokenHash, i.createdBy, i.createdAt, i.expiresAt, i.maxUses],
    );
    return toInvite(r.rows[0]);
  }

  /** One UPDATE: the row lock plus re-check of `uses < max_uses` makes concurrent uses exact. */
  async useInvite(tokenHash: string, at: string): Promise<Invite | undefined> {
    const r = await this.pool.query<InviteRow>(
      'UPDATE invites SET uses = uses + 1 WHERE token_hash = $1 AND expires_at > $2 AND uses < max_uses RETURNING *',
      [tokenHash, at],
    );
    return r.rows[0] ? toInvite(r.rows[0]) : undefined;
  }

  async releaseInvite(id: string): Promise<void> {
    await this.pool.query('UPDATE invites SET uses = uses - 1 WHERE id = $1 AND uses > 0', [id]);
  }
}
