// The messages scenario against a real server, with one recipient's connection dropped mid-run
// (the client socket torn down without a close handshake, as a network failure would): the drop
// is counted as unexpected, the member reconnects and resumes, and the messages sent while it
// was away stay expected of it and arrive through the resume: nothing looks delivered that was not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/server.js';
import { HttpClient } from '../../src/loadtest/clients/http.js';
import { Setup } from '../../src/loadtest/setup.js';
import { profileConfig } from '../../src/loadtest/config.js';
import { messagesScenario } from '../../src/loadtest/scenarios/messages.js';
import { NchatSocket } from '../../src/loadtest/clients/ws.js';
import { HistSet } from '../../src/loadtest/hist.js';
import type { WorkerContext } from '../../src/loadtest/registry.js';

test('messages scenario: an unexpected drop is counted, resumed, and its missed messages still expected', async () => {
  const srv = await startTestServer('sqlite', { NCHAT_LOADTEST_ALLOWANCE: '1' });
  const http = new HttpClient(srv.running.url, 4);
  try {
    const cfg = profileConfig('smoke');
    cfg.workers = 1;
    cfg.messages = { ...cfg.messages, rate: 20, duration: 4, channels: 1, channelSize: 3, transport: { rest: 0, ws: 1 }, drainMs: 5000 };
    const tag = 'rc' + Date.now().toString(36).slice(-4);
    const setup = new Setup(http, [srv.running.url], tag);
    await setup.init();
    const plan = await messagesScenario.prepare({ cfg, setup, nodes: [srv.running.url], tag, log: () => undefined });
    // Keep a handle on the scenario's sockets (the real client class, not a stand-in).
    const socks: NchatSocket[] = [];
    const connect = NchatSocket.prototype.connect;
    NchatSocket.prototype.connect = function (this: NchatSocket, t: number) {
      if (!socks.includes(this)) socks.push(this);
      const r = connect.call(this, t);
      // The reconnect's caller resumes only after live messages have already arrived on the new
      // socket (as when hello and live frames come in one read on a busy machine): the resume
      // must still start from where the drop left off.
      if (this === socks[1] && dropped) return r.then((v) => new Promise((res) => setTimeout(() => res(v), 600)));
      return r;
    };
    let dropped = false;
    const counters = new Map<string, number>();
    const ctx: WorkerContext = {
      payload: plan.payloads[0],
      cfg,
      workerIndex: 0,
      tag,
      signal: new AbortController().signal,
      hists: new HistSet(),
      count: (k, n = 1) => void counters.set(k, (counters.get(k) ?? 0) + n),
      gauge: () => undefined,
      barrier: async () => {
        // 1.5 s into the run, drop the second member's connection the way a network failure does.
        setTimeout(() => {
          dropped = true;
          socks[1].ws!.terminate();
        }, 1500);
        return performance.now();
      },
      log: () => undefined,
    };
    try {
      await messagesScenario.run(ctx);
    } finally {
      NchatSocket.prototype.connect = connect;
    }
    const c = (k: string) => counters.get(k) ?? 0;
    assert.equal(c('msg_ws_disconnects_unexpected'), 1);
    assert.equal(c('msg_ws_reconnects'), 1);
    assert.ok(c('msg_ws_resumed_channels') >= 1, 'the reconnect sent resume');
    assert.ok(c('msg_expected_while_away') > 0, 'messages sent while it was away were expected of it');
    assert.equal(c('msg_ws_disconnects_expected'), 3, 'the generator closed all three at the end');
    const sent = c('msg_sent_ok');
    assert.ok(sent >= 70, `sent ${sent} of 80`);
    assert.equal(c('msg_expected_receipts'), sent * 3, 'every accepted message expected at all three members, the away one included');
    assert.equal(c('msg_receipts_missing'), 0, 'the resume replayed what it missed');
    assert.equal(c('msg_receipts_unexpected'), 0, 'replayed repeats of messages that came live first are dropped, as clients do');
    assert.equal(c('msg_receipts'), sent * 3);
    assert.equal(c('msg_delivered'), sent);
  } finally {
    await http.close();
    await srv.stop();
  }
});
