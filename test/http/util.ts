// Shared helpers for the HTTP tests in this folder (not a test file itself).
import assert from 'node:assert/strict';
import type { Api, Reply, TestServer, TestUser } from '../helpers/server.js';

/** Asserts the contract's error shape: exact status, exact code, a non-empty message. */
export function assertError(r: Reply, status: number, code: string, what = ''): void {
  const ctx = `${what} → ${r.status} ${JSON.stringify(r.body)}`;
  assert.equal(r.status, status, ctx);
  assert.equal(typeof r.body, 'object', ctx);
  assert.equal(r.body?.error?.code, code, ctx);
  assert.equal(typeof r.body.error.message, 'string', ctx);
  assert.ok(r.body.error.message.length > 0, ctx);
}

/** Asserts a 2xx with the given status and returns the body. */
export function ok<T = any>(r: Reply<T>, status = 200, what = ''): T {
  assert.equal(r.status, status, `${what} → ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Gives `user` a workspace role (as `admin`) and signs the user in again: the role is carried in the access token. */
export async function withRole(srv: TestServer, admin: TestUser, user: TestUser, role: string): Promise<TestUser> {
  ok(await admin.api.patch(`/api/admin/users/${user.id}`, { role }), 200, `set role ${role}`);
  const r = ok(await srv.api.post('/api/auth/signin', { login: user.username, password: 'correct horse battery' }), 200, 'signin');
  return { ...user, token: r.accessToken, refreshToken: r.refreshToken, api: srv.api.as(r.accessToken) };
}

export async function createChannel(api: Api, name: string, type: 'public' | 'private' = 'public'): Promise<any> {
  return ok(await api.post('/api/channels', { name, type }), 201, `create #${name}`);
}

export async function send(api: Api, channelId: string, text: string, extra: Record<string, unknown> = {}): Promise<any> {
  return ok(await api.post(`/api/channels/${channelId}/messages`, { text, ...extra }), 201, `send "${text.slice(0, 40)}"`);
}
