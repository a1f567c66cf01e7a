// Scenario 2 — message throughput, open model (k6 constant-arrival-rate): message i is due
// at start + i/rate whatever the server does, and every latency is measured from that
// intended time, so a stalled server cannot hide (no coordinated omission). Sends go over
// REST and WebSocket; every member of the channel is online over WebSocket and each
// receipt is matched by clientMsgId. A message is delivered when it was accepted (201/ack)
// and every recipient got it; recipients are the members online at send time plus those that
// dropped unexpectedly and are reconnecting (they resume from their last seq, as the ws
// scenario does), so a dropped member cannot make later messages look delivered. Unexpected
// disconnects are counted apart (msg_ws_disconnects_unexpected) for a threshold. Iterations not
// sent are counted by cause (in-flight cap = server backpressure; no member online); none is
// dropped for generator lateness, which is measured (msg_schedule_lag). Latency samples of a
// message are recorded only once its send succeeded, so a failed request never leaves one.
import type { Scenario, WorkerContext, Plan, Aggregate, ScenarioSummary } from '../registry.js';
import type { Account } from '../setup.js';
import { split, refreshAccount } from '../setup.js';
import type { LoadtestConfig } from '../config.js';
import { NchatSocket, wsUrlOf } from '../clients/ws.js';
import { HttpClient } from '../clients/http.js';
import { summarizeEncoded } from '../hist.js';
import { counter, rate, gauge, round, type MetricSummary } from '../metrics.js';
import { CloseCodes, type ServerEvent } from '../../protocol/events.js';

interface Chan { channelId: string; members: Account[] }
interface Payload { nodes: string[]; channels: Chan[]; rate: number }
interface Pending { intended: number; ch: number; expected: Set<number>; expectedCount: number; acked: boolean; failed: boolean; samples: number[]; transport: 'rest' | 'ws' }

async function prepare(ctx: Parameters<Scenario['prepare']>[0]): Promise<Plan> {
  const m = ctx.cfg.messages;
  const n = m.channels * m.channelSize;
  ctx.log(`messages: creating ${n} accounts in ${m.channels} channels of ${m.channelSize}`);
  const users = await ctx.setup.users('m', n);
  const chans: Chan[] = new Array(m.channels);
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < m.channels) {
      const i = next++;
      const members = users.slice(i * m.channelSize, (i + 1) * m.channelSize);
      chans[i] = { channelId: await ctx.setup.channel(`msg${i}`, members), members };
    }
  }));
  const workers = Math.max(1, Math.min(ctx.cfg.workers, chans.length));
  const parts = split(chans, workers);
  return {
    payloads: parts.map((p) => ({ nodes: ctx.nodes, channels: p, rate: (m.rate * p.length) / chans.length } satisfies Payload)),
    notes: [
      `messages: constant-arrival-rate ${m.rate} msg/s for ${m.duration} s over ${m.channels} channels; fan-out (channel size) ${m.channelSize}, every member online over WebSocket`,
      `messages: latency from the intended send time (open model); transport weights REST ${m.transport.rest} / WS ${m.transport.ws}; mix text ${m.mix.text} / mention ${m.mix.mention} / code ${m.mix.code} / file ${m.mix.file}`,
      'messages: "file" messages are plain text naming a file: uploads are not part of this run (no pre-made attachments)',
      'messages: recipients = every member online at send time, the sender included (the server sends message.created to the sender too), plus members that dropped unexpectedly and are reconnecting: messages sent while they are away count as delivered only if their resume replays them before the drain ends',
      `messages: iterations not sent are counted by cause: msg_dropped_inflight_cap (${m.maxInFlight} sends outstanding: server backpressure), msg_dropped_no_online_sender; the generator never skips a late message (its lateness is msg_schedule_lag)`,
    ],
    info: { rate: m.rate, duration: m.duration, channels: m.channels, channelSize: m.channelSize, fanout: m.channelSize, transport: m.transport, mix: m.mix },
  };
}

function pick<T extends string>(weights: Record<T, number>): T {
  const entries = Object.entries(weights) as [T, number][];
  let r = Math.random() * entries.reduce((s, [, w]) => s + w, 0);
  for (const [k, w] of entries) { if ((r -= w) < 0) return k; }
  return entries[entries.length - 1][0];
}

function textFor(kind: string, n: number, members: Account[]): string {
  if (kind === 'mention') return `@${members[Math.floor(Math.random() * members.length)].username} load test mention ${n}`;
  if (kind === 'code') return `load test code ${n}\n\`\`\`ts\nconst answer: number = ${n};\n\`\`\``;
  if (kind === 'file') return `load test file ${n}: report-${n}.pdf (plain text; uploads not in this run)`;
  return `load test message ${n} lorem ipsum dolor sit amet`;
}

