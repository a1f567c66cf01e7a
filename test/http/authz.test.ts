// Authorization on every channel and message route, on SQLite and PostgreSQL.
// Contract: a private channel or DM does not exist for a non-member — every route answers
// 404 NOT_FOUND (never 403, so ids cannot be probed) and changes nothing; role rules for
// guests, authors, channel admins/owners and workspace moderators/admins; bearer-token edge.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { before, it } from 'node:test';
import { SignJWT } from 'jose';
import { forEachBackend, unique, type TestUser } from '../helpers/server.js';
import { assertError, createChannel, ok, send, withRole } from './util.js';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64url');

await forEachBackend('authz', (ctx) => {
  let owner: TestUser;
  before(() => {
    owner = ctx.server().owner; // the first account of this server: workspace owner
  });

  it('a non-member gets 404 NOT_FOUND on every private-channel and DM route, and nothing changes', async () => {
    const srv = ctx.server();
    const [ann, bob, cat] = [await srv.user('ann'), await srv.user('bob'), await srv.user('cat')];
    const priv = await createChannel(ann.api, unique('priv'), 'private');
    ok(await ann.api.post(`/api/channels/${priv.id}/members`, { userIds: [cat.id] }));
    const root = await send(ann.api, priv.id, 'secret root');
    await send(cat.api, priv.id, 'secret reply', { parentId: root.id });
    ok(await ann.api.put(`/api/messages/${root.id}/reactions/thumbsup`));

    const dm = ok(await ann.api.post('/api/dms', { userIds: [cat.id] }));
    const dmMsg = await send(cat.api, dm.id, 'dm secret');

    const snapshot = async (channelId: string, messageId: string) => {
      const ch = ok(await ann.api.get(`/api/channels/${channelId}`));
      const members = ok(await ann.api.get(`/api/channels/${channelId}/members`))
        .members.map((m: any) => `${m.userId}:${m.role}:${m.readSeq}`)
        .sort();
      const history = ok(await ann.api.get(`/api/channels/${channelId}/messages`)).messages;
      const msg = ok(await ann.api.get(`/api/messages/${messageId}`));
      return { ch, members, history, msg };
    };

    for (const [label, channelId, messageId] of [
      ['private channel', priv.id, root.id],
      ['dm', dm.id, dmMsg.id],
    ] as const) {
      const beforeState = await snapshot(channelId, messageId);
      const c = `/api/channels/${channelId}`;
      const m = `/api/messages/${messageId}`;
      const attempts: Array<[string, () => Promise<any>]> = [
        ['GET channel', () => bob.api.get(c)],
        ['PATCH channel', () => bob.api.patch(c, { topic: 'hijacked' })],
        ['DELETE channel', () => bob.api.del(c)],
        ['POST join', () => bob.api.post(`${c}/join`)],
        ['POST leave', () => bob.api.post(`${c}/leave`)],
        ['GET members', () => bob.api.get(`${c}/members`)],
        ['POST members', () => bob.api.post(`${c}/members`, { userIds: [bob.id] })],
        ['DELETE member', () => bob.api.del(`${c}/members/${cat.id}`)],
        ['PATCH member', () => bob.api.patch(`${c}/members/${cat.id}`, { role: 'admin' })],
        ['PATCH self as member', () => bob.api.patch(`${c}/members/${bob.id}`, { role: 'admin' })],
        ['GET messages', () => bob.api.get(`${c}/messages`)],
        ['GET messages after', () => bob.api.get(`${c}/messages?after=0&limit=10`)],
        ['POST message', () => bob.api.post(`${c}/messages`, { text: 'intrusion' })],
        ['POST read', () => bob.api.post(`${c}/read`, { seq: 1 })],
        ['GET message', () => bob.api.get(m)],
        ['PATCH message', () => bob.api.patch(m, { text: 'edited by intruder' })],
        ['DELETE message', () => bob.api.del(m)],
        ['GET thread', () => bob.api.get(`${m}/thread`)],
        ['PUT reaction', () => bob.api.put(`${m}/reactions/thumbsup`)],
        ['DELETE reaction', () => bob.api.del(`${m}/reactions/thumbsup`)],
      ];
      for (const [what, attempt] of attempts) assertError(await attempt(), 404, 'NOT_FOUND', `${label}: ${what}`);
      // The same answer as for an id that was never issued, so existence cannot be probed.
      const ghost = '0000000000000000000000';
      assert.deepEqual(
        (await bob.api.get(c)).body,
        (await bob.api.get(`/api/channels/${ghost}`)).body,
        `${label}: channel answer differs from a ghost's`,
      );
      assert.deepEqual(
        (await bob.api.get(m)).body,
        (await bob.api.get(`/api/messages/${ghost}`)).body,
        `${label}: message answer differs from a ghost's`,
      );
      assert.deepEqual(
        (await bob.api.post(`${c}/messages`, { text: 'x' })).body,
        (await bob.api.post(`/api/channels/${ghost}/messages`, { text: 'x' })).body,
      );

      assert.deepEqual(await snapshot(channelId, messageId), beforeState, `${label}: a refused request changed something`);
      const mine = ok(await bob.api.get('/api/channels')).channels.map((x: any) => x.id);
      assert.ok(!mine.includes(channelId), `${label} is listed for a non-member`);
    }
    // Private means members only, even for the workspace owner.
    assertError(await owner.api.get(`/api/channels/${priv.id}`), 404, 'NOT_FOUND', 'workspace owner GET private');
    assertError(await owner.api.get(`/api/messages/${root.id}`), 404, 'NOT_FOUND', 'workspace owner GET private message');
    assertError(await owner.api.get(`/api/channels/${dm.id}/messages`), 404, 'NOT_FOUND', 'workspace owner reads a DM');
    // A reply from a channel the caller is in cannot point into one it is not in, and the refusal
    // reads the same as for an id that does not exist.
    const open = await createChannel(bob.api, unique('open'));
    const intoPrivate = await bob.api.post(`/api/channels/${open.id}/messages`, { text: 'reply', parentId: root.id });
    assertError(intoPrivate, 400, 'VALIDATION_FAILED', 'parentId in a private channel');
    assert.deepEqual(
      intoPrivate.body,
      (await bob.api.post(`/api/channels/${open.id}/messages`, { text: 'reply', parentId: '0000000000000000000000' })).body,
    );
    assert.equal(ok(await ann.api.get(`/api/messages/${root.id}`)).replyCount, 1);
    const browse = ok(await bob.api.get('/api/channels?browse=public')).channels.map((x: any) => x.id);
    assert.ok(!browse.includes(priv.id) && !browse.includes(dm.id), 'browse=public lists a private channel or DM');
  });

  it('a public channel is readable by non-members but only members write', async () => {
    const srv = ctx.server();
    const [ann, bob] = [await srv.user('ann'), await srv.user('bob')];
    const pub = await createChannel(ann.api, unique('pub'));
    const msg = await send(ann.api, pub.id, 'hello all');
    assert.equal(ok(await bob.api.get(`/api/channels/${pub.id}/messages`)).messages.length, 1);
    assert.equal(ok(await bob.api.get(`/api/messages/${msg.id}`)).text, 'hello all');
    assertError(await bob.api.post(`/api/channels/${pub.id}/messages`, { text: 'drive-by' }), 403, 'NOT_A_MEMBER', 'non-member send');
    assertError(await bob.api.put(`/api/messages/${msg.id}/reactions/thumbsup`), 403, 'NOT_A_MEMBER', 'non-member react');
    assertError(await bob.api.post(`/api/channels/${pub.id}/members`, { userIds: [bob.id] }), 403, 'NOT_A_MEMBER', 'non-member adds');
    assertError(await bob.api.patch(`/api/channels/${pub.id}`, { topic: 'mine now' }), 403, 'FORBIDDEN', 'non-member PATCH');
    assertError(await bob.api.del(`/api/channels/${pub.id}`), 403, 'FORBIDDEN', 'non-member archive');
    const ch = ok(await ann.api.get(`/api/channels/${pub.id}`));
    assert.equal(ch.lastSeq, 1);
    assert.equal(ch.topic, '');
    assert.equal(ch.archivedAt, null);
    assert.deepEqual(ok(await ann.api.get(`/api/messages/${msg.id}`)).reactions, []);
  });

  it('notifications never reveal a private channel to a non-member, and vanish after leaving', async () => {
    const srv = ctx.server();
    const [ann, bob, cat] = [await srv.user('ann'), await srv.user('bob'), await srv.user('cat')];
    const priv = await createChannel(ann.api, unique('priv'), 'private');
    ok(await ann.api.post(`/api/channels/${priv.id}/members`, { userIds: [cat.id] }));

    const m1 = await send(ann.api, priv.id, `hey @${bob.username} and @${cat.username}, also @channel`);
    assert.deepEqual(m1.mentions.userIds, [cat.id], 'a non-member is not resolved as a mention');
    const bobN = ok(await bob.api.get('/api/notifications')).notifications;
    assert.equal(bobN.filter((n: any) => n.channelId === priv.id).length, 0, 'non-member notified of a private message');
    const catN = ok(await cat.api.get('/api/notifications')).notifications.filter((n: any) => n.channelId === priv.id);
    assert.equal(catN.length, 1);
    assert.equal(catN[0].kind, 'mention');
    assert.equal(catN[0].messageId, m1.id);

    // A DM between ann and cat notifies cat, never bob.
    const dm = ok(await ann.api.post('/api/dms', { userIds: [cat.id] }));
    await send(ann.api, dm.id, `psst @${bob.username}`);
    assert.equal(ok(await bob.api.get('/api/notifications')).notifications.length, 0);
    assert.equal(
      ok(await cat.api.get('/api/notifications?unread=true')).notifications.filter((n: any) => n.channelId === dm.id && n.kind === 'dm')
        .length,
      1,
    );

    // Nobody can mark someone else's notifications read.
    assert.equal(ok(await bob.api.post('/api/notifications/read', { ids: catN.map((n: any) => n.id) })).updated, 0);
    assert.equal(
      ok(await cat.api.get('/api/notifications?unread=true')).notifications.filter((n: any) => n.id === catN[0].id).length,
      1,
      "bob marked cat's notification read",
    );

    // After leaving, the private channel's notifications disappear and its routes answer 404.
    assert.equal((await cat.api.post(`/api/channels/${priv.id}/leave`)).status, 204);
    const after = ok(await cat.api.get('/api/notifications')).notifications;
    assert.equal(after.filter((n: any) => n.channelId === priv.id).length, 0, 'notifications of a left private channel still listed');
    assert.equal(
      ok(await cat.api.get('/api/notifications?unread=true')).notifications.filter((n: any) => n.channelId === priv.id).length,
      0,
    );
    assertError(await cat.api.get(`/api/channels/${priv.id}/messages`), 404, 'NOT_FOUND', 'history after leaving');
    assertError(await cat.api.get(`/api/messages/${m1.id}`), 404, 'NOT_FOUND', 'message after leaving');

    // A later mention of the former member creates nothing for them.
    await send(ann.api, priv.id, `still there @${cat.username}?`);
    assert.equal(ok(await cat.api.get('/api/notifications')).notifications.filter((n: any) => n.channelId === priv.id).length, 0);
  });

  it('guests: no browsing, creating, joining public channels or starting DMs; they see only channels they were added to', async () => {
    const srv = ctx.server();
    const [ann, g0] = [await srv.user('ann'), await srv.user('guest')];
    const pub = await createChannel(ann.api, unique('pub'));
    const other = await createChannel(ann.api, unique('pub'));
    const priv = await createChannel(ann.api, unique('priv'), 'private');
    const g = await withRole(srv, owner, g0, 'guest');
    assert.equal(ok(await g.api.get('/api/users/me')).role, 'guest');

    assertError(await g.api.get('/api/channels?browse=public'), 403, 'FORBIDDEN', 'guest browse');
    assertError(await g.api.post('/api/channels', { name: unique('g'), type: 'public' }), 403, 'FORBIDDEN', 'guest create public');
    assertError(await g.api.post('/api/channels', { name: unique('g'), type: 'private' }), 403, 'FORBIDDEN', 'guest create private');
    assertError(await g.api.post(`/api/channels/${pub.id}/join`), 404, 'NOT_FOUND', 'guest join public');
    assertError(await g.api.get(`/api/channels/${pub.id}`), 404, 'NOT_FOUND', 'guest get public');
    assertError(await g.api.get(`/api/channels/${pub.id}/messages`), 404, 'NOT_FOUND', 'guest public history');
    assertError(await g.api.post('/api/dms', { userIds: [ann.id] }), 403, 'FORBIDDEN', 'guest DM');
    assert.deepEqual(ok(await g.api.get('/api/channels')).channels, []);
    assert.equal(ok(await ann.api.get(`/api/channels/${pub.id}`)).memberCount, 1, 'guest joined anyway');

    // Added by members: exactly those channels become visible, and the guest may talk there.
    ok(await ann.api.post(`/api/channels/${pub.id}/members`, { userIds: [g.id] }));
    ok(await ann.api.post(`/api/channels/${priv.id}/members`, { userIds: [g.id] }));
    const mine = ok(await g.api.get('/api/channels'))
      .channels.map((c: any) => c.id)
      .sort();
    assert.deepEqual(mine, [pub.id, priv.id].sort());
    await send(g.api, priv.id, 'hello from a guest');
    assert.equal(ok(await g.api.get(`/api/channels/${pub.id}`)).id, pub.id);
    assertError(await g.api.get(`/api/channels/${other.id}`), 404, 'NOT_FOUND', 'guest get other public');
    // Messages of a public channel the guest was not added to do not exist for the guest either.
    const otherMsg = await send(ann.api, other.id, `hello @${g.username} and @channel`);
    for (const [what, run] of [
      ['GET message', () => g.api.get(`/api/messages/${otherMsg.id}`)],
      ['GET thread', () => g.api.get(`/api/messages/${otherMsg.id}/thread`)],
      ['PUT reaction', () => g.api.put(`/api/messages/${otherMsg.id}/reactions/thumbsup`)],
      ['GET members', () => g.api.get(`/api/channels/${other.id}/members`)],
      ['POST read', () => g.api.post(`/api/channels/${other.id}/read`, { seq: 1 })],
    ] as const) {
      assertError(await run(), 404, 'NOT_FOUND', `guest ${what} in a public channel`);
    }
    assert.equal(
      ok(await g.api.get('/api/notifications')).notifications.filter((n: any) => n.channelId === other.id).length,
      0,
      'guest notified from a channel they are not in',
    );
    assertError(await g.api.post(`/api/channels/${priv.id}/members`, { userIds: [ann.id] }), 403, 'FORBIDDEN', 'guest adds members');
  });

  it('workspace roles and e-mail addresses: only owners/admins change roles or bulk-create; e-mail is private', async () => {
    const srv = ctx.server();
    const [ann, bob] = [await srv.user('ann'), await srv.user('bob')];
    assertError(await ann.api.patch(`/api/admin/users/${ann.id}`, { role: 'owner' }), 403, 'FORBIDDEN', 'member makes themselves owner');
    assertError(await ann.api.patch(`/api/admin/users/${bob.id}`, { role: 'guest' }), 403, 'FORBIDDEN', 'member demotes another');
    assertError(await owner.api.patch(`/api/admin/users/${owner.id}`, { role: 'member' }), 403, 'FORBIDDEN', 'owner changes own role');
    const name = unique('bulk');
    assertError(
      await ann.api.post('/api/admin/users/bulk', {
        users: [{ email: `${name}@example.test`, username: name, password: 'correct horse battery' }],
      }),
      403,
      'FORBIDDEN',
      'member bulk-creates',
    );
    assertError(
      await srv.api.post('/api/auth/signin', { login: name, password: 'correct horse battery' }),
      401,
      'INVALID_CREDENTIALS',
      'bulk user exists',
    );
    // A moderator cannot grant roles either.
    const mod = await withRole(srv, owner, await srv.user('mod'), 'moderator');
    assertError(await mod.api.patch(`/api/admin/users/${bob.id}`, { role: 'moderator' }), 403, 'FORBIDDEN', 'moderator grants a role');
    assert.equal(ok(await owner.api.get(`/api/users/${bob.id}`)).role, 'member');
    assert.equal(ok(await owner.api.get(`/api/users/${ann.id}`)).role, 'member');
    // E-mail: shown to the user and to workspace admins, never to other members.
    assert.equal(ok(await bob.api.get(`/api/users/${ann.id}`)).email, undefined);
    assert.ok(!ok(await bob.api.get(`/api/users?q=${ann.username}`)).users.some((u: any) => 'email' in u), 'directory leaks e-mail');
    assert.equal(ok(await ann.api.get('/api/users/me')).email, `${ann.username}@example.test`);
    assert.equal(ok(await owner.api.get(`/api/users/${ann.id}`)).email, `${ann.username}@example.test`);
  });

  it('edit is author-only; delete by author, channel admin/owner or workspace moderator, refused to others', async () => {
    const srv = ctx.server();
    const [ann, cat, dan, mod0] = [await srv.user('ann'), await srv.user('cat'), await srv.user('dan'), await srv.user('mod')];
    const mod = await withRole(srv, owner, mod0, 'moderator');
    const ch = await createChannel(ann.api, unique('pub')); // ann: channel owner
    ok(await ann.api.post(`/api/channels/${ch.id}/members`, { userIds: [cat.id, dan.id] }));
    const [d1, d2, d3, d4] = [
      await send(dan.api, ch.id, 'd1'),
      await send(dan.api, ch.id, 'd2'),
      await send(dan.api, ch.id, 'd3'),
      await send(dan.api, ch.id, 'd4'),
    ];

    // Edit: author only — not the channel owner, not a moderator, not the workspace owner.
    for (const [who, u] of [
      ['channel owner', ann],
      ['member', cat],
      ['moderator', mod],
      ['workspace owner', owner],
    ] as const) {
      assertError(await u.api.patch(`/api/messages/${d1.id}`, { text: 'not yours' }), 403, 'FORBIDDEN', `edit by ${who}`);
    }
    assert.equal(ok(await ann.api.get(`/api/messages/${d1.id}`)).text, 'd1');
    const edited = ok(await dan.api.patch(`/api/messages/${d1.id}`, { text: 'd1 edited' }));
    assert.equal(edited.text, 'd1 edited');
    assert.equal(typeof edited.editedAt, 'string');

    // Delete: a plain member is refused; the message stays.
    assertError(await cat.api.del(`/api/messages/${d1.id}`), 403, 'FORBIDDEN', 'delete by plain member');
    assert.equal(ok(await ann.api.get(`/api/messages/${d1.id}`)).deletedAt, null);
    // Author, channel owner, channel admin, workspace moderator (not even a member) may.
    assert.equal(typeof ok(await dan.api.del(`/api/messages/${d1.id}`)).deletedAt, 'string');
    assert.equal(typeof ok(await ann.api.del(`/api/messages/${d2.id}`)).deletedAt, 'string');
    assert.equal(
      (await cat.api.patch(`/api/channels/${ch.id}/members/${cat.id}`, { role: 'admin' })).status,
      403,
      'a member made themselves admin',
    );
    assert.equal((await ann.api.patch(`/api/channels/${ch.id}/members/${cat.id}`, { role: 'admin' })).status, 204);
    assert.equal(typeof ok(await cat.api.del(`/api/messages/${d3.id}`)).deletedAt, 'string');
    assert.equal(typeof ok(await mod.api.del(`/api/messages/${d4.id}`)).deletedAt, 'string');
    // Soft delete keeps every seq.
    const seqs = ok(await ann.api.get(`/api/channels/${ch.id}/messages`)).messages.map((m: any) => m.seq);
    assert.deepEqual(seqs, [4, 3, 2, 1]);
  });

  it('rename by channel admins only; archive by channel owner or workspace admin; archived channels refuse sends', async () => {
    const srv = ctx.server();
    const [ann, cat, dan] = [await srv.user('ann'), await srv.user('cat'), await srv.user('dan')];
    const ch = await createChannel(ann.api, unique('pub'));
    ok(await ann.api.post(`/api/channels/${ch.id}/members`, { userIds: [cat.id, dan.id] }));
    await send(dan.api, ch.id, 'before archive');

    const newName = unique('renamed');
    assertError(await dan.api.patch(`/api/channels/${ch.id}`, { name: newName }), 403, 'FORBIDDEN', 'rename by member');
    assert.equal(ok(await ann.api.get(`/api/channels/${ch.id}`)).name, ch.name);
    assert.equal((await ann.api.patch(`/api/channels/${ch.id}/members/${cat.id}`, { role: 'admin' })).status, 204);
    assert.equal(ok(await cat.api.patch(`/api/channels/${ch.id}`, { name: newName })).name, newName);
    assert.equal(ok(await ann.api.patch(`/api/channels/${ch.id}`, { topic: 'owner topic' })).topic, 'owner topic');

    // A channel admin who is not the owner cannot archive; nor can a member.
    assertError(await cat.api.del(`/api/channels/${ch.id}`), 403, 'FORBIDDEN', 'archive by channel admin');
    assertError(await dan.api.del(`/api/channels/${ch.id}`), 403, 'FORBIDDEN', 'archive by member');
    assert.equal(ok(await ann.api.get(`/api/channels/${ch.id}`)).archivedAt, null);
    assert.equal(typeof ok(await ann.api.del(`/api/channels/${ch.id}`)).archivedAt, 'string');

    // The workspace owner archives a channel they are not a member of.
    const ch2 = await createChannel(dan.api, unique('pub'));
    assert.equal(typeof ok(await owner.api.del(`/api/channels/${ch2.id}`)).archivedAt, 'string');

    for (const [id, u] of [
      [ch.id, dan],
      [ch2.id, dan],
    ] as const) {
      const before = ok(await u.api.get(`/api/channels/${id}`)).lastSeq;
      assertError(await u.api.post(`/api/channels/${id}/messages`, { text: 'too late' }), 409, 'CHANNEL_ARCHIVED', 'send after archive');
      assert.equal(ok(await u.api.get(`/api/channels/${id}`)).lastSeq, before);
    }
    assertError(await ann.api.patch(`/api/channels/${ch.id}`, { topic: 'x' }), 409, 'CHANNEL_ARCHIVED', 'PATCH after archive');
  });

  it('a member removed after sending gets the errors of a cold send, and nothing is written (the checked send path)', async () => {
    // After a first send the server knows the channel and writes without a read before it
    // (MessageService.send's checked path); a refusal must still answer exactly as before.
    const srv = ctx.server();
    const [ann, bob, cat] = [await srv.user('ann'), await srv.user('bob'), await srv.user('cat')];
    const pub = await createChannel(ann.api, unique('pub'));
    const priv = await createChannel(ann.api, unique('priv'), 'private');
    ok(await ann.api.post(`/api/channels/${pub.id}/members`, { userIds: [bob.id, cat.id] }));
    ok(await ann.api.post(`/api/channels/${priv.id}/members`, { userIds: [bob.id, cat.id] }));
    for (const id of [pub.id, priv.id]) {
      await send(bob.api, id, 'first');
      await send(bob.api, id, `second @${cat.username}`, { clientMsgId: 'bob-2' });
    }
    // The second send was written on the checked path with its mention.
    const mentions = ok(await cat.api.get('/api/notifications')).notifications.filter((n: any) => n.kind === 'mention');
    assert.equal(mentions.length, 2, 'a mention notification per channel');
    assert.equal((await ann.api.del(`/api/channels/${pub.id}/members/${bob.id}`)).status, 204);
    assert.equal((await ann.api.del(`/api/channels/${priv.id}/members/${bob.id}`)).status, 204);
    for (const [id, status, code] of [
      [pub.id, 403, 'NOT_A_MEMBER'],
      [priv.id, 404, 'NOT_FOUND'],
    ] as const) {
      const before = ok(await ann.api.get(`/api/channels/${id}`)).lastSeq;
      assertError(await bob.api.post(`/api/channels/${id}/messages`, { text: 'after removal' }), status, code, 'send after removal');
      // A retry of an earlier send's clientMsgId is refused too, not answered with the original.
      assertError(
        await bob.api.post(`/api/channels/${id}/messages`, { text: `second @${cat.username}`, clientMsgId: 'bob-2' }),
        status,
        code,
        'retry after removal',
      );
      assert.equal(ok(await ann.api.get(`/api/channels/${id}`)).lastSeq, before, 'no seq taken');
    }
    // In a DM, a send on the checked path notifies the other member as a cold one does.
    const dm = ok(await bob.api.post('/api/dms', { userIds: [cat.id] }));
    await send(bob.api, dm.id, 'dm one');
    await send(bob.api, dm.id, 'dm two');
    const dms = ok(await cat.api.get('/api/notifications')).notifications.filter((n: any) => n.kind === 'dm' && n.channelId === dm.id);
    assert.equal(dms.length, 2, 'a dm notification per message');
  });

  it('unauthenticated requests get 401 UNAUTHENTICATED; bad tokens 401 TOKEN_INVALID', async () => {
    const srv = ctx.server();
    const ann = await srv.user('ann');
    const ch = await createChannel(ann.api, unique('pub'));
    for (const [method, path] of [
      ['GET', '/api/channels'],
      ['GET', `/api/channels/${ch.id}`],
      ['GET', `/api/channels/${ch.id}/messages`],
      ['GET', '/api/users/me'],
      ['GET', '/api/notifications'],
    ] as const) {
      assertError(await srv.api.req(method, path), 401, 'UNAUTHENTICATED', `${method} ${path} without token`);
    }
    assertError(await srv.api.post(`/api/channels/${ch.id}/messages`, { text: 'anon' }), 401, 'UNAUTHENTICATED', 'anonymous send');
    assertError(
      await srv.api.req('GET', '/api/channels', undefined, { headers: { authorization: `Basic ${b64('ann:pw')}` } }),
      401,
      'UNAUTHENTICATED',
      'Basic auth',
    );
    assertError(
      await srv.api.req('GET', '/api/channels', undefined, { headers: { authorization: 'Bearer' } }),
      401,
      'UNAUTHENTICATED',
      'empty Bearer',
    );

    const [h, p, s] = ann.token.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = b64(JSON.stringify({ ...payload, role: 'owner' }));
    const tokens: Array<[string, string]> = [
      ['payload changed, signature kept', `${h}.${forged}.${s}`],
      ['signature flipped', `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`],
      ['alg none', `${b64(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${forged}.`],
      ['alg none, original payload', `${b64(JSON.stringify({ alg: 'none' }))}.${p}.`],
      ['signed with another key', `${h}.${forged}.${createHmac('sha256', 'not-the-key').update(`${h}.${forged}`).digest('base64url')}`],
      ['garbage', 'abc.def.ghi'],
    ];
    for (const [what, t] of tokens) {
      assertError(await srv.api.as(t).get('/api/users/me'), 401, 'TOKEN_INVALID', what);
      assertError(await srv.api.as(t).post(`/api/channels/${ch.id}/messages`, { text: 'forged' }), 401, 'TOKEN_INVALID', `${what} (send)`);
    }
    assert.equal(ok(await ann.api.get(`/api/channels/${ch.id}`)).lastSeq, 0, 'a refused send wrote a message');

    // Signed with the server's own key: algorithm, issuer, audience and expiry are still pinned.
    const secret = await srv.running.store.meta.get('jwt_secret'); // the test server sets no NCHAT_JWT_SECRET
    assert.ok(secret, 'no JWT secret found');
    const key = new TextEncoder().encode(secret);
    const now = Math.floor(Date.now() / 1000);
    const mint = (o: { alg?: string; iss?: string; aud?: string; exp?: number; role?: string | null; sub?: string } = {}) => {
      // The session id (sid) of ann's real token: every access token names its session (issue 7).
      const { sid } = JSON.parse(Buffer.from(ann.token.split('.')[1], 'base64url').toString());
      const claims: Record<string, unknown> = o.role === null ? { sid } : { role: o.role ?? 'owner', sid };
      return new SignJWT(claims)
        .setProtectedHeader({ alg: o.alg ?? 'HS256' })
        .setSubject(o.sub ?? ann.id)
        .setIssuer(o.iss ?? 'nchat')
        .setAudience(o.aud ?? 'nchat')
        .setIssuedAt(now - 60)
        .setExpirationTime(o.exp ?? now + 300)
        .sign(key);
    };
    assert.equal(
      ok(await srv.api.as(await mint({ role: 'member' })).get('/api/users/me')).id,
      ann.id,
      'control: a well-formed token is accepted',
    );
    for (const [what, t, code] of [
      ['HS512', await mint({ alg: 'HS512' }), 'TOKEN_INVALID'],
      ['HS384', await mint({ alg: 'HS384' }), 'TOKEN_INVALID'],
      ['other issuer', await mint({ iss: 'evil' }), 'TOKEN_INVALID'],
      ['other audience', await mint({ aud: 'evil' }), 'TOKEN_INVALID'],
      ['no role claim', await mint({ role: null }), 'TOKEN_INVALID'],
      ['expired', await mint({ exp: now - 10 }), 'TOKEN_EXPIRED'],
    ] as const) {
      assertError(await srv.api.as(t).get('/api/users/me'), 401, code, what);
    }

    // The node keeps a token it verified (lib/verified-tokens.ts): the kept one still expires at
    // its exp, to the second, like one verified afresh.
    const exp = Math.floor(Date.now() / 1000) + 3;
    const short = await mint({ role: 'member', exp });
    assert.equal(ok(await srv.api.as(short).get('/api/users/me')).id, ann.id, 'accepted before its exp (and kept)');
    assert.equal(ok(await srv.api.as(short).get('/api/users/me')).id, ann.id, 'accepted again from the kept copy');
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 50));
    assertError(await srv.api.as(short).get('/api/users/me'), 401, 'TOKEN_EXPIRED', 'the kept token expires at its exp');

    assert.equal(ok(await ann.api.get('/api/users/me')).id, ann.id);
  });
});
