// Revocation reaches open sockets and every node at once: sign-out, demotion and deactivation,
// on one SQLite node and across two nodes sharing PostgreSQL and Redis (plus a node started
// afterwards, which reads recent revocations from the store).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CloseCodes } from '../../src/protocol/events.js';
import { freshPostgres, pgSkipReason, type FreshPostgres } from '../helpers/postgres.js';
import { freshRedis, redisSkip } from '../helpers/redis.js';
import { Client, ok, startNode, until, type Node } from './harness.js';
import { unique } from '../helpers/server.js';

const PW = 'correct horse battery';
const sidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sid as string;

interface Sess {
  id: string;
  username: string;
  accessToken: string;
  refreshToken: string;
}

async function signup(node: Node, prefix: string): Promise<Sess> {
  const username = unique(prefix);
  const r = await ok(node.api.post('/api/auth/signup', { email: `${username}@example.test`, username, password: PW }), 201);
  return { id: r.user.id, username, accessToken: r.accessToken, refreshToken: r.refreshToken };
}

async function signin(node: Node, username: string): Promise<Sess> {
  const r = await ok(node.api.post('/api/auth/signin', { login: username, password: PW }));
  return { id: r.user.id, username, accessToken: r.accessToken, refreshToken: r.refreshToken };
}

/** Status of GET /api/users/me with the token on that node. */
const me = async (node: Node, token: string) => (await node.api.as(token).get('/api/users/me')).status;

describe('revocation on one node (SQLite)', () => {
  let node: Node;
  let owner: Sess;
  const clients: Client[] = [];
  before(async () => {
    node = await startNode();
    owner = await signup(node, 'owner');
  });
  after(async () => {
    for (const c of clients) c.close();
    await node.stop();
  });
  const open = async (token: string) => {
    const c = await Client.open(node, token);
    clients.push(c);
    return c;
  };

  test("sign-out closes that session's sockets with 4003 and refuses its token at upgrade; another session stays open", async () => {
    const u = await signup(node, 'out');
    const other = await signin(node, u.username);
    const a = await open(u.accessToken);
    const b = await open(other.accessToken);
    assert.equal((await node.api.post('/api/auth/signout', { refreshToken: u.refreshToken })).status, 204);
    assert.equal((await a.waitClosed()).code, CloseCodes.SESSION_REVOKED);
    await assert.rejects(Client.open(node, u.accessToken), (e: any) => e.status === 401);
    b.send({ op: 'ping', t: 7 });
    assert.equal((await b.waitFor((e) => e.type === 'pong')).t, 7, 'the other session is untouched');
    assert.equal(b.closed, undefined);
  });

  test("a role change closes the user's sockets with 4001; the same access token reconnects (role re-read at upgrade)", async () => {
    const u = await signup(node, 'role');
    const c = await open(u.accessToken);
    await ok(node.api.as(owner.accessToken).patch(`/api/admin/users/${u.id}`, { role: 'moderator' }));
    assert.equal((await c.waitClosed()).code, CloseCodes.TOKEN_EXPIRED);
    const again = await open(u.accessToken);
    assert.ok(again.hello, 'the same access token reconnects');
  });

  test('deactivation closes every socket of the user and refuses the upgrade', async () => {
    const u = await signup(node, 'deact');
    const s2 = await signin(node, u.username);
    const a = await open(u.accessToken);
    const b = await open(s2.accessToken);
    await ok(node.api.as(owner.accessToken).patch(`/api/admin/users/${u.id}`, { deactivated: true }));
    assert.equal((await a.waitClosed()).code, CloseCodes.SESSION_REVOKED);
    assert.equal((await b.waitClosed()).code, CloseCodes.SESSION_REVOKED);
    // The status comes from the code, as over HTTP: 403 ACCOUNT_DEACTIVATED (test/security/authn.test.ts).
    await assert.rejects(Client.open(node, s2.accessToken), (e: any) => e.status === 403);
  });
});

const clusterSkip = (await pgSkipReason()) ?? (await redisSkip());

