// The hub's repair from the store (hub.ts, "Redis is a hint"): a seq jump seen while another
// repair of the same channel is scheduled or running must still be filled from the seq before the
// jump. Before the fix the second repair read after the channel's lastSeq at the time it ran,
// which the jump had already moved past: the skipped messages were never delivered.
// One real node (SQLite, in-process broker); the "lost" broker events are messages written to the
// store without being published, as when Redis drops a publish.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { channelTopic } from '../../src/server/broker/broker.js';
import { newMsg } from '../../src/server/store/contract/fixtures.js';
import type { Message } from '../../src/server/store/types.js';
import { aliceAndBobInChannel, Clients, startNode, type Node } from './harness.js';

let node: Node;
let clients: Clients;
before(async () => {
  node = await startNode();
  clients = new Clients(() => node);
});
after(async () => {
  clients.closeAll();
  await node.stop();
});

/** Writes a message straight to the store: committed, but no event published. */
async function writeUnpublished(channelId: string, authorId: string, text: string): Promise<Message> {
  return (await node.store.messages.create(newMsg(channelId, { id: authorId }, { text }))).message;
}

test('a seq jump during a repair is filled from before the jump, not from where the jump left lastSeq', async () => {
  const { alice, bob, ch } = await aliceAndBobInChannel(node);
  const client = await clients.open(bob);
  const m1 = await writeUnpublished(ch.id, alice.id, 'lost one');
  const m2 = await writeUnpublished(ch.id, alice.id, 'lost two');
  const m3 = await writeUnpublished(ch.id, alice.id, 'arrives');
  assert.deepEqual([m1.seq, m2.seq, m3.seq], [1, 2, 3]);

  // A repair that reads after seq 3 (as for a subscription told lastSeq 3): it finds nothing, and
  // while it is scheduled the event of seq 3 arrives, a jump from 0: the hub must read after 0.
  node.realtime.hub.scheduleRepair(ch.id, 0, 3);
  node.broker.publish(channelTopic(ch.id), { type: 'message.created', channelId: ch.id, seq: 3, message: m3 });

  const seqs = () => new Set(client.events.filter((e) => e.type === 'message.created' && e.channelId === ch.id).map((e) => e.seq));
  await client.waitFor(() => seqs().has(1) && seqs().has(2), 5000).catch(() => {});
  assert.deepEqual(
    [...seqs()].sort((a, b) => a - b),
    [1, 2, 3],
    'bob gets the two messages whose events were lost',
  );
});
