// Messages, threads, reactions, mentions, read state and notifications over real HTTP, on both backends.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { forEachBackend, unique, type TestServer, type TestUser } from '../helpers/server.js';
import { Client } from '../realtime/harness.js';
import { assertError, send } from './util.js';

async function channelWith(_srv: TestServer, owner: TestUser, others: TestUser[], type: 'public' | 'private' = 'public') {
  const c = await owner.api.post('/api/channels', { name: unique('ch'), type });
  assert.equal(c.status, 201);
  if (others.length)
    assert.equal((await owner.api.post(`/api/channels/${c.body.id}/members`, { userIds: others.map((o) => o.id) })).status, 200);
  return c.body.id as string;
}

await forEachBackend('messages', (ctx) => {
  it('send assigns gapless seqs; clientMsgId makes a send idempotent (201 then 200 with the original)', async () => {
    const srv = ctx.server();
    const a = await srv.user('a');
    const ch = await channelWith(srv, a, []);
    const sends = await Promise.all(
      Array.from({ length: 20 }, (_, i) => a.api.post(`/api/channels/${ch}/messages`, { text: `m${i}`, clientMsgId: `c-${i}` })),
    );
    assert.deepEqual(
      sends.map((s) => s.status),
      Array(20).fill(201),
    );
    assert.deepEqual(
      sends.map((s) => s.body.seq).sort((x, y) => x - y),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const again = await a.api.post(`/api/channels/${ch}/messages`, { text: 'different text', clientMsgId: 'c-3' });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, sends[3].body.id);
    assert.equal(again.body.text, 'm3');
    const both = await Promise.all(
      [0, 1, 2].map(() => a.api.post(`/api/channels/${ch}/messages`, { text: 'race', clientMsgId: 'c-race' })),
    );
    assert.equal(new Set(both.map((r) => r.body.id)).size, 1);
    assert.equal(both.filter((r) => r.status === 201).length, 1);
    const chan = await a.api.get(`/api/channels/${ch}`);
    assert.equal(chan.body.lastSeq, 21);
  });

  it('history pages by seq: newest first, before= and after= (oldest first)', async () => {
    const srv = ctx.server();
    const a = await srv.user('h');
    const ch = await channelWith(srv, a, []);
    for (let i = 1; i <= 12; i++) await a.api.post(`/api/channels/${ch}/messages`, { text: `n${i}` });
    const latest = await a.api.get(`/api/channels/${ch}/messages?limit=5`);
    assert.deepEqual(
      latest.body.messages.map((m: { seq: number }) => m.seq),
      [12, 11, 10, 9, 8],
    );
    const older = await a.api.get(`/api/channels/${ch}/messages?limit=5&before=8`);
    assert.deepEqual(
      older.body.messages.map((m: { seq: number }) => m.seq),
      [7, 6, 5, 4, 3],
    );
    const newer = await a.api.get(`/api/channels/${ch}/messages?limit=3&after=9`);
    assert.deepEqual(
      newer.body.messages.map((m: { seq: number }) => m.seq),
      [10, 11, 12],
    );
    const one = await a.api.get(`/api/messages/${latest.body.messages[0].id}`);
    assert.equal(one.body.text, 'n12');
  });

  it('edit by the author sets editedAt; delete keeps the seq and blanks the text', async () => {
    const srv = ctx.server();
    const a = await srv.user('e');
    const b = await srv.user('e');
    const ch = await channelWith(srv, a, [b]);
    const m = (await a.api.post(`/api/channels/${ch}/messages`, { text: 'first' })).body;
    const e = await a.api.patch(`/api/messages/${m.id}`, { text: 'edited' });
    assert.equal(e.status, 200);
    assert.equal(e.body.text, 'edited');
    assert.ok(e.body.editedAt);
    assertError(await b.api.patch(`/api/messages/${m.id}`, { text: 'nope' }), 403, 'FORBIDDEN', 'edit by another member');
    assertError(await b.api.del(`/api/messages/${m.id}`), 403, 'FORBIDDEN', 'delete by another member');
    const kept = (await a.api.get(`/api/messages/${m.id}`)).body;
    assert.deepEqual([kept.text, kept.deletedAt], ['edited', null], 'the refused edit and delete changed nothing');
    await send(a.api, ch, 'second');
    const d = await a.api.del(`/api/messages/${m.id}`);
    assert.equal(d.status, 200);
    assert.ok(d.body.deletedAt);
    const hist = await a.api.get(`/api/channels/${ch}/messages`);
    assert.deepEqual(
      hist.body.messages.map((x: { seq: number; text: string }) => [x.seq, x.text]),
      [
        [2, 'second'],
        [1, ''],
      ],
    );
  });

  it('threads: replies take channel seqs, the root counts them, /thread lists them', async () => {
    const srv = ctx.server();
    const a = await srv.user('t');
    const b = await srv.user('t');
    const ch = await channelWith(srv, a, [b]);
    const root = (await a.api.post(`/api/channels/${ch}/messages`, { text: 'root' })).body;
    const r1 = await b.api.post(`/api/channels/${ch}/messages`, { text: 'reply 1', parentId: root.id });
    const r2 = await a.api.post(`/api/channels/${ch}/messages`, { text: 'reply 2', parentId: root.id });
    assert.equal(r1.status, 201);
    assert.equal(r2.body.seq, 3);
    const t = await a.api.get(`/api/messages/${root.id}/thread`);
    assert.equal(t.body.root.replyCount, 2);
    assert.deepEqual(
      t.body.replies.map((x: { text: string }) => x.text),
      ['reply 1', 'reply 2'],
    );
    const nested = await a.api.post(`/api/channels/${ch}/messages`, { text: 'nested', parentId: r1.body.id });
    assertError(nested, 400, 'VALIDATION_FAILED', 'reply to a reply');
    const other = await channelWith(srv, a, []);
    const cross = await a.api.post(`/api/channels/${other}/messages`, { text: 'cross', parentId: root.id });
    assertError(cross, 400, 'VALIDATION_FAILED', 'reply across channels');
    // Nothing stored by the refused replies: the thread and both channels are as before.
    const t2 = await a.api.get(`/api/messages/${root.id}/thread`);
    assert.equal(t2.body.root.replyCount, 2);
    assert.deepEqual(
      (await a.api.get(`/api/channels/${ch}/messages`)).body.messages.map((x: { text: string }) => x.text),
      ['reply 2', 'reply 1', 'root'],
    );
    assert.deepEqual((await a.api.get(`/api/channels/${other}/messages`)).body.messages, []);
  });

  it('reactions: add and remove are idempotent and summarised per emoji', async () => {
    const srv = ctx.server();
    const a = await srv.user('r');
    const b = await srv.user('r');
    const ch = await channelWith(srv, a, [b]);
    const m = (await a.api.post(`/api/channels/${ch}/messages`, { text: 'react to me' })).body;
    for (const api of [a.api, a.api, b.api]) assert.equal((await api.put(`/api/messages/${m.id}/reactions/thumbsup`)).status, 200);
    const r = await b.api.put(`/api/messages/${m.id}/reactions/${encodeURIComponent('🎉')}`);
    assert.equal(r.status, 200);
    const got = (await a.api.get(`/api/messages/${m.id}`)).body.reactions;
    const thumbs = got.find((x: { emoji: string }) => x.emoji === 'thumbsup');
    assert.equal(thumbs.count, 2);
    assert.deepEqual([...thumbs.userIds].sort(), [a.id, b.id].sort());
    assert.equal(got.find((x: { emoji: string }) => x.emoji === '🎉').count, 1);
    assert.equal((await a.api.del(`/api/messages/${m.id}/reactions/thumbsup`)).status, 200);
    const after = (await a.api.get(`/api/messages/${m.id}`)).body.reactions;
    assert.deepEqual(
      after.find((x: { emoji: string }) => x.emoji === 'thumbsup'),
      { emoji: 'thumbsup', count: 1, userIds: [b.id] },
    );
    assertError(
      await a.api.put(`/api/messages/${m.id}/reactions/${encodeURIComponent('<script>')}`),
      400,
      'VALIDATION_FAILED',
      'emoji <script>',
    );
    assert.deepEqual((await a.api.get(`/api/messages/${m.id}`)).body.reactions, after, 'the refused reaction stored nothing');
  });

  it('mentions, unread and mention counts, read positions and notifications', async () => {
    const srv = ctx.server();
    const a = await srv.user('mn');
    const b = await srv.user('mn');
    const c = await srv.user('mn');
    const ch = await channelWith(srv, a, [b, c]);
    await send(a.api, ch, `hello @${b.username}, mail me at x@${c.username}.io`);
    await send(a.api, ch, 'plain');
    await send(a.api, ch, 'everyone @channel');
    const bChan = (await b.api.get('/api/channels')).body.channels.find((x: { id: string }) => x.id === ch);
    assert.equal(bChan.unreadCount, 3);
    assert.equal(bChan.mentionCount, 2);
    assert.equal(bChan.lastSeq, 3);
    const cChan = (await c.api.get('/api/channels')).body.channels.find((x: { id: string }) => x.id === ch);
    assert.equal(cChan.mentionCount, 1, 'an e-mail address is not a mention');
    const aChan = (await a.api.get('/api/channels')).body.channels.find((x: { id: string }) => x.id === ch);
    assert.equal(aChan.unreadCount, 0, "the author's own messages are read");

    const notes = await b.api.get('/api/notifications?unread=true');
    assert.equal(notes.body.notifications.length, 2);
    assert.ok(notes.body.notifications.every((n: { kind: string; channelId: string }) => n.kind === 'mention' && n.channelId === ch));

    assert.equal((await b.api.post(`/api/channels/${ch}/read`, { seq: 2 })).body.readSeq, 2);
    const bAfter = (await b.api.get('/api/channels')).body.channels.find((x: { id: string }) => x.id === ch);
    assert.equal(bAfter.unreadCount, 1);
    assert.equal(bAfter.mentionCount, 1);
    assert.equal((await b.api.post(`/api/channels/${ch}/read`, { seq: 1 })).body.readSeq, 2, 'never backwards');
    assert.equal((await b.api.post(`/api/channels/${ch}/read`, { seq: 99 })).body.readSeq, 3, 'capped at lastSeq');

    const first = notes.body.notifications[0].id;
    assert.equal((await b.api.post('/api/notifications/read', { ids: [first] })).body.updated, 1);
    assert.equal((await b.api.get('/api/notifications?unread=true')).body.notifications.length, 1);
    assert.equal(
      (await c.api.post('/api/notifications/read', { ids: [notes.body.notifications[1].id] })).body.updated,
      0,
      "someone else's ids are ignored",
    );
    assert.equal((await b.api.post('/api/notifications/read', { all: true })).body.updated, 1);
    assert.equal((await b.api.get('/api/notifications?unread=true')).body.notifications.length, 0);
    assert.equal((await b.api.get('/api/notifications')).body.notifications.length, 2);
  });

  it('a DM notifies the other person; a thread reply notifies the thread', async () => {
    const srv = ctx.server();
    const a = await srv.user('dm');
    const b = await srv.user('dm');
    const c = await srv.user('dm');
    const dm = await a.api.post('/api/dms', { userIds: [b.id] });
    assert.equal(dm.status, 200);
    assert.equal(dm.body.type, 'direct');
    await send(a.api, dm.body.id, 'psst');
    const bNotes = (await b.api.get('/api/notifications')).body.notifications;
    assert.deepEqual(
      bNotes.map((n: { kind: string }) => n.kind),
      ['dm'],
    );
    assert.equal((await a.api.get('/api/notifications')).body.notifications.length, 0);

    const ch = await channelWith(srv, a, [b, c]);
    const root = (await a.api.post(`/api/channels/${ch}/messages`, { text: 'thread root' })).body;
    await send(b.api, ch, 'b replies', { parentId: root.id });
    await send(c.api, ch, `c replies @${a.username}`, { parentId: root.id });
    const aKinds = (await a.api.get('/api/notifications')).body.notifications.map((n: { kind: string }) => n.kind);
    assert.deepEqual(aKinds, ['mention', 'reply'], 'one per message: mention wins over reply');
    const bKinds = (await b.api.get('/api/notifications')).body.notifications.map((n: { kind: string }) => n.kind);
    assert.deepEqual(bKinds, ['reply', 'dm']);
  });

  it('text with C0/C1 controls or bidi overrides is refused on send and edit, over REST and WebSocket; nothing stored', async () => {
    const srv = ctx.server();
    const a = await srv.user('ctl');
    const ch = await channelWith(srv, a, []);
    const bad: Array<[string, string]> = [
      ['ESC (terminal escape)', 'red \u001b[31m alert'],
      ['BEL', 'ding\u0007'],
      ['NUL', 'a\u0000b'],
      ['DEL', 'a\u007fb'],
      ['C1 CSI', 'a\u009b31mb'],
      ['C1 NEL', 'a\u0085b'],
      ['RLO bidi override', 'file\u202Etxt.exe'],
      ['LRE embedding', '\u202Ax'],
      ['RLI isolate', 'x\u2067y'],
      ['PDI', 'x\u2069'],
    ];
    for (const [what, text] of bad) {
      const r = await a.api.post(`/api/channels/${ch}/messages`, { text });
      assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'VALIDATION_FAILED', what);
      assert.match(r.body.error.message, /forbidden control character \(U\+[0-9A-F]{4}/, what);
    }
    const fine = 'tab\there\r\nnew line, 👩\u200D💻 (ZWJ), \u200Fmark';
    const m = (await a.api.post(`/api/channels/${ch}/messages`, { text: fine })).body;
    assert.equal(m.text, fine, 'tab, CR/LF, ZWJ and RLM stay allowed');
    for (const [what, text] of bad) {
      const r = await a.api.patch(`/api/messages/${m.id}`, { text });
      assert.equal(r.status, 400, `edit ${what}`);
      assert.equal(r.body.error.code, 'VALIDATION_FAILED', `edit ${what}`);
    }
    const c = await Client.open({ url: srv.running.url }, a.token);
    try {
      for (const [i, [what, text]] of bad.entries()) {
        c.send({ op: 'send', channelId: ch, text, clientMsgId: `ctl-${i}`, ref: `ctl-${i}` });
        const e = await c.waitFor(
          (x) => (x.type === 'error' || x.type === 'ack') && (x.ref === `ctl-${i}` || x.clientMsgId === `ctl-${i}`),
        );
        assert.equal(e.type, 'error', `ws ${what}: ${JSON.stringify(e)}`);
        assert.equal(e.code, 'VALIDATION_FAILED', `ws ${what}`);
      }
    } finally {
      c.close();
    }
    const history = (await a.api.get(`/api/channels/${ch}/messages`)).body.messages;
    assert.deepEqual(
      history.map((x: { text: string; editedAt: unknown }) => [x.text, x.editedAt]),
      [[fine, null]],
      'only the allowed message, never edited',
    );
  });
});