describe('revocation across nodes (PostgreSQL + Redis)', { skip: clusterSkip || false }, () => {
  let db: FreshPostgres;
  let A: Node;
  let B: Node;
  let owner: Sess;
  const redisUrl = freshRedis();
  const clients: Client[] = [];
  before(async () => {
    db = (await freshPostgres())!;
    A = await startNode({ databaseUrl: db.url, redisUrl });
    B = await startNode({ databaseUrl: db.url, redisUrl });
    owner = await signup(A, 'owner');
  });
  after(async () => {
    for (const c of clients) c.close();
    await A?.stop();
    await B?.stop();
    await db?.drop();
  });
  const open = async (node: Node, token: string) => {
    const c = await Client.open(node, token);
    clients.push(c);
    return c;
  };

  test('sign-out on node A: the token is refused on node B and B closes its socket', async () => {
    const u = await signup(A, 'x');
    const c = await open(B, u.accessToken);
    assert.equal(await me(B, u.accessToken), 200);
    const t0 = Date.now();
    assert.equal((await A.api.post('/api/auth/signout', { refreshToken: u.refreshToken })).status, 204);
    // The broker event is published before the 204; B learns it within Redis' delivery time.
    await until(async () => (await me(B, u.accessToken)) === 401, 'token refused on B', 1000);
    const refusedAfter = Date.now() - t0;
    assert.equal((await c.waitClosed(1000)).code, CloseCodes.SESSION_REVOKED);
    assert.ok(refusedAfter < 1000, `refused on B after ${refusedAfter} ms`);
  });

  test('a node started after the sign-out refuses the token (revocations read from the store)', async () => {
    const u = await signup(A, 'late');
    await A.api.post('/api/auth/signout', { refreshToken: u.refreshToken });
    const C = await startNode({ databaseUrl: db.url, redisUrl });
    try {
      const r = await C.api.as(u.accessToken).get('/api/users/me');
      assert.equal(r.status, 401);
      assert.equal(r.body.error.code, 'TOKEN_INVALID');
      assert.ok(C.services.auth.sessions.isRevoked(sidOf(u.accessToken)));
    } finally {
      await C.stop();
    }
  });

  test('a moderator demoted on node A loses moderator actions on node B at once (no 5 s role cache) and B closes the socket', async () => {
    const mod = await signup(A, 'mod');
    const author = await signup(A, 'author');
    await ok(A.api.as(owner.accessToken).patch(`/api/admin/users/${mod.id}`, { role: 'moderator' }));
    const ch = await ok(A.api.as(author.accessToken).post('/api/channels', { name: unique('mod'), type: 'public' }), 201);
    await ok(A.api.as(mod.accessToken).post(`/api/channels/${ch.id}/join`));
    const m1 = await ok(A.api.as(author.accessToken).post(`/api/channels/${ch.id}/messages`, { text: 'one' }), 201);
    const m2 = await ok(A.api.as(author.accessToken).post(`/api/channels/${ch.id}/messages`, { text: 'two' }), 201);
    // B caches the moderator role now (a request on B right before the demotion).
    assert.equal((await B.api.as(mod.accessToken).del(`/api/messages/${m1.id}`)).status, 200);
    const c = await open(B, mod.accessToken);
    await ok(A.api.as(owner.accessToken).patch(`/api/admin/users/${mod.id}`, { role: 'member' }));
    assert.equal((await c.waitClosed(1000)).code, CloseCodes.TOKEN_EXPIRED);
    await until(async () => (await B.api.as(mod.accessToken).del(`/api/messages/${m2.id}`)).status === 403, 'delete refused on B', 1000);
    assert.equal(
      (await ok(B.api.as(author.accessToken).get(`/api/messages/${m2.id}`))).deletedAt,
      null,
      'the demoted moderator deleted nothing',
    );
  });

  test('deactivation on node A: token, socket and sign-in refused on node B', async () => {
    const u = await signup(A, 'deact');
    const c = await open(B, u.accessToken);
    assert.equal(await me(B, u.accessToken), 200);
    await ok(A.api.as(owner.accessToken).patch(`/api/admin/users/${u.id}`, { deactivated: true }));
    await until(async () => (await me(B, u.accessToken)) === 403, 'token refused on B', 1000);
    assert.equal((await c.waitClosed(1000)).code, CloseCodes.SESSION_REVOKED);
    const r = await B.api.post('/api/auth/signin', { login: u.username, password: PW });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'ACCOUNT_DEACTIVATED');
  });
});
