import { AppError } from '../../errors.js';
import type { UserStore } from '../store.js';
import type { NewUser, User, UserPatch, UserWithSecret } from '../types.js';
import { lazy, mapUniqueViolation, SqliteModule } from './db.js';
import { pageLimit } from '../paging.js';
import { USER_COLS, toUser, toUserWithSecret, type UserRow } from './rows.js';

/** Escapes LIKE wildcards so a search for "a_b" matches only "a_b…". */
const likePrefix = (s: string) => s.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
/** Unicode-aware case folding for display-name search (see the users table). */
const fold = (s: string) => s.toLowerCase();

export class SqliteUsers extends SqliteModule implements UserStore {
  private readonly q = lazy(() => ({
    // One statement, so "first account becomes owner" is atomic with the insert.
    insert: this.db.prepare(
      `INSERT INTO users (id, username, email, display_name, display_name_fold, password_hash, role, status, avatar_file_id, created_at)
       VALUES (@id, @username, @email, @displayName, @displayNameFold, @passwordHash,
               COALESCE(@role, CASE WHEN EXISTS (SELECT 1 FROM users) THEN 'member' ELSE 'owner' END),
               NULL, NULL, @createdAt)
       RETURNING ${USER_COLS}`,
    ),
    // Invite mode: only the very first account may sign up without an invite (one statement).
    insertFirst: this.db.prepare(
      `INSERT INTO users (id, username, email, display_name, display_name_fold, password_hash, role, status, avatar_file_id, created_at)
       SELECT @id, @username, @email, @displayName, @displayNameFold, @passwordHash, 'owner', NULL, NULL, @createdAt
       WHERE NOT EXISTS (SELECT 1 FROM users)
       RETURNING ${USER_COLS}`,
    ),
    setDeactivated: this.db.prepare(`UPDATE users SET deactivated_at = ? WHERE id = ? RETURNING ${USER_COLS}`),
    get: this.db.prepare(`SELECT ${USER_COLS} FROM users WHERE id = ?`),
    getMany: this.db.prepare(`SELECT ${USER_COLS} FROM users WHERE id IN (SELECT value FROM json_each(?))`),
    byEmail: this.db.prepare(`SELECT ${USER_COLS} FROM users WHERE email = ?`),
    byUsername: this.db.prepare(`SELECT ${USER_COLS} FROM users WHERE username = ?`),
    byUsernames: this.db.prepare(`SELECT ${USER_COLS} FROM users WHERE username IN (SELECT value FROM json_each(?))`),
    search: this.db.prepare(
      `SELECT ${USER_COLS} FROM users
       WHERE (username LIKE @p ESCAPE '\\' OR (display_name_fold >= @fold AND display_name_fold < @foldEnd))
         AND (@after IS NULL OR username > @after)
       ORDER BY username LIMIT @limit`,
    ),
    update: this.db.prepare(
      `UPDATE users SET
         display_name   = CASE WHEN @setDisplayName THEN @displayName ELSE display_name END,
         display_name_fold = CASE WHEN @setDisplayName THEN @displayNameFold ELSE display_name_fold END,
         status         = CASE WHEN @setStatus THEN @status ELSE status END,
         avatar_file_id = CASE WHEN @setAvatar THEN @avatarFileId ELSE avatar_file_id END,
         role           = CASE WHEN @setRole THEN @role ELSE role END
       WHERE id = @id RETURNING ${USER_COLS}`,
    ),
    count: this.db.prepare('SELECT count(*) FROM users').pluck(),
    isAvatar: this.db.prepare('SELECT 1 FROM users WHERE avatar_file_id = ? LIMIT 1').pluck(),
  }));

  async create(input: NewUser): Promise<User> {
    try {
      const row = (input.onlyIfFirst ? this.q().insertFirst : this.q().insert).get({
        id: input.id,
        username: input.username,
        email: input.email,
        displayName: input.displayName,
        displayNameFold: fold(input.displayName),
        passwordHash: input.passwordHash,
        ...(input.onlyIfFirst ? {} : { role: input.role ?? null }),
        createdAt: input.createdAt,
      }) as UserRow | undefined;
      if (!row) throw new AppError('INVITE_REQUIRED', 'sign-up needs an invite: ask a workspace admin');
      return toUser(row);
    } catch (err) {
      mapUniqueViolation(err);
    }
  }

  async get(id: string): Promise<User | undefined> {
    const row = this.q().get.get(id) as UserRow | undefined;
    return row && toUser(row);
  }

  async getMany(ids: string[]): Promise<User[]> {
    if (ids.length === 0) return [];
    return (this.q().getMany.all(JSON.stringify(ids)) as UserRow[]).map(toUser);
  }

  async getByLogin(login: string): Promise<UserWithSecret | undefined> {
    // Columns are NOCASE: equality is case-insensitive. Email first, then username.
    const row = (this.q().byEmail.get(login) ?? this.q().byUsername.get(login)) as UserRow | undefined;
    return row && toUserWithSecret(row);
  }

  async getByUsernames(usernames: string[]): Promise<User[]> {
    if (usernames.length === 0) return [];
    return (this.q().byUsernames.all(JSON.stringify(usernames)) as UserRow[]).map(toUser);
  }

  async search(prefix: string, limit: number, after?: string): Promise<User[]> {
    const f = fold(prefix);
    const rows = this.q().search.all({
      p: likePrefix(prefix),
      fold: f,
      // Upper bound of the prefix range: BINARY collation compares UTF-8 bytes, i.e. code points.
      foldEnd: f + '\u{10FFFF}',
      after: after ?? null,
      limit: pageLimit('users', limit),
    }) as UserRow[];
    return rows.map(toUser);
  }

  async update(id: string, patch: UserPatch): Promise<User | undefined> {
    const row = this.q().update.get({
      id,
      setDisplayName: patch.displayName !== undefined ? 1 : 0,
      displayName: patch.displayName ?? null,
      displayNameFold: patch.displayName !== undefined ? fold(patch.displayName) : null,
      setStatus: patch.status !== undefined ? 1 : 0,
      status: patch.status ?? null,
      setAvatar: patch.avatarFileId !== undefined ? 1 : 0,
      avatarFileId: patch.avatarFileId ?? null,
      setRole: patch.role !== undefined ? 1 : 0,
      role: patch.role ?? null,
    }) as UserRow | undefined;
    return row && toUser(row);
  }

  async setDeactivated(id: string, at: string | null): Promise<User | undefined> {
    const row = this.q().setDeactivated.get(at, id) as UserRow | undefined;
    return row && toUser(row);
  }

  async count(): Promise<number> {
    return this.q().count.get() as number;
  }

  async isAvatar(fileId: string): Promise<boolean> {
    return this.q().isAvatar.get(fileId) !== undefined;
  }
}
