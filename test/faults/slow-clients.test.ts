// Faults: slow and hostile clients against one node (SQLite, child process), under a message load.
// - A client that never reads (a raw socket paused after the upgrade): the node closes it as a slow
//   consumer (4008) once its unsent bytes pass NCHAT_WS_MAX_BUFFERED, while a bystander in the channel
//   receives every message without a reconnect, and a socket in no channel keeps answering pings
//   (its round trips before and while the non-reader is held are printed).
// - Slowloris: 200 connections trickling HTTP request headers, and 200 trickling WebSocket upgrade
//   headers, one byte every 500 ms: each is cut at NCHAT_HEADERS_TIMEOUT_MS (2 s here) while
//   ordinary requests and upgrades keep being answered. Prints how long the cuts took.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../realtime/harness.js';
import { upgradeRequest } from '../realtime/raw-ws.js';
import { FaultClient } from './client.js';
import { setupWorkspace, waitUntil, type Workspace } from './load.js';
import { type ChildNode, startChildNode } from './nodes.js';
import { recordFault } from './record.js';

const METRICS_TOKEN = 'slow-clients-metrics-token-0123';
const HEADERS_TIMEOUT_MS = 2000;

let dir: string;
let node: ChildNode;
let ws: Workspace;
const toStop: { stop?(): void; close?(): void }[] = [];

