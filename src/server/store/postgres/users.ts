import type pg from 'pg';
import { AppError } from '../../errors.js';
import type { UserStore } from '../store.js';
import type { NewUser, User, UserPatch, UserWithSecret } from '../types.js';
import { likeEscape, mapUniqueViolation, tx } from './db.js';
import { pageLimit } from '../paging.js';
import { toUser, toUserWithSecret, USER_COLS, type UserRow } from './rows.js';

/** Serialises "is this the first account?" decisions (advisory lock key, any constant). */
const FIRST_USER_LOCK = 0x6e636801;

export class PostgresUsers implements UserStore {
  constructor(private readonly pool: pg.Pool) {}

  async create(input: NewUser): Promise<User> {
    const values = [input.id, input.username, input.email, input.displayName, input.passwordHash, input.createdAt];
    try {
      if (input.role && !input.onlyIfFirst) {
        const r = await this.pool.query<UserRow>(
          `INSERT INTO users AS u (id, username, email, display_name, password_hash, role, created_at)
           VALUES ($1, $2, $3, $4, $5, $7, $6) RETURNING ${USER_COLS}`,
          [...values, input.role],
        );
        return toUser(r.rows[0]);
      }
      // Two first sign-ups at once must not both become owner: the lock is taken in its own
      // statement so the insert's snapshot (READ COMMITTED) sees any user committed before.
      // onlyIfFirst (invite mode) inserts nothing once any user exists.
      const row = await tx(this.pool, async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [FIRST_USER_LOCK]);
        const r = await c.query<UserRow>(
          input.onlyIfFirst
            ? `INSERT INTO users AS u (id, username, email, display_name, password_hash, role, created_at)
               SELECT $1, $2, $3, $4, $5, 'owner', $6 WHERE NOT EXISTS (SELECT 1 FROM users)
               RETURNING ${USER_COLS}`
            : `INSERT INTO users AS u (id, username, email, display_name, password_hash, role, created_at)
               SELECT $1, $2, $3, $4, $5,
                      CASE WHEN EXISTS (SELECT 1 FROM users) THEN 'member' ELSE 'owner' END, $6
               RETURNING ${USER_COLS}`,
          values,
        );
        return r.rows[0];
      });
      if (!row) throw new AppError('INVITE_REQUIRED', 'sign-up needs an invite: ask a workspace admin');
      return toUser(row);
    } catch (err) {
      mapUniqueViolation(err);
    }
  }

  async get(id: string): Promise<User | undefined> {
    const r = await this.pool.query<UserRow>({
      name: 'nchat_user_get',
      text: `SELECT ${USER_COLS} FROM users u WHERE u.id = $1`,
      values: [id],
    });
    return r.rows[0] ? toUser(r.rows[0]) : undefined;
  }

  async getMany(ids: string[]): Promise<User[]> {
    if (ids.length === 0) return [];
    const r = await this.pool.query<UserRow>(`SELECT ${USER_COLS} FROM users u WHERE u.id = ANY($1::text[]) ORDER BY u.id`, [ids]);
    return r.rows.map(toUser);
  }

  async getByLogin(login: string): Promise<UserWithSecret | undefined> {
    // Email first, then username: an email can never look like a username (no '@' allowed there),
    // but the order is stated by the contract, so keep it explicit.
    const r = await this.pool.query<UserRow>(
      `SELECT ${USER_COLS}, u.password_hash, 0 AS pri FROM users u WHERE lower(u.email) = lower($1)
       UNION ALL
       SELECT ${USER_COLS}, u.password_hash, 1 AS pri FROM users u WHERE lower(u.username) = lower($1)
       ORDER BY pri LIMIT 1`,
      [login],
    );
    return r.rows[0] ? toUserWithSecret(r.rows[0]) : undefined;
  }

  async getByUsernames(usernames: string[]): Promise<User[]> {
    if (usernames.length === 0) return [];
    const r = await this.pool.query<UserRow>(
      `SELECT ${USER_COLS} FROM users u WHERE lower(u.username) = ANY($1::text[]) ORDER BY u.username`,
      [usernames.map((n) => String(n).toLowerCase())],
    );
    return r.rows.map(toUser);
  }

  async search(prefix: string, limit: number, after?: string): Promise<User[]> {
    const pattern = likeEscape(String(prefix).toLowerCase()) + '%';
    const r = await this.pool.query<UserRow>(
      `SELECT ${USER_COLS} FROM users u
       WHERE (lower(u.username) LIKE $1 ESCAPE '\\' OR lower(u.display_name) LIKE $1 ESCAPE '\\')
         AND ($2::text IS NULL OR u.username > $2)
       ORDER BY u.username LIMIT $3`,
      [pattern, after ?? null, pageLimit('users', limit)],
    );
    return r.rows.map(toUser);
  }

  async update(id: string, patch: UserPatch): Promise<User | undefined> {
    const sets: string[] = [];
    const values: unknown[] = [id];
    const set = (col: string, v: unknown) => {
      values.push(v);
      sets.push(`${col} = $${values.length}`);
    };
    if (patch.displayName !== undefined) set('display_name', patch.displayName);
    if (patch.status !== undefined) set('status', patch.status);
    if (patch.avatarFileId !== undefined) set('avatar_file_id', patch.avatarFileId);
    if (patch.role !== undefined) set('role', patch.role);
    if (sets.length === 0) return this.get(id);
    const r = await this.pool.query<UserRow>(`UPDATE users u SET ${sets.join(', ')} WHERE u.id = $1 RETURNING ${USER_COLS}`, values);
    return r.rows[0] ? toUser(r.rows[0]) : undefined;
  }

  async setDeactivated(id: string, at: string | null): Promise<User | undefined> {
    const r = await this.pool.query<UserRow>(`UPDATE users u SET deactivated_at = $2 WHERE u.id = $1 RETURNING ${USER_COLS}`, [id, at]);
    return r.rows[0] ? toUser(r.rows[0]) : undefined;
  }

  async count(): Promise<number> {
    const r = await this.pool.query<{ n: number }>('SELECT count(*) AS n FROM users');
    return Number(r.rows[0].n);
  }

  async isAvatar(fileId: string): Promise<boolean> {
    const r = await this.pool.query('SELECT 1 FROM users WHERE avatar_file_id = $1 LIMIT 1', [fileId]);
    return r.rowCount !== null && r.rowCount > 0;
  }
}
