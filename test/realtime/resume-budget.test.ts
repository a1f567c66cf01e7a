// A client behind by more than the slow-consumer limit (NCHAT_WS_MAX_BUFFERED) catches up by
// paging resume: each resume replays at most min(NCHAT_WS_RESUME_MAX_BYTES, max buffered / 2)
// bytes, in pieces, and answers limited:true with a cursor. Before the byte budget such a replay
// was one frame over the limit, closed with 4008 before anything was delivered, forever.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, ok, signup, startNode, until, type Node, type User } from './harness.js';
import { unique } from '../helpers/server.js';

describe('realtime: resume in pages under a small send buffer', () => {
  let node: Node;
  let alice: User;
  let bob: User;
  const clients: Client[] = [];

  before(async () => {
    node = await startNode({ env: { NCHAT_WS_MAX_BUFFERED: String(64 * 1024), NCHAT_SEND_LIMIT: '1000000' } });
    alice = await signup(node, 'alice');
    bob = await signup(node, 'bob');
  });
  after(async () => {
    for (const c of clients) c.close();
    await node.stop();
  });

  test('a gap several times wsMaxBuffered is replayed in budgeted pages and ends with every message', async () => {
    const ch = await ok(alice.api.post('/api/channels', { name: unique('c'), type: 'public' }), 201);
    await ok(bob.api.post(`/api/channels/${ch.id}/join`));
    const TOTAL = 40;
    const texts: string[] = [];
    for (let i = 0; i < TOTAL; i++) {
      const text = `${i}:` + '"\\'.repeat(6000); // 12 KB that escape to 24 KB each: ~960 KB behind, 15× the buffer
      texts.push(text);
      await ok(alice.api.post(`/api/channels/${ch.id}/messages`, { text }), 201);
    }
    const b = await Client.open(node, bob.token);
    clients.push(b);
    let largestFrame = 0;
    b.ws.on('message', (d: Buffer) => (largestFrame = Math.max(largestFrame, d.length)));
    const budget = Math.min(node.config.wsResumeMaxBytes, node.config.wsMaxBuffered / 2);
    let cursor = 0;
    let pages = 0;
    for (;;) {
      const from = b.events.length;
      b.send({ op: 'resume', positions: { [ch.id]: cursor } });
      const r = await b.waitFor((e) => e.type === 'resumed' && e.channelId === ch.id, 10_000, from);
      pages++;
      const page = b.events.slice(from).filter((e) => e.type === 'message.created' && e.channelId === ch.id);
      assert.ok(page.length >= 1, 'every page makes progress');
      const bytes = page.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0);
      assert.ok(bytes <= budget + 30_000, `page within the budget plus one message (${bytes} > ${budget})`);
      assert.deepEqual(
        page.map((e) => e.seq),
        page.map((_, i) => cursor + 1 + i),
        'in seq order from the cursor',
      );
      if (!r.limited) break;
      assert.equal(r.cursor, page[page.length - 1].seq, 'cursor = the last seq replayed');
      cursor = r.cursor;
    }
    assert.ok(pages > 5, `paged (${pages} pages)`);
    assert.ok(!b.closed, `never closed (${JSON.stringify(b.closed)})`);
    assert.ok(largestFrame < node.config.wsMaxBuffered, `every frame under the send-buffer bound (${largestFrame})`);
    const got = b.of('message.created', ch.id);
    assert.equal(b.seqs(ch.id).size, TOTAL);
    for (let seq = 1; seq <= TOTAL; seq++) assert.equal(got.find((e) => e.seq === seq).message.text, texts[seq - 1]);
    // Still live afterwards.
    await ok(alice.api.post(`/api/channels/${ch.id}/messages`, { text: 'live after catch-up' }), 201);
    await b.waitFor((e) => e.type === 'message.created' && e.message.text === 'live after catch-up');
    assert.equal(node.realtime.stats().slowConsumerCloses, 0);
  });

  test('one resume over many channels shares the budget: channels past it answer limited:true at their own position', async () => {
    const chans: any[] = [];
    for (let k = 0; k < 4; k++) {
      const ch = await ok(alice.api.post('/api/channels', { name: unique('m'), type: 'public' }), 201);
      await ok(bob.api.post(`/api/channels/${ch.id}/join`));
      for (let i = 0; i < 3; i++) await ok(alice.api.post(`/api/channels/${ch.id}/messages`, { text: 'x'.repeat(15_000) }), 201);
      chans.push(ch);
    }
    const b = await Client.open(node, bob.token);
    clients.push(b);
    b.send({ op: 'resume', positions: Object.fromEntries(chans.map((c) => [c.id, 0])) });
    const answers = [];
    for (const c of chans) answers.push(await b.waitFor((e) => e.type === 'resumed' && e.channelId === c.id, 10_000));
    // 32 KiB budget, 15 KB messages: the first channel gets 3 messages at most, the last gets none.
    const last = answers[answers.length - 1];
    assert.deepEqual([last.limited, last.cursor], [true, 0], 'nothing replayed past the budget; resume again from 0');
    assert.equal(b.seqs(chans[chans.length - 1].id).size, 0);
    // Paging each channel from its cursor completes every one.
    for (const c of chans) {
      let r = answers[chans.indexOf(c)];
      while (r.limited) {
        const from = b.events.length;
        b.send({ op: 'resume', positions: { [c.id]: r.cursor } });
        r = await b.waitFor((e) => e.type === 'resumed' && e.channelId === c.id, 10_000, from);
      }
      await until(() => b.seqs(c.id).size === 3, `all of ${c.id}`);
    }
    assert.ok(!b.closed);
  });
});
