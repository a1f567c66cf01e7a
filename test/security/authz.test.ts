// Security matrix, authorization: every route of test/security/matrix.ts that names refused
// callers is probed by each of them — bob (a member-role account outside the private channel),
// a guest added to nothing, carol (a plain member where channel admins are needed) — and must
// answer exactly as docs/API.md says (404 NOT_FOUND for private resources, never 403; 403
// FORBIDDEN for admin-only actions), with nothing written. The permitted caller's reads are the
// control rows (the same probe succeeds for alice). Also: role changes only by those allowed,
// and the same private resources over WebSocket ops. Deactivated accounts: authn.test.ts.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { forEachBackend } from '../helpers/server.js';
import { withRole } from '../http/util.js';
import { MATRIX, describeExpect, expectReply, routeKey, sendProbe, type Denied, type Expect } from './matrix.js';
import { buildWorld, type World } from './world.js';
import { connect } from './ws-util.js';

await forEachBackend('security: authorization', (ctx) => {
  let w: World;
  before(async () => {
    w = await buildWorld(ctx.server());
  });
  after(async () => {
    await w?.close();
  });

  for (const spec of MATRIX) {
    const key = routeKey(spec.method, spec.path);
    for (const [who, expect] of Object.entries(spec.deny ?? {}) as Array<[Denied, Expect]>) {
      it(`${key} as ${who} → ${describeExpect(expect)}, nothing written`, async () => {
        const before = await w.fingerprint();
        const r = await sendProbe(w.srv.running.url, spec.method, spec.probe(w), w[who].token);
        expectReply(r, expect, w, `${key} as ${who}`);
        assert.equal(await w.fingerprint(), before, 'a refused request changed stored data');
      });
    }
    if (spec.method === 'GET' && spec.auth === 'bearer' && spec.deny && !spec.noControl)
      it(`${key} as ${spec.actor} (control: the permitted caller gets 200)`, async () => {
        const r = await sendProbe(w.srv.running.url, spec.method, spec.probe(w), w[spec.actor].token);
        assert.equal(r.status, 200, JSON.stringify(r.body)?.slice(0, 300));
      });
  }

  // A public channel: readable by every non-guest account, written only by members (403
  // NOT_A_MEMBER); guests see only channels they were added to (404, as for a private one).
  const NAM = { status: 403, code: 'NOT_A_MEMBER' } as const;
  const NF = { status: 404, code: 'NOT_FOUND' } as const;
  const PUBLIC_ROWS: Array<[string, 'bob' | 'guest', (w: World) => { method: string; path: string; body?: unknown }, Expect | 200]> = [
    ['read the channel', 'bob', (w) => ({ method: 'GET', path: `/api/channels/${w.pub.id}` }), 200],
    ['read its history', 'bob', (w) => ({ method: 'GET', path: `/api/channels/${w.pub.id}/messages` }), 200],
    ['send', 'bob', (w) => ({ method: 'POST', path: `/api/channels/${w.pub.id}/messages`, body: { text: 'not a member' } }), NAM],
    ['react', 'bob', (w) => ({ method: 'PUT', path: `/api/messages/${w.pubMsg.id}/reactions/tada` }), NAM],
    [
      'reply in a thread',
      'bob',
      (w) => ({ method: 'POST', path: `/api/channels/${w.pub.id}/messages`, body: { text: 'x', parentId: w.pubMsg.id } }),
      NAM,
    ],
    ['read the channel', 'guest', (w) => ({ method: 'GET', path: `/api/channels/${w.pub.id}` }), NF],
    ['read its history', 'guest', (w) => ({ method: 'GET', path: `/api/channels/${w.pub.id}/messages` }), NF],
    ['read a message', 'guest', (w) => ({ method: 'GET', path: `/api/messages/${w.pubMsg.id}` }), NF],
    ['join', 'guest', (w) => ({ method: 'POST', path: `/api/channels/${w.pub.id}/join`, body: {} }), NF],
    ['send', 'guest', (w) => ({ method: 'POST', path: `/api/channels/${w.pub.id}/messages`, body: { text: 'guest' } }), NF],
  ];
  // A direct-message channel (alice and the owner): 404 to everyone else, as a private channel.
  const DM_ROWS: typeof PUBLIC_ROWS = (['bob', 'guest'] as const).flatMap(
    (who) =>
      [
        ['DM: read the channel', who, (w: World) => ({ method: 'GET', path: `/api/channels/${w.dm.id}` }), NF],
        ['DM: read its history', who, (w: World) => ({ method: 'GET', path: `/api/channels/${w.dm.id}/messages` }), NF],
        ['DM: read a message', who, (w: World) => ({ method: 'GET', path: `/api/messages/${w.dmMsg.id}` }), NF],
        ['DM: send', who, (w: World) => ({ method: 'POST', path: `/api/channels/${w.dm.id}/messages`, body: { text: 'intruder' } }), NF],
        ['DM: join', who, (w: World) => ({ method: 'POST', path: `/api/channels/${w.dm.id}/join`, body: {} }), NF],
        [
          'DM: add oneself',
          who,
          (w: World) => ({ method: 'POST', path: `/api/channels/${w.dm.id}/members`, body: { userIds: [w[who].id] } }),
          NF,
        ],
      ] as (typeof PUBLIC_ROWS)[number][],
  );
  for (const [what, who, make, expect] of [...PUBLIC_ROWS, ...DM_ROWS])
    it(`${what.startsWith('DM') ? '' : 'public channel: '}${what} as ${who} → ${expect === 200 ? '200' : `${describeExpect(expect)}, nothing written`}`, async () => {
      const before = await w.fingerprint();
      const { method, path, body } = make(w);
      const r = await sendProbe(w.srv.running.url, method, { path, body }, w[who].token);
      if (expect === 200) return assert.equal(r.status, 200, JSON.stringify(r.body));
      expectReply(r, expect, w, `${what} as ${who}`);
      assert.equal(await w.fingerprint(), before, 'a refused request changed stored data');
    });

  it('search and suggest: the permitted caller finds the private word (control for the no-result rows)', async () => {
    const s = await w.alice.api.get(`/api/search?q=${w.secretWord}`);
    assert.equal(s.body.results.length, 1, JSON.stringify(s.body));
    const g = await w.alice.api.get(`/api/search/suggest?q=${w.secretWord.slice(0, 6)}`);
    assert.ok(JSON.stringify(g.body).includes(w.secretWord), JSON.stringify(g.body));
  });

  // Role changes: [actor role, target's role, new role] → allowed or 403 FORBIDDEN.
  const ROLE_ROWS: Array<[string, string, string, 200 | 403]> = [
    ['member', 'member', 'admin', 403],
    ['member', 'member', 'moderator', 403],
    ['guest', 'member', 'admin', 403],
    ['moderator', 'member', 'admin', 403],
    ['moderator', 'member', 'moderator', 403],
    ['admin', 'member', 'admin', 403],
    ['admin', 'admin', 'member', 403],
    ['admin', 'owner', 'member', 403],
    ['admin', 'member', 'moderator', 200],
    ['admin', 'member', 'guest', 200],
    ['owner', 'member', 'admin', 200],
  ];
  for (const [actorRole, targetRole, newRole, status] of ROLE_ROWS) {
    it(`role change: ${actorRole} sets a ${targetRole} to ${newRole} → ${status === 200 ? '200' : '403 FORBIDDEN, nothing written'}`, async () => {
      const srv = ctx.server();
      const actor =
        actorRole === 'owner'
          ? srv.owner
          : actorRole === 'member'
            ? await srv.user('ra')
            : await withRole(srv, srv.owner, await srv.user('ra'), actorRole);
      const target =
        targetRole === 'owner'
          ? srv.owner
          : targetRole === 'member'
            ? await srv.user('rt')
            : await withRole(srv, srv.owner, await srv.user('rt'), targetRole);
      const before = await w.fingerprint();
      const r = await actor.api.patch(`/api/admin/users/${target.id}`, { role: newRole });
      if (status === 200) {
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal((await srv.owner.api.get(`/api/users/${target.id}`)).body.role, newRole);
        return;
      }
      assert.deepEqual([r.status, r.body?.error?.code], [403, 'FORBIDDEN'], JSON.stringify(r.body));
      assert.equal(await w.fingerprint(), before, 'a refused role change changed stored data');
    });
  }

  // The private channel over WebSocket: each op naming it, from bob and the guest.
  const WS_ROWS: Array<[string, (w: World) => Record<string, unknown>]> = [
    ['send', (w) => ({ op: 'send', channelId: w.priv.id, text: 'sneaky', clientMsgId: 'sec-ws-1', ref: 'r1' })],
    [
      'send (a reply in its thread)',
      (w) => ({ op: 'send', channelId: w.priv.id, text: 'sneaky', clientMsgId: 'sec-ws-2', parentId: w.msg.id, ref: 'r1' }),
    ],
    ['typing', (w) => ({ op: 'typing', channelId: w.priv.id, ref: 'r1' })],
    ['read', (w) => ({ op: 'read', channelId: w.priv.id, seq: 1, ref: 'r1' })],
    ['presence.query', (w) => ({ op: 'presence.query', channelId: w.priv.id, ref: 'r1' })],
  ];
  for (const who of ['bob', 'guest'] as const)
    for (const [op, frame] of WS_ROWS)
      it(`ws ${op} on the private channel as ${who} → error NOT_FOUND, nothing written`, async () => {
        const c = await connect(w.srv.running.url, w[who].token);
        try {
          const before = await w.fingerprint();
          c.send(frame(w));
          const e = await c.next((e) => e.type === 'error');
          assert.equal(e.code, 'NOT_FOUND', JSON.stringify(e));
          assert.equal(e.ref, 'r1');
          assert.equal(await w.fingerprint(), before);
          assert.ok(!JSON.stringify(c.events).includes(w.secretWord));
        } finally {
          c.ws.terminate();
        }
      });

  for (const who of ['bob', 'guest'] as const)
    it(`ws resume naming the private channel as ${who}: nothing of it is replayed`, async () => {
      const c = await connect(w.srv.running.url, w[who].token);
      try {
        c.send({ op: 'resume', positions: { [w.priv.id]: 0 }, ref: 'r1' });
        const e = await c.next((e) => (e.type === 'error' || e.type === 'resumed') && (e.ref === w.priv.id || e.channelId === w.priv.id));
        await new Promise((r) => setTimeout(r, 200));
        assert.ok(!c.events.some((x) => x.type === 'message.created'), JSON.stringify(c.events));
        assert.ok(!JSON.stringify(c.events).includes(w.secretWord));
        if (e.type === 'error') assert.equal(e.code, 'NOT_FOUND');
      } finally {
        c.ws.terminate();
      }
    });
});
