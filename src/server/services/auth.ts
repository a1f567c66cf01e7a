// Accounts and sessions: argon2id passwords, short-lived JWT access tokens (HS256, issuer and
// audience pinned) and rotating refresh tokens stored as SHA-256 hashes.
//
// A session is one sign-in: its refresh tokens share a family id, and every access token minted
// for it carries that id as the `sid` claim. Revocation is immediate:
// - sign-out, refresh-token reuse (a rotated token presented again means it leaked) and account
//   deactivation revoke the family in the store and publish `session.revoked` (sessions.ts):
//   every node refuses that sid's access tokens from then on and closes its sockets;
// - rotation is one atomic store step (TokenStore.rotate), so no successor outlives a revocation;
// - role and status come from the store (cached ROLE_TTL_MS per node, dropped on every node at
//   once by `user.changed` when an admin changes them).
import { createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { hash as argonHash, verify as argonVerify, Algorithm } from '@node-rs/argon2';
import { signHs256, verifyHs256 } from '../lib/jwt-hs256.js';
import { VerifiedTokens } from '../lib/verified-tokens.js';
import { AppError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { Role, User } from '../store/types.js';
import type { Actor, ServiceDeps } from './context.js';
import { isWorkspaceAdmin } from './context.js';
import { SessionRegistry } from './sessions.js';
import { SigninGuard } from './signin-guard.js';
import { assertCanManage } from './users.js';
import type { BulkUsersBody, CreateInviteBody, SigninBody, SignupBody } from '../../protocol/rest.js';

const ISSUER = 'nchat';
const AUDIENCE = 'nchat';
/**
 * How long a node trusts its cached copy of a user's role and status. Not what makes a change
 * apply: every change the server makes publishes `user.changed`, which drops the copy on every
 * node at once, and a broker gap drops every copy (sessions.ts). The TTL only bounds a change
 * made behind the server's back (SQL by hand). It was 5 s: a user who sends over REST every few
 * seconds then cost a user read per send (0.17 statements per message in the PostgreSQL
 * messages scenario, 2026-12-02).
 */
const ROLE_TTL_MS = 60_000;

export interface Session {
  user: User;
  accessToken: string;
  refreshToken: string;
}

export interface InviteCreated {
  id: string;
  /** Shown once; only its SHA-256 is stored. */
  token: string;
  expiresAt: string;
  maxUses: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** A hash of a random password, computed once, so sign-in for an unknown login costs the same time. */
let decoyHash: Promise<string> | undefined;

export class AuthService {
  private readonly key: KeyObject;
  /** Access tokens verified on this node (lib/verified-tokens.ts: a hit re-checks expiry only). */
  private readonly verified = new VerifiedTokens();
  /** Sign-in and sign-up limits; per node, replaced by a Redis-shared guard in services/shared-limits.ts. */
  guard: SigninGuard;
  readonly sessions: SessionRegistry;

  constructor(
    private readonly deps: ServiceDeps,
    secret: string,
  ) {
    // A KeyObject, not raw bytes: jose would otherwise re-import the raw key on every verify.
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
    const c = deps.config;
    const lift = (n: number) => (c.loadtestAllowance ? Number.MAX_SAFE_INTEGER : n);
    this.guard = new SigninGuard({
      perIp: lift(c.signinLimitPerIp),
      perAccount: lift(c.signinLimitPerAccount),
      perAccountIp: lift(c.signinLimitPerAccountIp),
    });
    this.sessions = new SessionRegistry({
      store: deps.store,
      broker: deps.broker,
      logger: deps.logger,
      accessTtlMs: c.accessTokenTtlSec * 1000,
      onUserChanged: (userId) => this.users.delete(userId),
      onResync: () => this.users.clear(),
    });
  }

  private hashPassword(pw: string): Promise<string> {
    return argonHash(pw, { algorithm: Algorithm.Argon2id, memoryCost: this.deps.config.argon2MemoryKiB, timeCost: 2, parallelism: 1 });
  }

  /**
   * Open mode: anyone. Invite mode (config.signupMode): the first account (owner) without an
   * invite, decided atomically by the store; every later one needs a valid invite. An invite
   * given in open mode is checked and spent too (one rule: a presented invite must be valid).
   */
  async signup(body: SignupBody, ip: string): Promise<Session> {
    await this.guard.hitIp(ip);
    const at = this.deps.now().toISOString();
    if (body.invite === undefined) {
      const user = await this.createUser(body, undefined, this.deps.config.signupMode === 'invite');
      return this.issue(user, newId());
    }
    const invite = await this.deps.store.tokens.useInvite(sha256(body.invite), at);
    if (!invite) throw new AppError('INVITE_INVALID', 'the invite is unknown, expired or used up');
    let user: User;
    try {
      user = await this.createUser(body, 'member');
    } catch (err) {
      // The account was not created (name or email taken): the use is given back.
      await this.deps.store.tokens.releaseInvite(invite.id);
      throw err;
    }
    return this.issue(user, newId());
  }

  /** Workspace owner/admin creates many accounts at once (load-test and migration setup). */
  async bulkCreate(actor: Actor, body: BulkUsersBody): Promise<Session[]> {
    if (!isWorkspaceAdmin(actor)) throw new AppError('FORBIDDEN', 'only workspace owners and admins can create accounts in bulk');
    const out: Session[] = [];
    for (const u of body.users) out.push(await this.issue(await this.createUser(u, 'member'), newId()));
    return out;
  }

  /** An invite for invite-mode sign-up (workspace owner/admin). */
  async createInvite(actor: Actor, body: CreateInviteBody): Promise<InviteCreated> {
    if (!isWorkspaceAdmin(actor)) throw new AppError('FORBIDDEN', 'only workspace owners and admins can create invites');
    const now = this.deps.now();
    const token = randomBytes(32).toString('base64url');
    const inv = await this.deps.store.tokens.createInvite({
      id: newId(),
      tokenHash: sha256(token),
      createdBy: actor.userId,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + (body.expiresInSec ?? 7 * 86400) * 1000).toISOString(),
      maxUses: body.maxUses ?? 1,
    });
    return { id: inv.id, token, expiresAt: inv.expiresAt, maxUses: inv.maxUses };
  }

  private async createUser(body: Omit<SignupBody, 'invite'>, role?: 'member', onlyIfFirst = false): Promise<User> {
    const now = this.deps.now().toISOString();
    return this.deps.store.users.create({
      id: newId(),
      username: body.username.toLowerCase(),
      email: body.email.toLowerCase(),
      displayName: body.displayName ?? body.username,
      passwordHash: await this.hashPassword(body.password),
      role,
      createdAt: now,
      onlyIfFirst,
    });
  }

  /** Limits: see signin-guard.ts. A deactivated account is told so only after a correct password. */
  async signin(body: SigninBody, ip: string): Promise<Session> {
    const login = body.login.toLowerCase();
    await this.guard.hitIp(ip);
    const found = await this.deps.store.users.getByLogin(login);
    const account = SigninGuard.accountKey(found?.id, login);
    await this.guard.admit(account, ip);
    decoyHash ??= this.hashPassword(randomBytes(16).toString('hex'));
    const ok = await argonVerify(found?.passwordHash ?? (await decoyHash), body.password).catch(() => false);
    if (!found || !ok) {
      // Only failures count against the account, so a user who signs in often is never locked out.
      await this.guard.failed(account, ip);
      throw new AppError('INVALID_CREDENTIALS', 'wrong login or password');
    }
    if (found.deactivatedAt) throw new AppError('ACCOUNT_DEACTIVATED', 'this account is deactivated; ask a workspace admin');
    await this.guard.succeeded(account, ip);
    const { passwordHash: _omit, ...user } = found;
    return this.issue(user, newId());
  }

  async refresh(refreshToken: string): Promise<{ accessToken: string; refreshToken: string }> {
    const now = this.deps.now();
    const next = randomBytes(32).toString('base64url');
    const r = await this.deps.store.tokens.rotate(
      sha256(refreshToken),
      {
        id: newId(),
        tokenHash: sha256(next),
        expiresAt: new Date(now.getTime() + this.deps.config.refreshTokenTtlSec * 1000).toISOString(),
        createdAt: now.toISOString(),
      },
      now.toISOString(),
    );
    switch (r.outcome) {
      case 'unknown':
      case 'revoked':
        throw new AppError('TOKEN_INVALID', 'refresh token is not valid');
      case 'expired':
        throw new AppError('TOKEN_EXPIRED', 'refresh token expired');
      case 'reused':
        this.sessions.revoke(r.token.userId, [r.token.familyId]);
        this.deps.logger.warn({ userId: r.token.userId, familyId: r.token.familyId }, 'refresh token reused: family revoked');
        throw new AppError('REFRESH_REUSED', 'refresh token was already used; every session of this sign-in is revoked');
      case 'rotated':
        break;
    }
    const user = await this.deps.store.users.get(r.token.userId);
    if (!user) throw new AppError('TOKEN_INVALID', 'refresh token is not valid');
    if (user.deactivatedAt) {
      // Deactivation revokes every family; this one was rotated in the same instant: end it too.
      await this.revokeSession(user.id, r.token.familyId);
      throw new AppError('ACCOUNT_DEACTIVATED', 'this account is deactivated; ask a workspace admin');
    }
    return { accessToken: await this.accessToken(user, r.token.familyId), refreshToken: next };
  }

  /** Revokes the sign-in the token belongs to. Unknown tokens are accepted silently (idempotent). */
  async signout(refreshToken: string): Promise<void> {
    const row = await this.deps.store.tokens.findByHash(sha256(refreshToken));
    if (row) await this.revokeSession(row.userId, row.familyId);
  }

  private async revokeSession(userId: string, familyId: string): Promise<void> {
    await this.deps.store.tokens.revokeFamily(familyId, this.deps.now().toISOString());
    this.sessions.revoke(userId, [familyId]);
  }

  /**
   * Deactivate (every session revoked in the store and on every node, sockets closed, sign-in
   * refused) or reactivate (sign-in allowed again; old sessions stay revoked). Same permission
   * rule as role changes. Idempotent.
   */
  async setDeactivated(actor: Actor, id: string, deactivated: boolean): Promise<User> {
    const target = await this.deps.store.users.get(id);
    assertCanManage(actor, id, target);
    const at = this.deps.now().toISOString();
    const updated = await this.deps.store.users.setDeactivated(id, deactivated ? (target.deactivatedAt ?? at) : null);
    if (!updated) throw notFound('user');
    if (deactivated) this.sessions.revoke(id, await this.deps.store.tokens.revokeUser(id, at));
    this.sessions.userChanged(id);
    return updated;
  }

  /**
   * The token proves who the caller is and which session; the session must not be revoked, and
   * role and status come from the store (cached ROLE_TTL_MS per node, dropped on every node by
   * `user.changed`), so a demotion or deactivation applies at once, not at token expiry.
   */
  async verifyAccessToken(token: string): Promise<Actor> {
    const nowSec = Math.floor(Date.now() / 1000);
    let payload = this.verified.get(token, nowSec);
    if (payload === undefined) {
      const r = verifyHs256(token, this.key, ISSUER, AUDIENCE, nowSec);
      if (!r.ok)
        throw r.expired
          ? new AppError('TOKEN_EXPIRED', 'access token expired')
          : new AppError('TOKEN_INVALID', 'access token is not valid');
      payload = r.payload;
      this.verified.set(token, payload);
    }
    const { sub, sid, role: claimedRole } = payload;
    if (typeof sub !== 'string' || typeof claimedRole !== 'string') throw new AppError('TOKEN_INVALID', 'access token is not valid');
    // Tokens minted before sessions existed carry no sid: the client refreshes (TOKEN_EXPIRED path).
    if (typeof sid !== 'string') throw new AppError('TOKEN_EXPIRED', 'access token has no session; refresh it');
    const loading = this.sessions.ready();
    if (loading) await loading;
    // Account status first: a deactivated account's sessions are revoked too, and it should say why.
    const u = await this.currentUser(sub);
    if (!u) throw new AppError('TOKEN_INVALID', 'access token is not valid');
    if (u.deactivated) throw new AppError('ACCOUNT_DEACTIVATED', 'this account is deactivated; ask a workspace admin');
    if (this.sessions.isRevoked(sid)) throw new AppError('TOKEN_INVALID', 'this session was signed out or revoked');
    return { userId: sub, role: u.role, sessionId: sid };
  }

  private readonly users = new Map<string, { role: Role; deactivated: boolean; at: number }>();

  private async currentUser(userId: string): Promise<{ role: Role; deactivated: boolean } | undefined> {
    const now = Date.now();
    const hit = this.users.get(userId);
    if (hit && now - hit.at < ROLE_TTL_MS) return hit;
    const user = await this.deps.store.users.get(userId);
    if (!user) return undefined;
    if (this.users.size >= 200_000) this.users.clear(); // bounded memory; a refill costs one query per user
    const entry = { role: user.role, deactivated: user.deactivatedAt !== null, at: now };
    this.users.set(userId, entry);
    return entry;
  }

  /** Called after a role change: every node drops its cached copy and closes that user's sockets (sessions.ts). */
  forgetRole(userId: string): void {
    this.sessions.userChanged(userId);
  }

  private async accessToken(user: User, sessionId: string): Promise<string> {
    const now = Math.floor(this.deps.now().getTime() / 1000);
    // The claims in the order jose's SignJWT wrote them before (jwt-hs256.test.ts compares).
    return signHs256(
      {
        role: user.role,
        sid: sessionId,
        sub: user.id,
        iss: ISSUER,
        aud: AUDIENCE,
        iat: now,
        exp: now + this.deps.config.accessTokenTtlSec,
      },
      this.key,
    );
  }

  /** A new session (sign-up, sign-in, bulk): its first refresh token and an access token. */
  private async issue(user: User, familyId: string): Promise<Session> {
    const now = this.deps.now();
    const refreshToken = randomBytes(32).toString('base64url');
    await this.deps.store.tokens.create({
      id: newId(),
      userId: user.id,
      familyId,
      tokenHash: sha256(refreshToken),
      expiresAt: new Date(now.getTime() + this.deps.config.refreshTokenTtlSec * 1000).toISOString(),
      createdAt: now.toISOString(),
    });
    return { user, accessToken: await this.accessToken(user, familyId), refreshToken };
  }
}
