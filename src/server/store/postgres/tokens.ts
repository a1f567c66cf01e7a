import type pg from 'pg';
import type { TokenStore } from '../store.js';
import type { RefreshToken } from '../types.js';
import { toToken, type TokenRow } from './mappers.js';

export class PgTokenStore implements TokenStore {
  constructor(private readonly pool: pg.Pool) {}

  async create(t: Omit<RefreshToken, 'usedAt' | 'revokedAt'>): Promise<void> {
    await this.pool.query(
      `INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [t.id, t.userId, t.familyId, t.tokenHash, t.expiresAt, t.createdAt],
    );
  }

  async findByHash(tokenHash: string): Promise<RefreshToken | undefined> {
    const r = await this.pool.query<TokenRow>(
      `SELECT id, user_id, family_id, token_hash, expires_at, used_at, revoked_at, created_at
       FROM refresh_tokens WHERE token_hash = $1`,
      [tokenHash],
    );
    return r.rows[0] ? toToken(r.rows[0]) : undefined;
  }

  /** Compare-and-set: of several concurrent callers exactly one sees true (row lock + re-check). */
  async markUsed(id: string, at: string): Promise<boolean> {
    const r = await this.pool.query('UPDATE refresh_tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL', [id, at]);
    return (r.rowCount ?? 0) === 1;
  }

  async revokeFamily(familyId: string, at: string): Promise<number> {
    const r = await this.pool.query(
      'UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL',
      [familyId, at],
    );
    return r.rowCount ?? 0;
  }
}
