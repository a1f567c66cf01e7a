// Security matrix, authentication: every authenticated route of the OpenAPI document the server
// serves × every bad credential (missing, expired, tampered, another key, other issuer, wrong
// audience, alg:none, a signed-out session, a deactivated account) → the exact status and code,
// and nothing written. Routes are enumerated from GET /api/openapi.json, so a new route gets its
// rows without an edit here — and fails the "has a matrix entry" row until test/security/matrix.ts
// says who may call it. Also: the /ws upgrade with the same credentials, refresh-token reuse
// revoking the family, and a deactivated user's live socket.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { upload } from '../helpers/files.js';
import { forEachBackend, startTestServer } from '../helpers/server.js';
import { MATRIX, MATRIX_BY_KEY, routeKey, sendProbe, type Probe } from './matrix.js';
import { BAD_TOKENS } from './tokens.js';
import { buildWorld, type World } from './world.js';
import { connect, tryUpgrade } from './ws-util.js';

// The served routes, read once from a real server (SQLite; both backends serve the same routes).
const served: Array<{ method: string; path: string; bearer: boolean }> = [];
{
  const s = await startTestServer('sqlite');
  try {
    const doc = (await s.api.get('/api/openapi.json')).body;
    for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths))
      for (const [method, op] of Object.entries(ops))
        served.push({ method: method.toUpperCase(), path, bearer: (op.security ?? []).length > 0 });
  } finally {
    await s.stop();
  }
}

/** A request for a route with no matrix entry: path parameters filled with well-formed ids. */
const genericProbe = (path: string, w: World): Probe => ({ path: path.replace(/\{[^}]+\}/g, w.priv.id), body: {} });

await forEachBackend('security: authentication', (ctx) => {
  let w: World;
  before(async () => {
    w = await buildWorld(ctx.server());
  });
  after(async () => {
    await w?.close();
  });

  for (const route of served) {
    const key = routeKey(route.method, route.path);
    it(`${key} has a matrix entry that agrees with the served document`, () => {
      const spec = MATRIX_BY_KEY.get(key);
      assert.ok(spec, `${key} is served but has no entry in test/security/matrix.ts: add one (who may, who may not)`);
      assert.equal(spec.auth, route.bearer ? 'bearer' : 'public', `${key}: OpenAPI security and the matrix disagree`);
    });
    if (!route.bearer) continue;
    for (const bad of BAD_TOKENS) {
      it(`${key} with a ${bad.kind} token → ${bad.status} ${bad.code}, nothing written`, async () => {
        const spec = MATRIX_BY_KEY.get(key);
        const probe = spec ? spec.probe(w) : genericProbe(route.path, w);
        const before = await w.fingerprint();
        const r = await sendProbe(w.srv.running.url, route.method, probe, await bad.make(w));
        const ctx = `${r.status} ${JSON.stringify(r.body)?.slice(0, 200)}`;
        assert.equal(r.status, bad.status, ctx);
        assert.equal(r.body?.error?.code, bad.code, ctx);
        assert.equal(await w.fingerprint(), before, 'a refused request changed stored data');
      });
    }
  }

  it('control: the "nothing written" digest changes on a real write (a send, a topic edit, an upload)', async () => {
    const d0 = await w.fingerprint();
    await w.carol.api.post(`/api/channels/${w.priv.id}/messages`, { text: 'digest control' });
    const d1 = await w.fingerprint();
    assert.notEqual(d1, d0, 'a send did not change the digest');
    await w.alice.api.patch(`/api/channels/${w.priv.id}`, { topic: 'digest control' });
    const d2 = await w.fingerprint();
    assert.notEqual(d2, d1, 'an update in place did not change the digest');
    assert.equal((await upload(w.srv.running.url, w.carol, Buffer.from('digest control'))).status, 201);
    assert.notEqual(await w.fingerprint(), d2, 'an upload did not change the digest');
  });

  it('every matrix entry is served (no stale rows)', () => {
    const keys = new Set(served.map((r) => routeKey(r.method, r.path)));
    assert.deepEqual(
      MATRIX.map((r) => routeKey(r.method, r.path)).filter((k) => !keys.has(k)),
      [],
    );
  });

  for (const bad of BAD_TOKENS) {
    it(`GET /ws upgrade with a ${bad.kind} token → ${bad.status} ${bad.code}, no socket`, async () => {
      const r = await tryUpgrade(w.srv.running.url, await bad.make(w));
      r.ws?.terminate();
      assert.deepEqual({ status: r.status, code: r.code }, { status: bad.status, code: bad.code });
    });
  }

  it('refresh-token reuse → 401 REFRESH_REUSED and the whole family is revoked (successor and its access token)', async () => {
    const { api } = ctx.server();
    const s = (await api.post('/api/auth/signin', { login: w.carol.username, password: 'correct horse battery' })).body;
    const next = await api.post('/api/auth/refresh', { refreshToken: s.refreshToken });
    assert.equal(next.status, 200);
    const reuse = await api.post('/api/auth/refresh', { refreshToken: s.refreshToken });
    assert.deepEqual([reuse.status, reuse.body?.error?.code], [401, 'REFRESH_REUSED']);
    const successor = await api.post('/api/auth/refresh', { refreshToken: next.body.refreshToken });
    assert.equal(successor.status, 401, JSON.stringify(successor.body));
    const me = await api.as(next.body.accessToken).get('/api/users/me');
    assert.deepEqual([me.status, me.body?.error?.code], [401, 'TOKEN_INVALID']);
    // carol's own first session is another family and keeps working.
    assert.equal((await w.carol.api.get('/api/users/me')).status, 200);
  });

  it("a deactivated user's live socket is closed with 4003 and token, refresh, sign-in and upgrade refused", async () => {
    const srv = ctx.server();
    const dave = await srv.user('dave');
    const c = await connect(srv.running.url, dave.token);
    assert.equal((await srv.owner.api.patch(`/api/admin/users/${dave.id}`, { deactivated: true })).status, 200);
    const closed = await Promise.race([
      c.closed,
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error('socket not closed in 5 s')), 5000)),
    ]);
    assert.equal(closed.code, 4003);
    const me = await dave.api.get('/api/users/me');
    assert.deepEqual([me.status, me.body?.error?.code], [403, 'ACCOUNT_DEACTIVATED']);
    const refresh = await srv.api.post('/api/auth/refresh', { refreshToken: dave.refreshToken });
    // Deactivation ended the session, so its refresh token is simply no longer valid.
    assert.deepEqual([refresh.status, refresh.body?.error?.code], [401, 'TOKEN_INVALID']);
    const signin = await srv.api.post('/api/auth/signin', { login: dave.username, password: 'correct horse battery' });
    assert.deepEqual([signin.status, signin.body?.error?.code], [403, 'ACCOUNT_DEACTIVATED']);
    const again = await tryUpgrade(srv.running.url, dave.token);
    again.ws?.terminate();
    assert.deepEqual([again.status, again.code], [403, 'ACCOUNT_DEACTIVATED']);
  });
});
