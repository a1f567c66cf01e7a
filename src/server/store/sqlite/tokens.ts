import type { TokenStore } from '../store.js';
import type { Invite, RefreshToken, RotateResult, SuccessorToken } from '../types.js';
import { lazy, SqliteModule } from './db.js';
import { toInvite, toToken, type InviteRow, type TokenRow } from './rows.js';

// Atomicity: rotate, revokeFamily and revokeUser each run as one IMMEDIATE transaction (the
// write lock is taken before the first read), so no two of them interleave, in this process or
// another one on the same file.
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
    revokeUser: this.db
      .prepare('UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL RETURNING family_id')
      .pluck(),
    revokedSince: this.db.prepare('SELECT DISTINCT family_id AS familyId, user_id AS userId FROM refresh_tokens WHERE revoked_at >= ?'),
    insertInvite: this.db.prepare(
      `INSERT INTO invites (id, token_hash, created_by, created_at, expires_at, max_uses, uses)
       VALUES (@id, @tokenHash, @createdBy, @createdAt, @expiresAt, @maxUses, 0) RETURNING *`,
    ),
    useInvite: this.db.prepare(
      'UPDATE invites SET uses = uses + 1 WHERE token_hash = ? AND expires_at > ? AND uses < max_uses RETURNING *',
    ),
    releaseInvite: this.db.prepare('UPDATE invites SET uses = uses - 1 WHERE id = ? AND uses > 0'),
  }));

  private readonly rotateTx = lazy(() =>
    this.db.transaction((tokenHash: string, s: SuccessorToken, at: string): RotateResult => {
      const row = this.q().byHash.get(tokenHash) as TokenRow | undefined;
      if (!row) return { outcome: 'unknown' };
      const token = toToken(row);
      if (token.revokedAt) return { outcome: 'revoked', token };
      if (token.expiresAt <= at) return { outcome: 'expired', token };
      if (token.usedAt) {
        this.q().revokeFamily.run(at, token.familyId);
        return { outcome: 'reused', token };
      }
      this.q().markUsed.run(at, token.id);
      this.q().insert.run({
        id: s.id,
        userId: token.userId,
        familyId: token.familyId,
        tokenHash: s.tokenHash,
        expiresAt: s.expiresAt,
        createdAt: s.createdAt,
      });
      return { outcome: 'rotated', token };
    }),
  );

  private readonly revokeUserTx = lazy(() =>
    this.db.transaction((userId: string, at: string) => [...new Set(this.q().revokeUser.all(at, userId) as string[])].sort()),
  );

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

  async rotate(tokenHash: string, successor: SuccessorToken, at: string): Promise<RotateResult> {
    return this.rotateTx().immediate(tokenHash, successor, at);
  }

  async revokeFamily(familyId: string, at: string): Promise<number> {
    return this.q().revokeFamily.run(at, familyId).changes;
  }

  async revokeUser(userId: string, at: string): Promise<string[]> {
    return this.revokeUserTx().immediate(userId, at);
  }

  async revokedSince(since: string): Promise<{ familyId: string; userId: string }[]> {
    return this.q().revokedSince.all(since) as { familyId: string; userId: string }[];
  }

  async createInvite(i: Omit<Invite, 'uses'>): Promise<Invite> {
    return toInvite(this.q().insertInvite.get({ ...i }) as InviteRow);
  }

  async useInvite(tokenHash: string, at: string): Promise<Invite | undefined> {
    const row = this.q().useInvite.get(tokenHash, at) as InviteRow | undefined;
    return row && toInvite(row);
  }

  async releaseInvite(id: string): Promise<void> {
    this.q().releaseInvite.run(id);
  }
}
