// Channel behaviour over HTTP on SQLite and PostgreSQL: create, names, the sidebar list with
// unread state, browse, join/leave, members and channel admins, rename/topic, archive, DMs
// (one channel per set of people) and read positions.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { forEachBackend, unique, type TestUser } from '../helpers/server.js';
import { assertError, createChannel, ok, send } from './util.js';
import { UNREAD_COUNT_CAP } from '../../src/protocol/objects.js';

const ids = (xs: any[]) => xs.map((x) => x.id);

await forEachBackend('channels', (ctx) => {
  const listed = async (u: TestUser, id: string) => ok(await u.api.get('/api/channels')).channels.find((c: any) => c.id === id);

  it('creates public and private channels (201) with the creator as owner', async () => {
    const srv = ctx.server();
    const ann = await srv.user('ann');
    const name = unique('Pub');
    const pub = ok(await ann.api.post('/api/channels', { name, type: 'public', description: 'the place', topic: 'hello' }), 201);
    assert.equal(typeof pub.id, 'string');
    assert.equal(pub.type, 'public');
    assert.equal(pub.name, name.toLowerCase(), 'names are stored lower-case');
    assert.equal(pub.description, 'the place');
    assert.equal(pub.topic, 'hello');
    assert.equal(pub.createdBy, ann.id);
    assert.equal(pub.archivedAt, null);
    assert.equal(pub.lastSeq, 0);
    assert.equal(pub.memberCount, 1);
    const priv = ok(await ann.api.post('/api/channels', { name: unique('priv'), type: 'private' }), 201);
    assert.equal(priv.type, 'private');
    assert.equal(priv.description, '');
    assert.deepEqual(ok(await ann.api.get(`/api/channels/${pub.id}`)), pub);
    const members = ok(await ann.api.get(`/api/channels/${priv.id}/members`)).members;
    assert.deepEqual(
      members.map((m: any) => [m.userId, m.role, m.readSeq]),
      [[ann.id, 'owner', 0]],
    );
    const mine = ok(await ann.api.get('/api/channels')).channels;
    assert.deepEqual(ids(mine).sort(), [pub.id, priv.id].sort());
    for (const c of mine) assert.equal(c.memberRole, 'owner');
  });

  it('channel names are unique case-insensitively across public and private → 409 CHANNEL_NAME_TAKEN', async () => {
    const srv = ctx.server();
    const [ann, bob] = [await srv.user('ann'), await srv.user('bob')];
    const base = unique('Dup');
    const first = await createChannel(ann.api, base);
    for (const [name, type] of [
      [base, 'public'],
      [base.toUpperCase(), 'public'],
      [base.toLowerCase(), 'private'],
    ] as const) {
      assertError(await bob.api.post('/api/channels', { name, type }), 409, 'CHANNEL_NAME_TAKEN', `create ${name} (${type})`);
    }
    const other = await createChannel(bob.api, unique('other'), 'private');
    assertError(
      await bob.api.patch(`/api/channels/${other.id}`, { name: base.toUpperCase() }),
      409,
      'CHANNEL_NAME_TAKEN',
      'rename onto a taken name',
    );
    assert.equal(ok(await bob.api.get(`/api/channels/${other.id}`)).name, other.name);
    const taken = ok(await bob.api.get('/api/channels?browse=public')).channels.filter((c: any) => c.name === base.toLowerCase());
    assert.deepEqual(ids(taken), [first.id], 'exactly one channel holds the name');
    // Renaming to its own name in another case is not a conflict.
    assert.equal(ok(await ann.api.patch(`/api/channels/${first.id}`, { name: base.toUpperCase() })).name, base.toLowerCase());
  });

  it('lists the caller’s channels with lastSeq, readSeq, unreadCount and mentionCount', async () => {
    const srv = ctx.server();
    const [ann, bob] = [await srv.user('ann'), await srv.user('bob')];
    const ch = await createChannel(ann.api, unique('list'));
    ok(await bob.api.post(`/api/channels/${ch.id}/join`));
    await send(ann.api, ch.id, 'mine: never unread for me');
    await send(bob.api, ch.id, 'one');
    await send(bob.api, ch.id, `two @${ann.username}`);
    await send(bob.api, ch.id, 'three');
    await send(bob.api, ch.id, 'four @channel');
    let a = await listed(ann, ch.id);
    assert.equal(a.lastSeq, 5);
    assert.equal(a.readSeq, 1, "sending moves the author's read position");
    assert.equal(a.unreadCount, 4);
    assert.equal(a.mentionCount, 2);
    assert.equal(a.memberRole, 'owner');
    const b = await listed(bob, ch.id);
    assert.deepEqual([b.lastSeq, b.readSeq, b.unreadCount, b.mentionCount, b.memberRole], [5, 5, 0, 0, 'member']);

    assert.equal(ok(await ann.api.post(`/api/channels/${ch.id}/read`, { seq: 3 })).readSeq, 3);
    a = await listed(ann, ch.id);
    assert.deepEqual([a.readSeq, a.unreadCount, a.mentionCount], [3, 2, 1]);
    // A deleted unread message no longer counts.
    const five = ok(await ann.api.get(`/api/channels/${ch.id}/messages?limit=1`)).messages[0];
    ok(await bob.api.del(`/api/messages/${five.id}`));
    a = await listed(ann, ch.id);
    assert.deepEqual([a.readSeq, a.unreadCount, a.mentionCount], [3, 1, 0]);
    ok(await ann.api.post(`/api/channels/${ch.id}/read`, { seq: 5 }));
    a = await listed(ann, ch.id);
    assert.deepEqual([a.readSeq, a.unreadCount, a.mentionCount], [5, 0, 0]);
  });

  it(`unreadCount and mentionCount stop at UNREAD_COUNT_CAP (${UNREAD_COUNT_CAP}), exact below it`, async () => {
    const srv = ctx.server();
    const [ann, bob] = [await srv.user('ann'), await srv.user('bob')];
    const ch = await createChannel(ann.api, unique('cap'));
    ok(await bob.api.post(`/api/channels/${ch.id}/join`));
    // seq 1..60 mention @channel, 61..110 mention ann by name, 111..130 mention nobody: 130 unread, 110 mentions.
    for (let i = 1; i <= 130; i++)
      await send(bob.api, ch.id, i <= 60 ? `all ${i} @channel` : i <= 110 ? `you ${i} @${ann.username}` : `plain ${i}`);
    let a = await listed(ann, ch.id);
    assert.deepEqual([a.lastSeq, a.readSeq, a.unreadCount, a.mentionCount], [130, 0, UNREAD_COUNT_CAP, UNREAD_COUNT_CAP]);
    // At and below the cap the counts are exact: 100 unread, 30 + 50 mentions.
    ok(await ann.api.post(`/api/channels/${ch.id}/read`, { seq: 30 }));
    a = await listed(ann, ch.id);
    assert.deepEqual([a.readSeq, a.unreadCount, a.mentionCount], [30, 100, 80]);
    ok(await ann.api.post(`/api/channels/${ch.id}/read`, { seq: 31 }));
    a = await listed(ann, ch.id);
    assert.deepEqual([a.readSeq, a.unreadCount, a.mentionCount], [31, 99, 79]);
    // Deleted messages do not count: deleting the newest 20 (plain) leaves 79 unread.
    const page = ok(await ann.api.get(`/api/channels/${ch.id}/messages?limit=20`)).messages;
    for (const m of page) ok(await bob.api.del(`/api/messages/${m.id}`));
    a = await listed(ann, ch.id);
    assert.deepEqual([a.readSeq, a.unreadCount, a.mentionCount], [31, 79, 79]);
    ok(await ann.api.post(`/api/channels/${ch.id}/read`, { seq: 105 }));
    a = await listed(ann, ch.id);
    assert.deepEqual([a.readSeq, a.unreadCount, a.mentionCount], [105, 5, 5]);
  });

  it('browse=public lists public channels the caller may join, joined or not, never private or archived ones', async () => {
    const srv = ctx.server();
    const [ann, bob] = [await srv.user('ann'), await srv.user('bob')];
    const pub = await createChannel(ann.api, unique('brw'));
    const priv = await createChannel(ann.api, unique('brw'), 'private');
    const archived = await createChannel(ann.api, unique('brw'));
    ok(await ann.api.del(`/api/channels/${archived.id}`));
    const seen = ids(ok(await bob.api.get('/api/channels?browse=public&limit=200')).channels);
    assert.ok(seen.includes(pub.id), 'a public channel is missing');
    assert.ok(!seen.includes(priv.id), 'a private channel is listed');
    assert.ok(!seen.includes(archived.id), 'an archived channel (which cannot be joined) is listed');
    assert.ok(ids(ok(await ann.api.get('/api/channels?browse=public&limit=200')).channels).includes(pub.id), 'own public channel missing');
    assert.ok(!ids(ok(await bob.api.get('/api/channels')).channels).includes(pub.id), 'browse is not membership');
  });

  it('join and leave a public channel; joining is idempotent; private channels cannot be joined', async () => {
    const srv = ctx.server();
    const [ann, bob] = [await srv.user('ann'), await srv.user('bob')];
    const ch = await createChannel(ann.api, unique('join'));
    await send(ann.api, ch.id, 'before bob');
    const m = ok(await bob.api.post(`/api/channels/${ch.id}/join`));
    assert.deepEqual([m.channelId, m.userId, m.role], [ch.id, bob.id, 'member']);
    const again = ok(await bob.api.post(`/api/channels/${ch.id}/join`));
    assert.deepEqual([again.userId, again.role], [bob.id, 'member']);
    assert.equal(ok(await ann.api.get(`/api/channels/${ch.id}`)).memberCount, 2, 'a second join added a member');
    const b = await listed(bob, ch.id);
    assert.ok(b, 'joined channel not listed');
    assert.equal(b.unreadCount, 1, 'history before joining counts as unread');
    await send(bob.api, ch.id, 'hi, joined');

    assert.equal((await bob.api.post(`/api/channels/${ch.id}/leave`)).status, 204);
    assert.equal(await listed(bob, ch.id), undefined);
    assert.equal(ok(await ann.api.get(`/api/channels/${ch.id}`)).memberCount, 1);
    assertError(await bob.api.post(`/api/channels/${ch.id}/messages`, { text: 'gone' }), 403, 'NOT_A_MEMBER', 'send after leaving');
    assert.equal((await bob.api.post(`/api/channels/${ch.id}/leave`)).status, 204, 'leaving twice is a no-op');
    ok(await bob.api.post(`/api/channels/${ch.id}/join`));
    assert.equal(ok(await ann.api.get(`/api/channels/${ch.id}`)).memberCount, 2);

    const priv = await createChannel(ann.api, unique('join'), 'private');
    assertError(await bob.api.post(`/api/channels/${priv.id}/join`), 404, 'NOT_FOUND', 'join private');
    assert.equal(ok(await ann.api.get(`/api/channels/${priv.id}`)).memberCount, 1);
  });

  it('members: list, add (idempotent), unknown user id → 400 with nobody added, remove', async () => {
    const srv = ctx.server();
    const [ann, bob, cat, dan] = [await srv.user('ann'), await srv.user('bob'), await srv.user('cat'), await srv.user('dan')];
    const ch = await createChannel(ann.api, unique('mem'), 'private');
    assert.deepEqual(
      ok(await ann.api.post(`/api/channels/${ch.id}/members`, { userIds: [bob.id, cat.id] })).added.sort(),
      [bob.id, cat.id].sort(),
    );
    assert.deepEqual(ok(await ann.api.post(`/api/channels/${ch.id}/members`, { userIds: [bob.id] })).added, [], 'already a member');
    const ghost = '0000000000000000000000';
    assertError(await ann.api.post(`/api/channels/${ch.id}/members`, { userIds: [ghost] }), 400, 'VALIDATION_FAILED', 'unknown user');
    assertError(
      await ann.api.post(`/api/channels/${ch.id}/members`, { userIds: [dan.id, ghost] }),
      400,
      'VALIDATION_FAILED',
      'known + unknown',
    );
    assertError(await ann.api.post(`/api/channels/${ch.id}/members`, { userIds: [] }), 400, 'VALIDATION_FAILED', 'empty list');
    assertError(
      await ann.api.post(`/api/channels/${ch.id}/members`, { userIds: [dan.id, dan.id] }),
      400,
      'VALIDATION_FAILED',
      'duplicates',
    );
    const members = ok(await cat.api.get(`/api/channels/${ch.id}/members`)).members;
    assert.deepEqual(members.map((m: any) => m.userId).sort(), [ann.id, bob.id, cat.id].sort(), 'dan was half-added');
    assert.equal(ok(await ann.api.get(`/api/channels/${ch.id}`)).memberCount, 3);
    assertError(await dan.api.get(`/api/channels/${ch.id}`), 404, 'NOT_FOUND', 'dan sees the channel');
    // Paging the member list.
    const page1 = ok(await ann.api.get(`/api/channels/${ch.id}/members?limit=2`)).members;
    assert.equal(page1.length, 2);
    const page2 = ok(await ann.api.get(`/api/channels/${ch.id}/members?limit=2&after=${page1[1].userId}`)).members;
    assert.deepEqual([...page1, ...page2].map((m: any) => m.userId).sort(), [ann.id, bob.id, cat.id].sort());

    // Removal: plain members may not remove others; the owner may; anyone may remove themselves.
    assertError(await bob.api.del(`/api/channels/${ch.id}/members/${cat.id}`), 403, 'FORBIDDEN', 'member removes member');
    assert.equal((await ann.api.del(`/api/channels/${ch.id}/members/${cat.id}`)).status, 204);
    assertError(await cat.api.get(`/api/channels/${ch.id}/messages`), 404, 'NOT_FOUND', 'removed member reads');
    assert.equal((await bob.api.del(`/api/channels/${ch.id}/members/${bob.id}`)).status, 204);
    assert.deepEqual(
      ok(await ann.api.get(`/api/channels/${ch.id}/members`)).members.map((m: any) => m.userId),
      [ann.id],
    );
  });

  it('channel admins: the owner promotes and demotes; admins manage the channel; the owner role is fixed', async () => {
    const srv = ctx.server();
    const [ann, bob, cat] = [await srv.user('ann'), await srv.user('bob'), await srv.user('cat')];
    const ch = await createChannel(ann.api, unique('adm'));
    ok(await ann.api.post(`/api/channels/${ch.id}/members`, { userIds: [bob.id, cat.id] }));
    const roleOf = async (id: string) =>
      ok(await ann.api.get(`/api/channels/${ch.id}/members`)).members.find((m: any) => m.userId === id)?.role;

    assertError(await bob.api.patch(`/api/channels/${ch.id}/members/${cat.id}`, { role: 'admin' }), 403, 'FORBIDDEN', 'member promotes');
    assert.equal((await ann.api.patch(`/api/channels/${ch.id}/members/${bob.id}`, { role: 'admin' })).status, 204);
    assert.equal(await roleOf(bob.id), 'admin');
    assert.equal((await listed(bob, ch.id)).memberRole, 'admin');
    // An admin can rename, set the topic, promote and remove members.
    assert.equal(ok(await bob.api.patch(`/api/channels/${ch.id}`, { topic: 'by the admin' })).topic, 'by the admin');
    assert.equal((await bob.api.patch(`/api/channels/${ch.id}/members/${cat.id}`, { role: 'admin' })).status, 204);
    assert.equal(await roleOf(cat.id), 'admin');
    assertError(
      await bob.api.patch(`/api/channels/${ch.id}/members/${ann.id}`, { role: 'member' }),
      403,
      'FORBIDDEN',
      "change the owner's role",
    );
    assert.equal(await roleOf(ann.id), 'owner');
    assertError(
      await ann.api.patch(`/api/channels/${ch.id}/members/${ann.id}`, { role: 'admin' }),
      403,
      'FORBIDDEN',
      'owner demotes themselves',
    );
    // Nor can an admin (or the workspace owner) remove the channel owner.
    assertError(await bob.api.del(`/api/channels/${ch.id}/members/${ann.id}`), 403, 'FORBIDDEN', 'admin removes the owner');
    assertError(
      await srv.owner.api.del(`/api/channels/${ch.id}/members/${ann.id}`),
      403,
      'FORBIDDEN',
      'workspace owner removes the channel owner',
    );
    assert.equal(await roleOf(ann.id), 'owner');
    // An admin may remove another member.
    const dan = await srv.user('dan');
    ok(await bob.api.post(`/api/channels/${ch.id}/members`, { userIds: [dan.id] }));
    assert.equal((await bob.api.del(`/api/channels/${ch.id}/members/${dan.id}`)).status, 204);
    assert.equal(await roleOf(dan.id), undefined);
    assertError(
      await ann.api.patch(`/api/channels/${ch.id}/members/${'0000000000000000000000'}`, { role: 'admin' }),
      404,
      'NOT_FOUND',
      'promote a non-member',
    );
    assertError(
      await ann.api.patch(`/api/channels/${ch.id}/members/${cat.id}`, { role: 'owner' }),
      400,
      'VALIDATION_FAILED',
      'grant owner',
    );
    // Demoted, bob can no longer change the channel.
    assert.equal((await ann.api.patch(`/api/channels/${ch.id}/members/${bob.id}`, { role: 'member' })).status, 204);
    assert.equal(await roleOf(bob.id), 'member');
    assertError(await bob.api.patch(`/api/channels/${ch.id}`, { topic: 'no longer' }), 403, 'FORBIDDEN', 'demoted admin edits');
    assert.equal(ok(await ann.api.get(`/api/channels/${ch.id}`)).topic, 'by the admin');
  });

  it('rename, describe, topic; archive keeps history readable and stops writes', async () => {
    const srv = ctx.server();
    const [ann, bob] = [await srv.user('ann'), await srv.user('bob')];
    const ch = await createChannel(ann.api, unique('ren'));
    ok(await bob.api.post(`/api/channels/${ch.id}/join`));
    const newName = unique('Renamed');
    const u = ok(await ann.api.patch(`/api/channels/${ch.id}`, { name: newName, description: 'desc', topic: 'topic' }));
    assert.deepEqual([u.name, u.description, u.topic], [newName.toLowerCase(), 'desc', 'topic']);
    assert.deepEqual(ok(await bob.api.get(`/api/channels/${ch.id}`)), u);
    assert.equal(ok(await ann.api.patch(`/api/channels/${ch.id}`, { topic: '' })).topic, '', 'topic cleared');
    assert.equal(ok(await ann.api.get(`/api/channels/${ch.id}`)).name, newName.toLowerCase(), 'untouched fields stay');
    // The old name is free again.
    ok(await bob.api.post('/api/channels', { name: ch.name, type: 'public' }), 201);

    const msg = await send(bob.api, ch.id, 'last words');
    const archived = ok(await ann.api.del(`/api/channels/${ch.id}`));
    assert.equal(typeof archived.archivedAt, 'string');
    assert.equal(ok(await ann.api.del(`/api/channels/${ch.id}`)).archivedAt, archived.archivedAt, 'archiving twice keeps the first time');
    assert.equal(ok(await bob.api.get(`/api/channels/${ch.id}/messages`)).messages[0].id, msg.id, 'history stays readable');
    assertError(await bob.api.post(`/api/channels/${ch.id}/messages`, { text: 'after' }), 409, 'CHANNEL_ARCHIVED', 'send');
    assertError(await bob.api.patch(`/api/messages/${msg.id}`, { text: 'edited' }), 409, 'CHANNEL_ARCHIVED', 'edit');
    assertError(await ann.api.patch(`/api/channels/${ch.id}`, { topic: 'x' }), 409, 'CHANNEL_ARCHIVED', 'rename');
    const cat = await srv.user('cat');
    assertError(await cat.api.post(`/api/channels/${ch.id}/join`), 409, 'CHANNEL_ARCHIVED', 'join');
    assertError(await ann.api.post(`/api/channels/${ch.id}/members`, { userIds: [cat.id] }), 409, 'CHANNEL_ARCHIVED', 'add member');
    assert.equal(ok(await ann.api.get(`/api/channels/${ch.id}`)).lastSeq, 1);
    assert.equal(ok(await ann.api.get(`/api/messages/${msg.id}`)).text, 'last words');
  });

  it('POST /api/dms: one channel per set of people, in any order, from any participant', async () => {
    const srv = ctx.server();
    const [ann, bob, cat, dan] = [await srv.user('ann'), await srv.user('bob'), await srv.user('cat'), await srv.user('dan')];
    const d1 = ok(await ann.api.post('/api/dms', { userIds: [bob.id] }));
    assert.equal(d1.type, 'direct');
    assert.equal(d1.name, null);
    assert.equal(d1.memberCount, 2);
    assert.equal(ok(await bob.api.post('/api/dms', { userIds: [ann.id] })).id, d1.id, 'from the other side');
    assert.equal(ok(await ann.api.post('/api/dms', { userIds: [bob.id, ann.id] })).id, d1.id, 'self included');
    assert.equal(ok(await ann.api.post('/api/dms', { userIds: [bob.id] })).id, d1.id, 'asked again');

    const g = ok(await ann.api.post('/api/dms', { userIds: [bob.id, cat.id] }));
    assert.equal(g.type, 'group');
    assert.equal(g.memberCount, 3);
    assert.notEqual(g.id, d1.id);
    assert.equal(ok(await cat.api.post('/api/dms', { userIds: [bob.id, ann.id] })).id, g.id);
    assert.equal(ok(await bob.api.post('/api/dms', { userIds: [cat.id, ann.id] })).id, g.id);
    const g2 = ok(await ann.api.post('/api/dms', { userIds: [bob.id, cat.id, dan.id] }));
    assert.notEqual(g2.id, g.id, 'a different set is a different channel');
    assert.equal(ok(await dan.api.post('/api/dms', { userIds: [cat.id, ann.id, bob.id] })).id, g2.id);

    const row = await listed(cat, g.id);
    assert.deepEqual(row.dmUserIds, [ann.id, bob.id, cat.id].sort());
    assert.equal(await listed(dan, g.id), undefined, 'an outsider lists the group');
    const m = await send(bob.api, g.id, 'group hello');
    assert.equal(ok(await cat.api.get(`/api/channels/${g.id}/messages`)).messages[0].id, m.id);
    assert.equal((await listed(ann, g.id)).unreadCount, 1);

    assertError(await ann.api.post('/api/dms', { userIds: ['0000000000000000000000'] }), 400, 'VALIDATION_FAILED', 'unknown user');
    assertError(await ann.api.post('/api/dms', { userIds: [] }), 400, 'VALIDATION_FAILED', 'nobody');
    assertError(await ann.api.post(`/api/channels/${d1.id}/members`, { userIds: [cat.id] }), 400, 'BAD_REQUEST', 'add to a DM');
    assertError(await ann.api.post(`/api/channels/${d1.id}/leave`), 400, 'BAD_REQUEST', 'leave a direct message');
    assert.deepEqual(
      ok(await ann.api.get(`/api/channels/${d1.id}/members`))
        .members.map((x: any) => x.userId)
        .sort(),
      [ann.id, bob.id].sort(),
    );
    assert.ok(!ids(ok(await ann.api.get('/api/channels?browse=public&limit=200')).channels).includes(d1.id), 'a DM is browsable');
  });

  it('races: concurrent DM opens give one channel; concurrent creates of one name give one 201 and 409s; concurrent joins count once', async () => {
    const srv = ctx.server();
    const [ann, bob, cat] = [await srv.user('ann'), await srv.user('bob'), await srv.user('cat')];
    const opens = await Promise.all([
      ...Array.from({ length: 4 }, () => ann.api.post('/api/dms', { userIds: [bob.id, cat.id] })),
      ...Array.from({ length: 4 }, () => bob.api.post('/api/dms', { userIds: [cat.id, ann.id] })),
      ...Array.from({ length: 4 }, () => cat.api.post('/api/dms', { userIds: [ann.id, bob.id] })),
    ]);
    for (const r of opens) ok(r, 200, 'concurrent DM open');
    assert.equal(new Set(opens.map((r) => r.body.id)).size, 1, 'concurrent opens created several channels');
    assert.equal(ok(await ann.api.get(`/api/channels/${opens[0].body.id}/members`)).members.length, 3);
    assert.equal(ok(await ann.api.get('/api/channels')).channels.filter((c: any) => c.type === 'group').length, 1);

    const name = unique('race');
    const creates = await Promise.all([ann, bob, cat, ann, bob, cat].map((u) => u.api.post('/api/channels', { name, type: 'public' })));
    assert.deepEqual(creates.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409]);
    for (const r of creates.filter((x) => x.status === 409)) assertError(r, 409, 'CHANNEL_NAME_TAKEN', 'concurrent create');
    const ch = creates.find((r) => r.status === 201)!.body;
    const others = [ann, bob, cat].filter((u) => u.id !== ch.createdBy);
    const joins = await Promise.all([...others, ...others, ...others].map((u) => u.api.post(`/api/channels/${ch.id}/join`)));
    for (const r of joins) ok(r, 200, 'concurrent join');
    assert.equal(ok(await ann.api.get(`/api/channels/${ch.id}`)).memberCount, 3);
    assert.equal(ok(await ann.api.get(`/api/channels/${ch.id}/members`)).members.length, 3);
  });

  it('read positions: POST read moves readSeq forward, never backwards, capped at lastSeq', async () => {
    const srv = ctx.server();
    const [ann, bob] = [await srv.user('ann'), await srv.user('bob')];
    const ch = await createChannel(ann.api, unique('read'));
    ok(await bob.api.post(`/api/channels/${ch.id}/join`));
    for (let i = 1; i <= 5; i++) await send(ann.api, ch.id, `m${i}`);
    const read = async (seq: number) => ok(await bob.api.post(`/api/channels/${ch.id}/read`, { seq })).readSeq;
    assert.equal(await read(0), 0);
    assert.equal(await read(3), 3);
    assert.equal(await read(2), 3, 'went backwards');
    assert.equal(await read(3), 3);
    assert.equal((await listed(bob, ch.id)).unreadCount, 2);
    assert.equal(await read(1000), 5, 'not capped at lastSeq');
    assert.equal(await read(2 ** 52), 5);
    let b = await listed(bob, ch.id);
    assert.deepEqual([b.readSeq, b.lastSeq, b.unreadCount], [5, 5, 0]);
    assert.equal(ok(await ann.api.get(`/api/channels/${ch.id}/members`)).members.find((m: any) => m.userId === bob.id).readSeq, 5);
    await send(ann.api, ch.id, 'm6');
    b = await listed(bob, ch.id);
    assert.deepEqual([b.readSeq, b.lastSeq, b.unreadCount], [5, 6, 1], 'the cap was not a future read');
    assert.equal(await read(6), 6);
    // Non-members of a public channel have no read position.
    const cat = await srv.user('cat');
    assertError(await cat.api.post(`/api/channels/${ch.id}/read`, { seq: 1 }), 404, 'NOT_FOUND', 'non-member read');
  });
});
