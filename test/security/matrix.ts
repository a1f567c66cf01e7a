// The security matrix (not a test file itself): one entry per route of the OpenAPI document the
// server serves, saying who may call it, what a permitted request looks like, who may not and
// what they get. The test files generate their rows from this table; a route the server serves
// that has no entry here fails authn.test.ts, and docs/SECURITY.md's matrix section is checked
// against it (doc.test.ts).
//
// Expectations follow docs/API.md: private resources answer 404 NOT_FOUND to non-members (never
// 403, so ids cannot be probed); admin routes 403 FORBIDDEN; guests see only channels they were
// added to. Deactivated accounts get 403 ACCOUNT_DEACTIVATED on every authenticated route (the
// authentication rows).
import assert from 'node:assert/strict';
import type { Reply } from '../helpers/server.js';
import { rawMultipart } from '../helpers/files.js';
import type { World } from './world.js';

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
export interface Probe {
  path: string;
  body?: unknown;
  /** A non-JSON body (multipart) with its content type. */
  raw?: { body: Buffer; type: string };
  headers?: Record<string, string>;
}
/** A refusal: exact status and code; or a check for routes that answer 200 with nothing to see. */
export type Expect = { status: number; code: string } | { what: string; check(r: Reply, w: World): void };
export type Denied = 'bob' | 'guest' | 'carol';

export interface RouteSpec {
  method: Method;
  /** As in the OpenAPI document: /api/channels/{id}. */
  path: string;
  auth: 'public' | 'bearer';
  /** Who may (for the doc table). */
  may: string;
  /** Which world actor sends the permitted probe (injection and malformed rows). */
  actor: 'alice' | 'owner';
  probe(w: World): Probe;
  /** Refused callers: bob (member role, not in the channel), guest, carol (a plain member of it). */
  deny?: Partial<Record<Denied, Expect>>;
  /** Body string fields and query parameters that take free text (injection rows). */
  strings?: string[];
  query?: string[];
  /** Why a GET has no control row (the permitted probe cannot be made to succeed here). */
  noControl?: string;
}

const E = (status: number, code: string): Expect => ({ status, code });
const NF = E(404, 'NOT_FOUND');
const FORBIDDEN = E(403, 'FORBIDDEN');
const hidden = { bob: NF, guest: NF } as const;
const adminOnly = { bob: FORBIDDEN, guest: FORBIDDEN } as const;
const pngPart = (channelId?: string) => {
  const parts: Parameters<typeof rawMultipart>[0] = [{ name: 'file', filename: 'x.png', type: 'image/png', data: 'not really a png' }];
  if (channelId) parts.unshift({ name: 'channelId', data: channelId });
  return { body: rawMultipart(parts), type: 'multipart/form-data; boundary=nchatBoundary7x' };
};
const noResults: Expect = {
  what: '200 with no result from the private channel',
  check(r, w) {
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(!JSON.stringify(r.body).includes(w.secretWord), `private text leaked: ${JSON.stringify(r.body)}`);
    assert.ok(!JSON.stringify(r.body).includes(w.priv.id), `private channel leaked: ${JSON.stringify(r.body)}`);
  },
};

