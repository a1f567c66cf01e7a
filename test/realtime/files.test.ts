// Files over WebSocket (issue 11): `send` with fileIds (the message.created carries the file
// objects; someone else's file is an error for the sender), and `file.ready` through the broker
// to the uploader and to the channel the file was attached to before its thumbnail was done.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { upload } from '../helpers/files.js';
import { aliceAndBobInChannel, Clients, type Node, signup, startNode } from './harness.js';

describe('files over WebSocket [sqlite, memory broker]', () => {
  let node: Node;
  const clients = new Clients(() => node);
  before(async () => {
    // One thumbnail at a time: a large image queued first keeps the next one pending while it is sent.
    node = await startNode({ env: { NCHAT_THUMBNAIL_CONCURRENCY: '1' } });
  });
  after(async () => {
    clients.closeAll();
    await node.stop();
  });

  it('send with fileIds: ack, message.created with the file objects; file.ready to the uploader and to the channel', async () => {
    const { alice, bob, ch } = await aliceAndBobInChannel(node);
    const [wa, wb] = [await clients.open(alice), await clients.open(bob)];
    const noise = await sharp(randomBytes(3000 * 2000 * 3), { raw: { width: 3000, height: 2000, channels: 3 } })
      .jpeg()
      .toBuffer();
    const big = await upload(node.url, alice, noise, { name: 'big.jpg' });
    const small = await upload(
      node.url,
      alice,
      await sharp({ create: { width: 64, height: 48, channels: 3, background: '#0a0' } })
        .png()
        .toBuffer(),
      {
        name: 'small.png',
      },
    );
    assert.equal(small.status, 201);
    wa.send({ op: 'send', channelId: ch.id, text: '', clientMsgId: 'ws-files-1', fileIds: [small.body.id] });
    const ack = await wa.waitFor((e) => e.type === 'ack' && e.clientMsgId === 'ws-files-1');
    const created = await wb.waitFor((e) => e.type === 'message.created' && e.message.id === ack.id);
    assert.deepEqual(created.message.files, [small.body]);

    const mine = await wa.waitFor((e) => e.type === 'file.ready' && e.fileId === small.body.id && e.channelId === undefined, 20_000);
    assert.equal(mine.thumbnailUrl, small.body.thumbnailUrl);
    assert.ok(Number.isInteger(mine.processingMs) && mine.processingMs >= 0);
    assert.ok(
      wa.of('file.ready').some((e) => e.fileId === big.body.id),
      'the big one finished first (one at a time)',
    );
    const shared = await wb.waitFor((e) => e.type === 'file.ready' && e.fileId === small.body.id, 20_000);
    assert.deepEqual(
      { channelId: shared.channelId, messageId: shared.messageId, thumbnailUrl: shared.thumbnailUrl },
      { channelId: ch.id, messageId: ack.id, thumbnailUrl: small.body.thumbnailUrl },
    );
  });

  it("send with someone else's file id: an error to the sender, no message", async () => {
    const { alice, bob, ch } = await aliceAndBobInChannel(node);
    const wa = await clients.open(alice);
    const bobs = await upload(node.url, bob, randomBytes(10));
    wa.send({ op: 'send', channelId: ch.id, text: 'x', clientMsgId: 'ws-files-2', fileIds: [bobs.body.id] });
    const err = await wa.waitFor((e) => e.type === 'error' && e.ref === 'ws-files-2');
    assert.equal(err.code, 'VALIDATION_FAILED');
    assert.equal((await alice.api.get(`/api/channels/${ch.id}`)).body.lastSeq, 0);
    const other = await signup(node, 'c');
    assert.equal((await upload(node.url, other, randomBytes(5))).status, 201);
  });
});
