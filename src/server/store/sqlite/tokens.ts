import type { TokenStore } from '../store.js';
import type { RefreshToken } from '../types.js';
import { lazy, SqliteModule } from './db.js';
import { toToken, type TokenRow } from './rows.js';

export class SqliteTokens extends SqliteModule implements TokenStore {
  private readonly q = lazy(() => ({
    insert: this.db.prepare(
      `INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, used_at, revoked_at, created_at)
       VALUES (@id, @userId, @familyId, @tokenHash, @expiresAt, NULL, NULL, @createdAt)`,
    ),
    byHash: this.db.prepare('SELECT * FROM refresh_tokens WHERE token_hash = ?'),
    // Compare-and-set: only the caller whose UPDATE sees used_at IS NULL gets a row changed.
    markUsed: this.db.prepare('UPDATE refresh_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL'),
    revokeFamily: this.db.prepare('UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL'),
  }));

  async create(t: Omit<RefreshToken, 'usedAt' | 'revokedAt'>): Promise<void> {
    this.q().insert.run({
      id: t.id,
      userId: t.userId,
      familyId: t.familyId,
      tokenHash: t.tokenHash,
      expiresAt: t.expiresAt,
      createdAt: t.createdAt,
    });
  }

  async findByHash(tokenHash: string): Promise<RefreshToken | undefined> {
    const row = this.q().byHash.get(tokenHash) as TokenRow | undefined;
    return row && toToken(row);
  }

  async markUsed(id: string, at: string): Promise<boolean> {
    return this.q().markUsed.run(at, id).changes === 1;
  }

  async revokeFamily(familyId: string, at: string): Promise<number> {
    return this.q().revokeFamily.run(at, familyId).changes;
  }
}