export const MATRIX: RouteSpec[] = [
  { method: 'GET', path: '/api/health', auth: 'public', may: 'anyone', actor: 'alice', probe: () => ({ path: '/api/health' }) },
  { method: 'GET', path: '/api/openapi.json', auth: 'public', may: 'anyone', actor: 'alice', probe: () => ({ path: '/api/openapi.json' }) },
  {
    method: 'POST',
    path: '/api/auth/signup',
    auth: 'public',
    may: 'anyone (open mode) / invited',
    actor: 'alice',
    probe: () => ({
      path: '/api/auth/signup',
      body: { email: 'probe@example.test', username: 'probe1', password: 'correct horse battery' },
    }),
    strings: ['email', 'username', 'password', 'displayName'],
  },
  {
    method: 'POST',
    path: '/api/auth/signin',
    auth: 'public',
    may: 'anyone (rate limited)',
    actor: 'alice',
    probe: (w) => ({ path: '/api/auth/signin', body: { login: w.alice.username, password: 'wrong password' } }),
    strings: ['login', 'password'],
  },
  {
    method: 'POST',
    path: '/api/auth/refresh',
    auth: 'public',
    may: 'holder of a live refresh token',
    actor: 'alice',
    probe: () => ({ path: '/api/auth/refresh', body: { refreshToken: 'not-a-live-refresh-token' } }),
    strings: ['refreshToken'],
  },
  {
    method: 'POST',
    path: '/api/auth/signout',
    auth: 'public',
    may: 'holder of a refresh token',
    actor: 'alice',
    probe: () => ({ path: '/api/auth/signout', body: { refreshToken: 'not-a-live-refresh-token' } }),
    strings: ['refreshToken'],
  },
  {
    method: 'POST',
    path: '/api/admin/users/bulk',
    auth: 'bearer',
    may: 'workspace owner/admin',
    actor: 'owner',
    probe: () => ({
      path: '/api/admin/users/bulk',
      body: { users: [{ email: 'bulk@example.test', username: 'bulk1', password: 'correct horse battery' }] },
    }),
    deny: adminOnly,
  },
  {
    method: 'POST',
    path: '/api/admin/invites',
    auth: 'bearer',
    may: 'workspace owner/admin',
    actor: 'owner',
    probe: () => ({ path: '/api/admin/invites', body: { maxUses: 1 } }),
    deny: adminOnly,
  },
  { method: 'GET', path: '/api/users/me', auth: 'bearer', may: 'any account', actor: 'alice', probe: () => ({ path: '/api/users/me' }) },
  {
    method: 'PATCH',
    path: '/api/users/me',
    auth: 'bearer',
    may: 'any account (itself)',
    actor: 'alice',
    probe: () => ({ path: '/api/users/me', body: { displayName: 'Alice', status: 'here' } }),
    strings: ['displayName', 'status'],
  },
  {
    method: 'GET',
    path: '/api/users/{id}',
    auth: 'bearer',
    may: 'any account',
    actor: 'alice',
    probe: (w) => ({ path: `/api/users/${w.bob.id}` }),
  },
  {
    method: 'GET',
    path: '/api/users',
    auth: 'bearer',
    may: 'any account',
    actor: 'alice',
    probe: () => ({ path: '/api/users?q=a' }),
    query: ['q', 'after'],
  },
  {
    method: 'PATCH',
    path: '/api/admin/users/{id}',
    auth: 'bearer',
    may: 'owner: any other account; admin: non-admins, roles up to moderator',
    actor: 'owner',
    probe: (w) => ({ path: `/api/admin/users/${w.carol.id}`, body: { role: 'admin' } }),
    deny: { ...adminOnly, carol: FORBIDDEN },
  },
  {
    method: 'GET',
    path: '/api/channels',
    auth: 'bearer',
    may: 'any account',
    actor: 'alice',
    probe: () => ({ path: '/api/channels?browse=public' }),
    query: ['after'],
  },
  {
    method: 'POST',
    path: '/api/channels',
    auth: 'bearer',
    may: 'non-guests (rate limited)',
    actor: 'alice',
    probe: () => ({ path: '/api/channels', body: { name: 'probe-channel', type: 'public', description: 'd', topic: 't' } }),
    deny: { guest: FORBIDDEN },
    strings: ['name', 'description', 'topic'],
  },
  {
    method: 'GET',
    path: '/api/channels/{id}',
    auth: 'bearer',
    may: 'members',
    actor: 'alice',
    probe: (w) => ({ path: `/api/channels/${w.priv.id}` }),
    deny: hidden,
  },
  {
    method: 'PATCH',
    path: '/api/channels/{id}',
    auth: 'bearer',
    may: 'channel admins',
    actor: 'alice',
    probe: (w) => ({ path: `/api/channels/${w.priv.id}`, body: { topic: 'new topic', description: 'd' } }),
    deny: { ...hidden, carol: FORBIDDEN },
    strings: ['name', 'description', 'topic'],
  },
  {
    method: 'DELETE',
    path: '/api/channels/{id}',
    auth: 'bearer',
    may: 'channel owner, workspace admin',
    actor: 'alice',
    probe: (w) => ({ path: `/api/channels/${w.priv.id}` }),
    deny: { ...hidden, carol: FORBIDDEN },
  },
  {
    method: 'POST',
    path: '/api/channels/{id}/join',
    auth: 'bearer',
    may: 'non-guests, public channels',
    actor: 'alice',
    probe: (w) => ({ path: `/api/channels/${w.priv.id}/join`, body: {} }),
    deny: hidden,
  },
  {
    method: 'POST',
    path: '/api/channels/{id}/leave',
    auth: 'bearer',
    may: 'members',
    actor: 'alice',
    probe: (w) => ({ path: `/api/channels/${w.priv.id}/leave`, body: {} }),
    deny: hidden,
  },
  {
    method: 'GET',
    path: '/api/channels/{id}/members',
    auth: 'bearer',
    may: 'members',
    actor: 'alice',
    probe: (w) => ({ path: `/api/channels/${w.priv.id}/members` }),
    deny: hidden,
  },
  {
    method: 'POST',
    path: '/api/channels/{id}/members',
    auth: 'bearer',
    may: 'members (private: channel admins)',
    actor: 'alice',
    probe: (w) => ({ path: `/api/channels/${w.priv.id}/members`, body: { userIds: [w.bob.id] } }),
    deny: hidden,
  },
  {
    method: 'DELETE',
    path: '/api/channels/{id}/members/{userId}',
    auth: 'bearer',
    may: 'channel admins; anyone for themselves',
    actor: 'alice',
    probe: (w) => ({ path: `/api/channels/${w.priv.id}/members/${w.carol.id}` }),
    deny: hidden,
  },
  {
    method: 'PATCH',
    path: '/api/channels/{id}/members/{userId}',
    auth: 'bearer',
    may: 'channel admins',
    actor: 'alice',
    probe: (w) => ({ path: `/api/channels/${w.priv.id}/members/${w.carol.id}`, body: { role: 'admin' } }),
    deny: { ...hidden, carol: FORBIDDEN },
  },
  {
    method: 'POST',
    path: '/api/channels/{id}/read',
    auth: 'bearer',
    may: 'members',
    actor: 'alice',
    probe: (w) => ({ path: `/api/channels/${w.priv.id}/read`, body: { seq: 1 } }),
    deny: hidden,
  },
  {
    method: 'POST',
    path: '/api/dms',
    auth: 'bearer',
    may: 'non-guests',
    actor: 'alice',
    probe: (w) => ({ path: '/api/dms', body: { userIds: [w.bob.id] } }),
    deny: { guest: FORBIDDEN },
  },
  {
    method: 'POST',
    path: '/api/channels/{id}/messages',
    auth: 'bearer',
    may: 'members (rate limited)',
    actor: 'alice',
    probe: (w) => ({ path: `/api/channels/${w.priv.id}/messages`, body: { text: 'hello', clientMsgId: 'probe-1' } }),
    deny: hidden,
    strings: ['text', 'clientMsgId'],
  },
  {
    method: 'GET',
    path: '/api/channels/{id}/messages',
    auth: 'bearer',
    may: 'members',
    actor: 'alice',
    probe: (w) => ({ path: `/api/channels/${w.priv.id}/messages` }),
    deny: hidden,
  },
  {
    method: 'GET',
    path: '/api/messages/{id}',
    auth: 'bearer',
    may: 'members',
    actor: 'alice',
    probe: (w) => ({ path: `/api/messages/${w.msg.id}` }),
    deny: hidden,
  },
  {
    method: 'PATCH',
    path: '/api/messages/{id}',
    auth: 'bearer',
    may: 'the author',
    actor: 'alice',
    probe: (w) => ({ path: `/api/messages/${w.reply.id}`, body: { text: 'edited' } }),
    deny: { ...hidden, carol: FORBIDDEN },
    strings: ['text'],
  },
  {
    method: 'DELETE',
    path: '/api/messages/{id}',
    auth: 'bearer',
    may: 'author, channel admin, workspace moderator',
    actor: 'alice',
    probe: (w) => ({ path: `/api/messages/${w.msg.id}` }),
    deny: { ...hidden, carol: FORBIDDEN },
  },
  {
    method: 'GET',
    path: '/api/messages/{id}/thread',
    auth: 'bearer',
    may: 'members',
    actor: 'alice',
    probe: (w) => ({ path: `/api/messages/${w.msg.id}/thread` }),
    deny: hidden,
  },
  {
    method: 'PUT',
    path: '/api/messages/{id}/reactions/{emoji}',
    auth: 'bearer',
    may: 'members',
    actor: 'alice',
    probe: (w) => ({ path: `/api/messages/${w.msg.id}/reactions/tada` }),
    deny: hidden,
  },
  {
    method: 'DELETE',
    path: '/api/messages/{id}/reactions/{emoji}',
    auth: 'bearer',
    may: 'members (their own)',
    actor: 'alice',
    probe: (w) => ({ path: `/api/messages/${w.msg.id}/reactions/thumbsup` }),
    deny: hidden,
  },
  {
    method: 'GET',
    path: '/api/notifications',
    auth: 'bearer',
    may: 'any account (its own)',
    actor: 'alice',
    probe: () => ({ path: '/api/notifications' }),
  },
  {
    method: 'POST',
    path: '/api/notifications/read',
    auth: 'bearer',
    may: 'any account (its own)',
    actor: 'alice',
    probe: () => ({ path: '/api/notifications/read', body: { all: true } }),
  },
  {
    method: 'GET',
    path: '/api/files/{id}',
    auth: 'bearer',
    may: "uploader, readers of a message it is on, any account while it is someone's avatar",
    actor: 'alice',
    probe: (w) => ({ path: `/api/files/${w.file.id}` }),
    deny: hidden,
  },
  {
    method: 'GET',
    path: '/api/files/{id}/thumbnail',
    auth: 'bearer',
    may: "uploader, readers of a message it is on, any account while it is someone's avatar",
    actor: 'alice',
    probe: (w) => ({ path: `/api/files/${w.file.id}/thumbnail` }),
    deny: hidden,
  },
  {
    method: 'GET',
    path: '/api/files/{id}/info',
    auth: 'bearer',
    may: "uploader, readers of a message it is on, any account while it is someone's avatar",
    actor: 'alice',
    probe: (w) => ({ path: `/api/files/${w.file.id}/info` }),
    deny: hidden,
  },
  {
    method: 'GET',
    path: '/api/search',
    auth: 'bearer',
    may: 'any account; results from its own channels only',
    actor: 'alice',
    probe: (w) => ({ path: `/api/search?q=${w.secretWord}&channelId=${w.priv.id}` }),
    deny: { bob: noResults, guest: noResults },
    query: ['q', 'from', 'cursor'],
  },
  {
    method: 'GET',
    path: '/api/search/suggest',
    auth: 'bearer',
    may: 'any account; terms from its own channels only',
    actor: 'alice',
    probe: (w) => ({ path: `/api/search/suggest?q=${w.secretWord.slice(0, 6)}` }),
    deny: { bob: noResults, guest: noResults },
    query: ['q'],
  },
  {
    method: 'GET',
    path: '/api/admin/reports',
    auth: 'bearer',
    may: 'workspace owner/admin',
    actor: 'owner',
    probe: () => ({ path: '/api/admin/reports' }),
    deny: adminOnly,
  },
  {
    method: 'GET',
    path: '/api/admin/reports/{run}/{file}',
    auth: 'bearer',
    may: 'workspace owner/admin',
    actor: 'owner',
    probe: () => ({ path: '/api/admin/reports/run1/report.md' }),
    deny: adminOnly,
    noControl: "reads the working directory's loadtest-runs/, which the tests do not write",
  },
  {
    method: 'POST',
    path: '/api/files/tus',
    auth: 'bearer',
    may: 'any account (quota, ≤ 10 unfinished)',
    actor: 'alice',
    probe: () => ({ path: '/api/files/tus', headers: { 'tus-resumable': '1.0.0', 'upload-length': '10' } }),
  },
  {
    method: 'PATCH',
    path: '/api/files/tus/{id}',
    auth: 'bearer',
    may: 'the creator',
    actor: 'alice',
    probe: (w) => ({
      path: `/api/files/tus/${w.tusId}`,
      raw: { body: Buffer.from('0123456789'), type: 'application/offset+octet-stream' },
      headers: { 'tus-resumable': '1.0.0', 'upload-offset': '0' },
    }),
    deny: hidden,
  },
  {
    method: 'DELETE',
    path: '/api/files/tus/{id}',
    auth: 'bearer',
    may: 'the creator',
    actor: 'alice',
    probe: (w) => ({ path: `/api/files/tus/${w.tusId}`, headers: { 'tus-resumable': '1.0.0' } }),
    deny: hidden,
  },
  {
    method: 'POST',
    path: '/api/files',
    auth: 'bearer',
    may: 'any account (quota, rate limited); channelId: its own channels',
    actor: 'alice',
    probe: (w) => ({ path: '/api/files', raw: pngPart(w.priv.id) }),
    deny: hidden,
  },
];