async function metric(name: string): Promise<number> {
  const r = await fetch(`${node.origin}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(await r.text())?.[1] ?? Number.NaN);
}

const pct = (xs: number[], p: number) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] : Number.NaN;

describe('faults: slow and hostile clients', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nchat-fault-slow-'));
    node = await startChildNode({
      name: 'slow',
      dataDir: join(dir, 'data'),
      logDir: join(dir, 'logs'),
      env: {
        NCHAT_WS_MAX_BUFFERED: String(256 * 1024),
        NCHAT_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        NCHAT_METRICS_TOKEN: METRICS_TOKEN,
      },
    });
    ws = await setupWorkspace(node.origin, 4, 1);
  });
  after(async () => {
    for (const s of toStop) s.stop ? s.stop() : s.close?.();
    await node?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a client that never reads is closed with 4008; a bystander keeps every message and its pings', async () => {
    const ch = ws.channelIds[0];
    const [s1, s2, by, slowUser] = ws.users;
    const bystander = new FaultClient({ origins: [node.origin], token: by.token });
    toStop.push(bystander);
    await bystander.start();
    // The pinger is in no channel: its round trip measures the node's responsiveness, not our
    // own process parsing the flood.
    const outsider = await ws.api.post('/api/auth/signup', {
      email: 'outsider@example.test',
      username: 'outsider',
      password: 'correct horse battery',
    });
    assert.equal(outsider.status, 201);
    const pinger = await Client.open({ url: node.origin }, outsider.body.accessToken);
    toStop.push(pinger);
    const rtts: { at: number; ms: number }[] = [];
    pinger.ws.on('message', (d: Buffer) => {
      for (const e of JSON.parse(d.toString()))
        if (e.type === 'pong' && typeof e.t === 'number') rtts.push({ at: performance.now(), ms: performance.now() - e.t });
    });
    const ping = setInterval(() => pinger.send({ op: 'ping', t: performance.now() }), 50);
    const closesBefore = await metric('nchat_ws_slow_consumer_closes');
    // ~16 KB messages from 4 REST loops, as fast as the node stores them. Linux autotunes a
    // loopback receive buffer up to net.ipv4.tcp_rmem's max (32 MB here), so the node's own
    // buffer passes its bound only once the kernel's buffers are full.
    const text = 'z'.repeat(16_000);
    const acked: number[] = [];
    let sending = true;
    const loops = [s1, s2, s1, s2].map(async (u, j) => {
      const api = ws.api.as(u.token);
      for (let i = 0; sending; i++) {
        const r = await api.post(`/api/channels/${ch}/messages`, { text: `${text} ${j}-${i}` });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        acked.push(r.body.seq);
      }
    });
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const tSlow = performance.now();
      // A raw TCP client that completes the upgrade and then never reads (a `ws` client cannot be
      // paused: its receiver resumes the socket by itself).
      const slow = connect({ host: '127.0.0.1', port: node.port });
      toStop.push({ stop: () => slow.destroy() });
      await new Promise((r) => slow.once('connect', r));
      slow.write(upgradeRequest(node.port, slowUser.token));
      const head = await new Promise<string>((r) => slow.once('data', (d) => r(d.toString())));
      assert.match(head, /^HTTP\/1.1 101/);
      slow.pause();
      let gone = false;
      slow.on('close', () => (gone = true));
      slow.on('error', () => undefined);
      for (let i = 0; i < 450 && (await metric('nchat_ws_slow_consumer_closes')) === closesBefore; i++)
        await new Promise((r) => setTimeout(r, 100));
      const closedAfter = performance.now() - tSlow;
      assert.equal(
        await metric('nchat_ws_slow_consumer_closes'),
        closesBefore + 1,
        `the node closed the non-reader as a slow consumer (${acked.length} sent, bystander at ${bystander.contiguous.get(ch)})`,
      );
      slow.resume(); // drain what the kernel held: the node let go of the socket (close frame, then terminate)
      await waitUntil(() => gone, 'the slow socket closed by the node', 15_000);
      sending = false;
      await Promise.all(loops);
      const before = rtts.filter((r) => r.at < tSlow).map((r) => r.ms);
      const during = rtts.filter((r) => r.at >= tSlow && r.at <= tSlow + closedAfter).map((r) => r.ms);
      const last = Math.max(...acked);
      await waitUntil(() => (bystander.contiguous.get(ch) ?? 0) >= last, 'the bystander holds every message', 20_000);
      assert.equal(bystander.reconnects, 0, 'the bystander was never disconnected');
      assert.ok(!pinger.closed, 'the pinging socket stayed open');
      recordFault('never-reading client', {
        'closed as a slow consumer after ms': Math.round(closedAfter),
        'messages the bystander got, all': last,
        'ping RTT p95 before ms': Number(pct(before, 0.95).toFixed(1)),
        'ping RTT p95 while it was held ms': Number(pct(during, 0.95).toFixed(1)),
      });
      console.log(
        `[faults] never-reading client: closed as a slow consumer ${Math.round(closedAfter)} ms after it stopped reading; ` +
          `${last} messages of ~16 KB, bystander got all, reconnects 0; ping RTT of a socket in no channel, p50/p95/max ms, under the flood ` +
          `before the non-reader ${pct(before, 0.5).toFixed(1)}/${pct(before, 0.95).toFixed(1)}/${Math.max(...before).toFixed(1)} (${before.length}), ` +
          `while it was held ${pct(during, 0.5).toFixed(1)}/${pct(during, 0.95).toFixed(1)}/${Math.max(...during).toFixed(1)} (${during.length})`,
      );
    } finally {
      sending = false;
      clearInterval(ping);
    }
  });

  for (const kind of ['HTTP headers', 'WebSocket upgrade'] as const)
    test(`slowloris on ${kind}: 200 trickling connections are cut at the headers timeout; others are served meanwhile`, async () => {
      const head =
        kind === 'HTTP headers'
          ? 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n'
          : 'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
      const t0 = performance.now();
      const cuts: number[] = [];
      const answers: string[] = [];
      const socks = await Promise.all(
        Array.from(
          { length: 200 },
          () =>
            new Promise<Socket>((resolve) => {
              const s = connect({ host: '127.0.0.1', port: node.port }, () => resolve(s));
              s.write(head);
              let got = '';
              s.on('data', (d) => (got += d.toString()));
              const trickle = setInterval(() => s.writable && s.write('X'), 500);
              s.on('error', () => undefined);
              s.on('close', () => {
                clearInterval(trickle);
                cuts.push(performance.now() - t0);
                answers.push(got.split('\r\n')[0]);
              });
            }),
        ),
      );
      // Ordinary traffic meanwhile: health and a WebSocket upgrade with hello, every 200 ms.
      let served = 0;
      while (cuts.length < socks.length && performance.now() - t0 < 20_000) {
        const r = await fetch(`${node.origin}/api/health`);
        assert.equal(r.status, 200);
        await r.arrayBuffer();
        const c = await Client.open({ url: node.origin }, ws.users[0].token);
        c.close();
        served++;
        await new Promise((r) => setTimeout(r, 200));
      }
      for (const s of socks) s.destroy();
      assert.equal(cuts.length, 200, 'every trickling connection was cut');
      assert.ok(Math.min(...cuts) >= HEADERS_TIMEOUT_MS - 100, `none cut before the headers timeout (${Math.min(...cuts)} ms)`);
      const statuses = new Set(answers);
      recordFault(`slowloris on ${kind}, 200 connections`, {
        'first cut ms': Math.round(Math.min(...cuts)),
        'last cut ms': Math.round(Math.max(...cuts)),
        'headers timeout ms': HEADERS_TIMEOUT_MS,
        'requests and upgrades served meanwhile': served,
      });
      console.log(
        `[faults] slowloris on ${kind}: 200 connections cut after ${Math.round(Math.min(...cuts))}–${Math.round(Math.max(...cuts))} ms ` +
          `(NCHAT_HEADERS_TIMEOUT_MS ${HEADERS_TIMEOUT_MS}); answers ${[...statuses].map((x) => JSON.stringify(x)).join(', ')}; ` +
          `${served} health requests + upgrades served meanwhile`,
      );
    });
});
