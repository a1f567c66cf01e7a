// Accounts and sessions: argon2id passwords, short-lived JWT access tokens (HS256, issuer and
// audience pinned) and rotating refresh tokens stored as SHA-256 hashes. Presenting a refresh
// token that was already rotated means it leaked: the whole family is revoked.
import { createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { hash as argonHash, verify as argonVerify, Algorithm } from '@node-rs/argon2';
import { SignJWT } from 'jose';
import { verifyHs256 } from './jwt-hs256.js';
import { AppError } from '../errors.js';
import { newId } from '../ids.js';
import type { Role, User } from '../store/types.js';
import type { Actor, ServiceDeps } from './context.js';
import { isWorkspaceAdmin } from './context.js';
import { SlidingWindowLimiter } from './rate-limit.js';
import type { BulkUsersBody, SigninBody, SignupBody } from '../../protocol/rest.js';

const ISSUER = 'nchat';
const AUDIENCE = 'nchat';
const WINDOW_MS = 15 * 60_000;
/** How long a node trusts its cached copy of a user's workspace role. */
const ROLE_TTL_MS = 5_000;

export interface Session {
  user: User;
  accessToken: string;
  refreshToken: string;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** A hash of a random password, computed once, so sign-in for an unknown login costs the same time. */
let decoyHash: Promise<string> | undefined;

export class AuthService {
  private readonly key: KeyObject;
  private readonly perIp: SlidingWindowLimiter;
  private readonly perAccount: SlidingWindowLimiter;

  constructor(
    private readonly deps: ServiceDeps,
    secret: string,
  ) {
    // A KeyObject, not raw bytes: jose would otherwise re-import the raw key on every verify.
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
    const unlimited = deps.config.loadtestAllowance;
    this.perIp = new SlidingWindowLimiter(unlimited ? Number.MAX_SAFE_INTEGER : deps.config.signinLimitPerIp, WINDOW_MS);
    this.perAccount = new SlidingWindowLimiter(unlimited ? Number.MAX_SAFE_INTEGER : deps.config.signinLimitPerAccount, WINDOW_MS);
  }

  private hashPassword(pw: string): Promise<string> {
    return argonHash(pw, { algorithm: Algorithm.Argon2id, memoryCost: this.deps.config.argon2MemoryKiB, timeCost: 2, parallelism: 1 });
  }

  async signup(body: SignupBody, ip: string): Promise<Session> {
    this.perIp.hit(ip);
    const user = await this.createUser(body);
    return this.issue(user, newId());
  }

  /** Workspace owner/admin creates many accounts at once (load-test and migration setup). */
  async bulkCreate(actor: Actor, body: BulkUsersBody): Promise<Session[]> {
    if (!isWorkspaceAdmin(actor)) throw new AppError('FORBIDDEN', 'only workspace owners and admins can create accounts in bulk');
    const out: Session[] = [];
    for (const u of body.users) out.push(await this.issue(await this.createUser(u, 'member'), newId()));
    return out;
  }

  private async createUser(body: SignupBody, role?: 'member'): Promise<User> {
    const now = this.deps.now().toISOString();
    return this.deps.store.users.create({
      id: newId(),
      username: body.username.toLowerCase(),
      email: body.email.toLowerCase(),
      displayName: body.displayName ?? body.username,
      passwordHash: await this.hashPassword(body.password),
      role,
      createdAt: now,
    });
  }

  async signin(body: SigninBody, ip: string): Promise<Session> {
    const login = body.login.toLowerCase();
    this.perIp.hit(ip);
    this.perAccount.check(login);
    const found = await this.deps.store.users.getByLogin(login);
    decoyHash ??= this.hashPassword(randomBytes(16).toString('hex'));
    const ok = await argonVerify(found?.passwordHash ?? (await decoyHash), body.password).catch(() => false);
    if (!found || !ok) {
      // Only failures count against the account, so a user who signs in often is never locked out.
      this.perAccount.hit(login);
      throw new AppError('INVALID_CREDENTIALS', 'wrong login or password');
    }
    const { passwordHash: _omit, ...user } = found;
    return this.issue(user, newId());
  }

  async refresh(refreshToken: string): Promise<{ accessToken: string; refreshToken: string }> {
    const at = this.deps.now();
    const row = await this.deps.store.tokens.findByHash(sha256(refreshToken));
    if (!row || row.revokedAt) throw new AppError('TOKEN_INVALID', 'refresh token is not valid');
    if (new Date(row.expiresAt) <= at) throw new AppError('TOKEN_EXPIRED', 'refresh token expired');
    const spent = !(await this.deps.store.tokens.markUsed(row.id, at.toISOString()));
    if (spent) {
      await this.deps.store.tokens.revokeFamily(row.familyId, at.toISOString());
      this.deps.logger.warn({ userId: row.userId, familyId: row.familyId }, 'refresh token reused: family revoked');
      throw new AppError('REFRESH_REUSED', 'refresh token was already used; every session of this sign-in is revoked');
    }
    const user = await this.deps.store.users.get(row.userId);
    if (!user) throw new AppError('TOKEN_INVALID', 'refresh token is not valid');
    const s = await this.issue(user, row.familyId);
    return { accessToken: s.accessToken, refreshToken: s.refreshToken };
  }

  /** Revokes the sign-in the token belongs to. Unknown tokens are accepted silently (idempotent). */
  async signout(refreshToken: string): Promise<void> {
    const row = await this.deps.store.tokens.findByHash(sha256(refreshToken));
    if (row) await this.deps.store.tokens.revokeFamily(row.familyId, this.deps.now().toISOString());
  }

  /**
   * The token proves who the caller is; the role comes from the store (cached for ROLE_TTL_MS per
   * node), so a demotion (member → guest) takes effect within seconds, not at token expiry.
   */
  async verifyAccessToken(token: string): Promise<Actor> {
    const r = verifyHs256(token, this.key, ISSUER, AUDIENCE);
    if (!r.ok) throw r.expired ? new AppError('TOKEN_EXPIRED', 'access token expired') : new AppError('TOKEN_INVALID', 'access token is not valid');
    const { sub, role: claimedRole } = r.payload;
    if (typeof sub !== 'string' || typeof claimedRole !== 'string') throw new AppError('TOKEN_INVALID', 'access token is not valid');
    const userId = sub;
    const role = await this.currentRole(userId);
    if (!role) throw new AppError('TOKEN_INVALID', 'access token is not valid');
    return { userId, role };
  }

  private readonly roles = new Map<string, { role: Role; at: number }>();

  private async currentRole(userId: string): Promise<Role | undefined> {
    const now = Date.now();
    const hit = this.roles.get(userId);
    if (hit && now - hit.at < ROLE_TTL_MS) return hit.role;
    const user = await this.deps.store.users.get(userId);
    if (!user) return undefined;
    if (this.roles.size >= 200_000) this.roles.clear(); // bounded memory; a refill costs one query per user
    this.roles.set(userId, { role: user.role, at: now });
    return user.role;
  }

  /** Called after a role change on this node so it applies at once here (other nodes: within ROLE_TTL_MS). */
  forgetRole(userId: string): void {
    this.roles.delete(userId);
  }

  private async issue(user: User, familyId: string): Promise<Session> {
    const now = this.deps.now();
    const accessToken = await new SignJWT({ role: user.role })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(Math.floor(now.getTime() / 1000))
      .setExpirationTime(Math.floor(now.getTime() / 1000) + this.deps.config.accessTokenTtlSec)
      .sign(this.key);
    const refreshToken = randomBytes(32).toString('base64url');
    await this.deps.store.tokens.create({
      id: newId(),
      userId: user.id,
      familyId,
      tokenHash: sha256(refreshToken),
      expiresAt: new Date(now.getTime() + this.deps.config.refreshTokenTtlSec * 1000).toISOString(),
      createdAt: now.toISOString(),
    });
    return { user, accessToken, refreshToken };
  }
}