export const routeKey = (method: string, path: string) => `${method.toUpperCase()} ${path}`;
export const MATRIX_BY_KEY = new Map(MATRIX.map((r) => [routeKey(r.method, r.path), r]));

/** Sends a probe as `token` (or none). */
export async function sendProbe(url: string, method: string, p: Probe, token?: string): Promise<Reply> {
  const headers: Record<string, string> = { ...p.headers };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  let body: string | Buffer | undefined;
  if (p.raw) {
    body = p.raw.body;
    headers['content-type'] = p.raw.type;
  } else if (p.body !== undefined) {
    body = JSON.stringify(p.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(url + p.path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* bytes (files) */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Asserts an Expect against a reply. */
export function expectReply(r: Reply, e: Expect, w: World, what: string): void {
  if ('check' in e) return e.check(r, w);
  const ctx = `${what} → ${r.status} ${JSON.stringify(r.body)?.slice(0, 300)}`;
  assert.equal(r.status, e.status, ctx);
  assert.equal((r.body as any)?.error?.code, e.code, ctx);
  assert.ok(typeof (r.body as any)?.error?.message === 'string' && (r.body as any).error.message.length > 0, ctx);
}

export const describeExpect = (e: Expect) => ('check' in e ? e.what : `${e.status} ${e.code}`);
