// nginx (Debian's, ops/nginx/nchat.conf as shipped) in front of two ɳChat nodes on PostgreSQL +
// Redis. The short check (the smoke load test through nginx is test/ops/nginx-smoke.test.ts):
// sign-up through nginx, WebSockets through nginx land on both nodes and a message sent on one
// reaches sockets on both, a 2 MB upload streams through the /api/files location (over the
// 1 MB default body cap) and reads back, an oversize JSON body gets the node's own 413 with its
// error code, and with one node killed nginx keeps answering from the other.
// Skips with a message when nginx, PostgreSQL or Redis is missing; fails under CI=true.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { pgSkipReason } from '../helpers/postgres.js';
import { freshRedis, redisSkip } from '../helpers/redis.js';
import { sha256, upload } from '../helpers/files.js';
import { Client } from '../realtime/harness.js';
import { runCleanups, twoNodes } from '../faults/cluster.js';
import type { ChildNode } from '../faults/nodes.js';
import { setupWorkspace, type Workspace } from '../faults/load.js';
import { type Nginx, nginxSkip, startNginx } from './nginx.js';

const skip = nginxSkip() || (await pgSkipReason()) || (await redisSkip());
const METRICS_TOKEN = 'nginx-test-metrics-token-0123';

async function wsConnections(n: ChildNode): Promise<number> {
  const r = await fetch(`${n.origin}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const m = /^nchat_ws_connections (\d+)/m.exec(await r.text());
  return Number(m?.[1] ?? -1);
}

describe('ops: nginx in front of two nodes on PostgreSQL + Redis', { skip: skip || false }, () => {
  let a: ChildNode;
  let b: ChildNode;
  let ngx: Nginx;
  let ws: Workspace;
  const sockets: Client[] = [];
  before(async () => {
    [a, b] = await twoNodes('nginx', freshRedis(), { NCHAT_TRUST_PROXY: '127.0.0.1', NCHAT_METRICS_TOKEN: METRICS_TOKEN });
    ngx = await startNginx([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]);
    ws = await setupWorkspace(ngx.origin, 2, 1);
  });
  after(async () => {
    for (const s of sockets) s.close();
    await ngx?.stop();
    await runCleanups();
  });

  test('WebSockets through nginx land on both nodes; a message sent on one reaches sockets on both', async () => {
    const [alice, bob] = ws.users;
    for (const u of [alice, bob, alice, bob]) sockets.push(await Client.open({ url: ngx.origin }, u.token));
    const [onA, onB] = [await wsConnections(a), await wsConnections(b)];
    assert.ok(onA >= 1 && onB >= 1, `nginx spreads sockets over both nodes (A ${onA}, B ${onB})`);
    const ch = ws.channelIds[0];
    sockets[0].send({ op: 'send', channelId: ch, text: 'through nginx', clientMsgId: 'n1' });
    const ack = await sockets[0].waitFor((e) => e.type === 'ack' && e.clientMsgId === 'n1');
    for (const s of sockets) await s.waitFor((e) => e.type === 'message.created' && e.seq === ack.seq);
  });

  test('a 2 MB upload streams through the /api/files location and reads back; a 300 KB JSON body gets the node 413', async () => {
    const data = randomBytes(2 * 1024 * 1024);
    const up = await upload(ngx.origin, ws.users[0], data, { channelId: ws.channelIds[0], name: 'big.bin' });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const got = await fetch(`${ngx.origin}/api/files/${up.body.id}`, { headers: { authorization: `Bearer ${ws.users[0].token}` } });
    assert.equal(got.status, 200);
    assert.equal(sha256(new Uint8Array(await got.arrayBuffer())), sha256(data));
    const big = await ws.api.post(`/api/channels/${ws.channelIds[0]}/messages`, { text: 'x', pad: 'y'.repeat(300 * 1024) });
    assert.equal(big.status, 413, JSON.stringify(big.body));
    assert.equal(typeof big.body?.error?.code, 'string', 'the node answered (JSON error body), not nginx');
  });

  test('one node killed: nginx answers every request from the other', async () => {
    await a.kill9();
    for (let i = 0; i < 10; i++) {
      const r = await fetch(`${ngx.origin}/api/health`);
      assert.equal(r.status, 200, `request ${i} after the kill`);
    }
    const r = await ws.api.post(`/api/channels/${ws.channelIds[0]}/messages`, { text: 'after the kill', clientMsgId: 'k1' });
    assert.equal(r.status, 201);
  });
});