async function run(ctx: WorkerContext): Promise<unknown> {
  const p = ctx.payload as Payload;
  const cfg = ctx.cfg.messages;
  const https = p.nodes.map((o) => new HttpClient(o, 64));
  // state: 'absent' = never connected (setup connect failed) or closed by the generator at the
  // end; 'open'; 'away' = closed unexpectedly, reconnecting. An away member stays a recipient:
  // what is sent meanwhile counts as received only if its resume replays it before the drain ends.
  interface Conn { acc: Account; ch: number; idx: number; sock: NchatSocket; state: 'absent' | 'open' | 'away'; lastSeq: number; failures: number; expired: boolean }
  const conns: Conn[] = [];
  const byCh: Conn[][] = p.channels.map(() => []);
  p.channels.forEach((c, ci) => c.members.forEach((acc) => { const x: Conn = { acc, ch: ci, idx: conns.length, sock: new NchatSocket(wsUrlOf(p.nodes[acc.node]), acc.accessToken), state: 'absent', lastSeq: 0, failures: 0, expired: false }; conns.push(x); byCh[ci].push(x); }));
  let stopped = false;
  const pending = new Map<string, Pending>();
  let inFlight = 0;

  const finalize = (cid: string, m: Pending) => {
    pending.delete(cid);
    for (const s of m.samples) ctx.hists.record('msg_e2e', s);
    ctx.count('msg_receipts', m.samples.length);
    ctx.count('msg_expected_receipts', m.expectedCount);
    if (m.expected.size === 0) ctx.count('msg_delivered');
    else { ctx.count('msg_delivery_failed'); ctx.count('msg_receipts_missing', m.expected.size); }
  };
  const fail = (cid: string, m: Pending, reason: string) => {
    if (m.failed || m.acked) return;
    m.failed = true;
    inFlight--;
    pending.delete(cid);
    ctx.count('msg_send_failed');
    ctx.count(`msg_send_error:${reason}`);
    if (m.samples.length) ctx.count('msg_receipts_of_failed_sends', m.samples.length);
  };
  let end = Infinity;
  const accepted = (cid: string, m: Pending, at: number) => {
    if (m.acked || m.failed) return;
    m.acked = true;
    inFlight--;
    ctx.count('msg_sent_ok');
    // Accepted before the scheduled window closed: what the achieved rate is computed from.
    if (at <= end) ctx.count('msg_sent_ok_in_window');
    ctx.count(`msg_transport:${m.transport}`);
    ctx.hists.record('msg_send', at - m.intended);
    ctx.hists.record(`msg_send_${m.transport}`, at - m.intended);
    if (m.expected.size === 0) finalize(cid, m);
  };

  for (const c of conns) {
    c.sock.onEvent = (e: ServerEvent, at: number) => {
      if (e.type === 'hello') {
        // The first hello gives the position to resume from; a reconnect's hello must not move it
        // past messages sent while away.
        if (c.state === 'absent') c.lastSeq = e.channels?.find((x) => x.channelId === p.channels[c.ch].channelId)?.lastSeq ?? 0;
      } else if (e.type === 'resumed') {
        ctx.count('msg_ws_resumed_channels');
        if (e.limited) ctx.count('msg_ws_resume_limited');
      } else if (e.type === 'message.created') {
        if (typeof e.seq === 'number' && e.seq > c.lastSeq) c.lastSeq = e.seq;
        const cid = e.message?.clientMsgId;
        if (typeof cid !== 'string' || !cid.startsWith(`${ctx.tag}m`)) return;
        const m = pending.get(cid);
        if (m && m.expected.delete(c.idx)) {
          m.samples.push(at - m.intended);
          if (m.acked && m.expected.size === 0) finalize(cid, m);
        } else ctx.count('msg_receipts_unexpected');
      } else if (e.type === 'ack') {
        const m = pending.get(e.clientMsgId);
        if (m) accepted(e.clientMsgId, m, at);
      } else if (e.type === 'error') {
        ctx.count('msg_ws_error_events');
        const m = e.ref ? pending.get(e.ref) : undefined;
        if (m) fail(e.ref!, m, e.code ?? 'WS_ERROR');
      }
    };
    c.sock.onClose = (code, intentional) => {
      if (intentional || stopped) { c.state = 'absent'; return; } // counted where the generator closes it
      ctx.count('msg_ws_disconnects_unexpected');
      c.state = 'away';
      if (code === CloseCodes.TOKEN_EXPIRED) c.expired = true;
      setTimeout(() => void reconnect(c), 250 + Math.random() * 1000); // jitter, as a real client
    };
  }
  // Reconnect and resume from the last seq seen; backoff with full jitter (0.5 s … 8 s) on failure.
  const reconnect = async (c: Conn): Promise<void> => {
    if (stopped || c.state !== 'away') return;
    if (c.expired) {
      c.expired = false;
      if (await refreshAccount(https[c.acc.node], c.acc)) c.sock.token = c.acc.accessToken;
    }
    const r = await c.sock.connect(ctx.cfg.ws.connectTimeoutMs);
    if (stopped) { c.sock.close(); return; }
    if (r.ok) {
      c.state = 'open';
      c.failures = 0;
      ctx.count('msg_ws_reconnects');
      c.sock.send({ op: 'resume', positions: { [p.channels[c.ch].channelId]: c.lastSeq } });
    } else {
      ctx.count('msg_ws_reconnect_errors');
      c.failures++;
      setTimeout(() => void reconnect(c), Math.random() * Math.min(8000, 500 * 2 ** c.failures));
    }
  };
  // Connect every member before the clock starts (not part of the measured rate).
  let next = 0;
  await Promise.all(Array.from({ length: 50 }, async () => {
    while (next < conns.length) {
      const c = conns[next++];
      const r = await c.sock.connect(ctx.cfg.ws.connectTimeoutMs);
      if (r.ok) { ctx.hists.record('msg_setup_connecting', r.connectMs); c.state = 'open'; }
      else ctx.count('msg_setup_connect_errors');
    }
  }));
  ctx.hists.take();

  const start = await ctx.barrier();
  const interval = 1000 / p.rate;
  end = start + cfg.duration * 1000;
  ctx.gauge('msg_rate_target', p.rate);
  let i = 0;
  const fire = (intended: number) => {
    const n = i;
    const ci = n % p.channels.length;
    const online = byCh[ci].filter((c) => c.state === 'open' && c.sock.open);
    ctx.count('msg_attempted');
    // Dropped iterations, by cause (the generator never drops a message for being late: its
    // lateness is msg_schedule_lag, and the message still counts from its intended time).
    if (online.length === 0) { ctx.count('msg_no_online_sender'); return; }
    if (inFlight >= cfg.maxInFlight) { ctx.count('msg_dropped_inflight_cap'); return; }
    const sender = online[Math.floor(Math.random() * online.length)];
    const kind = pick(cfg.mix);
    const transport = pick(cfg.transport);
    ctx.count(`msg_kind:${kind}`);
    const cid = `${ctx.tag}m${ctx.workerIndex}.${n}`;
    // Recipients: every member online now or away (reconnecting), so a dropped member cannot
    // make a message look delivered.
    const expected = new Set(byCh[ci].filter((c) => c.state !== 'absent').map((c) => c.idx));
    if (expected.size > online.length) ctx.count('msg_expected_while_away', expected.size - online.length);
    const m: Pending = { intended, ch: ci, expected, expectedCount: expected.size, acked: false, failed: false, samples: [], transport };
    pending.set(cid, m);
    inFlight++;
    const text = textFor(kind, n, p.channels[ci].members);
    const sentAt = performance.now();
    ctx.hists.record('msg_schedule_lag', sentAt - intended);
    if (transport === 'ws') {
      if (!sender.sock.send({ op: 'send', channelId: p.channels[ci].channelId, text, clientMsgId: cid })) fail(cid, m, 'WS_NOT_OPEN');
    } else {
      void https[sender.acc.node].request('POST', `/api/channels/${p.channels[ci].channelId}/messages`, { token: sender.acc.accessToken, body: { text, clientMsgId: cid } }).then((r) => {
        if (r.ok) accepted(cid, m, performance.now());
        else {
          fail(cid, m, r.error ?? `HTTP_${r.status}`);
          if (r.status === 401 && r.error === 'TOKEN_EXPIRED') void refreshAccount(https[sender.acc.node], sender.acc);
        }
      });
    }
  };
  while (!ctx.signal.aborted) {
    const now = performance.now();
    let due = start + i * interval;
    if (due >= end) break;
    while (due <= now && due < end) { fire(due); i++; due = start + i * interval; }
    ctx.gauge('msg_in_flight', inFlight);
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(2, due - performance.now()))));
  }
  ctx.gauge('msg_rate_target', 0);
  const drainUntil = performance.now() + cfg.drainMs;
  while (pending.size > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
  for (const [cid, m] of [...pending]) {
    if (m.acked) finalize(cid, m);
    else fail(cid, m, 'NO_RESPONSE_IN_DRAIN');
  }
  stopped = true;
  ctx.gauge('msg_ws_away', conns.filter((c) => c.state === 'away').length);
  // Counted here, not in onClose: the close events may arrive after this worker has reported.
  ctx.count('msg_ws_disconnects_expected', conns.filter((c) => c.state === 'open').length);
  for (const c of conns) { c.state = 'absent'; c.sock.close(); }
  await Promise.all(https.map((h) => h.destroy()));
  return { sentUntil: i };
}

function summarize(agg: Aggregate, plan: Plan, cfg: LoadtestConfig): ScenarioSummary {
  const c = (k: string) => agg.counters[k] ?? 0;
  const secs = agg.interrupted ? Math.min(agg.seconds, cfg.messages.duration) : cfg.messages.duration;
  const sent = c('msg_sent_ok');
  const onTime = c('msg_sent_ok_in_window');
  const metrics: Record<string, MetricSummary> = {
    msg_rate_target: gauge(cfg.messages.rate, 'msg/s'),
    // Messages accepted inside the scheduled window ÷ its length (late acceptances during the drain do not count).
    msg_rate_achieved: gauge(secs > 0 ? round(onTime / secs, 2) : null, 'msg/s'),
    msg_sent_in_window: counter(onTime, secs),
    msg_attempted: counter(c('msg_attempted'), secs),
    msg_sent: counter(sent, secs),
    msg_send_failed: counter(c('msg_send_failed'), secs),
    // Every iteration not sent, any cause; by cause below.
    msg_dropped_iterations: counter(c('msg_dropped_inflight_cap') + c('msg_no_online_sender'), secs),
    msg_dropped_inflight_cap: counter(c('msg_dropped_inflight_cap'), secs),
    msg_dropped_no_online_sender: counter(c('msg_no_online_sender'), secs),
    msg_delivered: counter(c('msg_delivered'), secs),
    msg_delivery_failed: counter(c('msg_delivery_failed'), secs),
    msg_delivery_success: rate(c('msg_delivered'), c('msg_delivery_failed') + c('msg_send_failed') + c('msg_dropped_inflight_cap') + c('msg_no_online_sender')),
    msg_receipts: counter(c('msg_receipts'), secs),
    msg_expected_receipts: counter(c('msg_expected_receipts'), secs),
    msg_receipts_missing: counter(c('msg_receipts_missing'), secs),
    msg_e2e: summarizeEncoded(agg.hists.msg_e2e),
    msg_send: summarizeEncoded(agg.hists.msg_send),
    msg_schedule_lag: summarizeEncoded(agg.hists.msg_schedule_lag),
    msg_setup_connect_errors: counter(c('msg_setup_connect_errors'), secs),
    // Unexpected = not asked for by the generator (server close, network); a threshold on it fails the run.
    msg_ws_disconnects: counter(c('msg_ws_disconnects_unexpected'), secs),
    msg_ws_disconnects_unexpected: counter(c('msg_ws_disconnects_unexpected'), secs),
    msg_ws_disconnects_expected: counter(c('msg_ws_disconnects_expected'), secs),
    msg_ws_reconnects: counter(c('msg_ws_reconnects'), secs),
    msg_ws_reconnect_errors: counter(c('msg_ws_reconnect_errors'), secs),
    msg_ws_resumed_channels: counter(c('msg_ws_resumed_channels'), secs),
    msg_expected_while_away: counter(c('msg_expected_while_away'), secs),
  };
  const byKind = ['text', 'mention', 'code', 'file'].map((k) => ({ kind: k, count: c(`msg_kind:${k}`) }));
  const byTransport = (['rest', 'ws'] as const).map((t) => ({ transport: t, accepted: c(`msg_transport:${t}`), ...summarizeEncoded(agg.hists[`msg_send_${t}`]) }));
  const errors = Object.entries(agg.counters).filter(([k]) => k.startsWith('msg_send_error:')).map(([k, v]) => ({ error: k.slice(15), count: v }));
  return { name: 'messages', title: 'Message throughput', metrics, tables: { by_kind: byKind, by_transport: byTransport, send_errors: errors }, notes: plan.notes, info: { ...plan.info, seconds: secs } };
}

export const messagesScenario: Scenario = {
  name: 'messages',
  title: 'Message throughput',
  progress: { gauge: 'msg_rate_target', hist: 'msg_e2e', errors: ['msg_send_failed', 'msg_dropped_inflight_cap', 'msg_no_online_sender', 'msg_delivery_failed', 'msg_ws_disconnects_unexpected'] },
  prepare,
  run,
  summarize,
};
