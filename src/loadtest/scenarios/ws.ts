// Scenario 1 — WebSocket connections (k6 ramping-vus over stages): real accounts hold
// long-lived sockets; connect time = TCP + upgrade + `hello`. While held, users chat at a
// modest rate with Poisson arrivals (seeded exponential gaps, src/loadtest/schedule.ts); every
// message has its own intended send time, end-to-end latency at every online member of the
// channel counts from it, and the generator's lateness is reported (ws_msg_schedule_lag).
// Each channel's members live in one worker, so a message's expected recipients and its
// send time share one clock. Churn uses separate accounts and is reported apart.
import type { Scenario, WorkerContext, Plan, Aggregate, ScenarioSummary } from '../registry.js';
import type { Account } from '../setup.js';
import { split, refreshAccount } from '../setup.js';
import { HttpClient } from '../clients/http.js';
import { targetAt, stagesDuration, type LoadtestConfig } from '../config.js';
import { NchatSocket, wsUrlOf } from '../clients/ws.js';
import { summarizeEncoded } from '../hist.js';
import { PoissonArrivals, seededRandom, seedOf } from '../schedule.js';
import { counter, rate, gauge, type MetricSummary } from '../metrics.js';
import { CloseCodes, type ServerEvent } from '../../protocol/events.js';

interface Group { channelId: string; members: Account[] }
interface Payload { nodes: string[]; groups: Group[]; churn: Account[]; totalUsers: number }
interface Conn { acc: Account; group: number; idx: number; sock: NchatSocket; state: 'idle' | 'connecting' | 'open'; everOpened: boolean; retryAt: number; failures: number; lastSeq: number; expired: boolean }
interface Pending { intended: number; group: number; expected: Set<number> }

async function prepare(ctx: Parameters<Scenario['prepare']>[0]): Promise<Plan> {
  const { cfg, setup } = ctx;
  const w = cfg.ws;
  ctx.log(`ws: creating ${w.users} steady + ${w.churnUsers} churn accounts`);
  const users = await setup.users('w', w.users);
  const churn = w.churnUsers > 0 ? await setup.users('c', w.churnUsers) : [];
  const groups: Group[] = [];
  const chunks: Account[][] = [];
  for (let i = 0; i < users.length; i += w.channelSize) chunks.push(users.slice(i, i + w.channelSize));
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < chunks.length) {
      const i = next++;
      groups[i] = { channelId: await setup.channel(`ws${i}`, chunks[i]), members: chunks[i] };
    }
  }));
  if (churn.length) await setup.channel('churn', churn);
  const workers = Math.max(1, Math.min(cfg.workers, groups.length));
  const gs = split(groups, workers);
  const cs = split(churn, workers);
  return {
    payloads: gs.map((g, i) => ({ nodes: ctx.nodes, groups: g, churn: cs[i], totalUsers: users.length } satisfies Payload)),
    notes: [
      `ws: ${users.length} steady accounts in ${groups.length} channels of ${w.channelSize}; stages ${w.stages.map((s) => `${s.duration}s→${s.target}`).join(', ')}`,
      `ws: chat while held at ${w.msgPerUserPerMin} msg/user/min, Poisson arrivals (exponential gaps, RNG seeded by the run tag and worker index); latency from each message's intended time, generator lateness in ws_msg_schedule_lag; recipients = every online member of the channel, the sender included; chat pauses in ramp-down stages`,
      'ws: an unexpected close reconnects with jittered backoff and sends op:"resume" from the last seq seen, so its expected messages still count when replayed; an intentional close (ramp-down) removes the recipient (ws_msgs_recipient_left)',
      `ws: churn apart from the steady set: ${churn.length} accounts, ${w.churnPerSec} connects/s, each held 1–3 s`,
    ],
    info: { users: users.length, channels: groups.length, channelSize: w.channelSize, churnUsers: churn.length, stages: w.stages },
  };
}

async function run(ctx: WorkerContext): Promise<unknown> {
  const p = ctx.payload as Payload;
  const w = ctx.cfg.ws;
  const conns: Conn[] = [];
  p.groups.forEach((g, gi) => g.members.forEach((acc) => conns.push({ acc, group: gi, idx: conns.length, sock: new NchatSocket(wsUrlOf(p.nodes[acc.node]), acc.accessToken), state: 'idle', everOpened: false, retryAt: 0, failures: 0, lastSeq: 0, expired: false })));
  const byGroup: Conn[][] = p.groups.map(() => []);
  for (const c of conns) byGroup[c.group].push(c);
  const share = conns.length / Math.max(1, p.totalUsers);
  const pending = new Map<string, Pending>();
  let seq = 0;
  let inFlight = 0;
  let stopped = false;

  const dropExpected = (c: Conn, counterName: string) => {
    for (const [id, m] of pending) {
      if (m.group === c.group && m.expected.delete(c.idx)) {
        ctx.count(counterName);
        if (m.expected.size === 0) pending.delete(id);
      }
    }
  };
  const onEvent = (c: Conn) => (e: ServerEvent, at: number) => {
    if (e.type === 'hello') {
      if (!c.everOpened) c.lastSeq = e.channels?.find((x) => x.channelId === p.groups[c.group].channelId)?.lastSeq ?? 0;
    } else if (e.type === 'resumed') {
      ctx.count('ws_resumed_channels');
      if (e.limited) ctx.count('ws_resume_limited');
    } else if (e.type === 'message.created') {
      if (typeof e.seq === 'number' && e.seq > c.lastSeq) c.lastSeq = e.seq;
      const cid = e.message?.clientMsgId;
      if (typeof cid !== 'string' || !cid.startsWith(`${ctx.tag}w`)) return;
      const m = pending.get(cid);
      if (m && m.expected.delete(c.idx)) {
        ctx.count('ws_msgs_received');
        ctx.hists.record('ws_msg_e2e', at - m.intended);
        if (m.expected.size === 0) { pending.delete(cid); ctx.count('ws_msgs_delivered'); }
      } else ctx.count('ws_msgs_unexpected');
    } else if (e.type === 'ack') {
      ctx.count('ws_msgs_acked');
    } else if (e.type === 'error') {
      ctx.count('ws_server_errors');
    }
  };
  for (const c of conns) {
    c.sock.onEvent = onEvent(c);
    c.sock.onClose = (code, intentional) => {
      c.state = 'idle';
      if (code === CloseCodes.TOKEN_EXPIRED) { c.expired = true; ctx.count('ws_token_expired'); }
      // An intentional close (ramp-down) leaves the channel; an unexpected one keeps its expected
      // messages: the reconnect resumes from the last seq seen, as a real client does.
      if (intentional || stopped) dropExpected(c, 'ws_msgs_recipient_left');
      else {
        ctx.count('ws_disconnects');
        c.retryAt = performance.now() + 250 + Math.random() * 1000; // reconnect with jitter
      }
    };
  }
  const https = new Map<number, HttpClient>();
  const httpOf = (node: number) => { let h = https.get(node); if (!h) https.set(node, (h = new HttpClient(p.nodes[node], 4))); return h; };
  const connect = async (c: Conn) => {
    c.state = 'connecting';
    inFlight++;
    const again = c.everOpened;
    if (c.expired) {
      // Closed with 4001: refresh the access token first, as a real client does.
      c.expired = false;
      if (await refreshAccount(httpOf(c.acc.node), c.acc)) { c.sock.token = c.acc.accessToken; ctx.count('ws_token_refreshes'); }
    }
    const r = await c.sock.connect(w.connectTimeoutMs);
    inFlight--;
    if (r.ok) {
      c.state = 'open';
      c.everOpened = true;
      c.failures = 0;
      if (again) {
        ctx.count('ws_reconnects');
        ctx.hists.record('ws_reconnecting', r.connectMs);
        c.sock.send({ op: 'resume', positions: { [p.groups[c.group].channelId]: c.lastSeq } });
      }
      else { ctx.count('ws_sessions'); ctx.hists.record('ws_connecting', r.connectMs); }
    } else {
      c.state = 'idle';
      // Exponential backoff with full jitter (0.5 s … 8 s), as a real client would.
      c.failures++;
      c.retryAt = performance.now() + Math.random() * Math.min(8000, 500 * 2 ** c.failures);
      ctx.count(again ? 'ws_reconnect_errors' : 'ws_connect_errors');
      ctx.count(`ws_connect_error:${r.error}`);
    }
  };

  // Churn: separate accounts, connect → hold 1–3 s → close, at churnPerSec × this worker's share.
  const churn = p.churn.map((acc) => ({ acc, sock: new NchatSocket(wsUrlOf(p.nodes[acc.node]), acc.accessToken), busy: false }));
  const churnRate = p.churn.length ? w.churnPerSec * share : 0;
  let churnAcc = 0;
  const churnOnce = async () => {
    const c = churn.find((x) => !x.busy);
    if (!c) { ctx.count('ws_churn_skipped'); return; }
    c.busy = true;
    const r = await c.sock.connect(w.connectTimeoutMs);
    if (r.ok) {
      ctx.count('ws_churn_connects');
      ctx.hists.record('ws_churn_connecting', r.connectMs);
      await new Promise((res) => setTimeout(res, 1000 + Math.random() * 2000));
      c.sock.close();
    } else ctx.count('ws_churn_errors');
    c.busy = false;
  };

  const start = await ctx.barrier();
  const total = stagesDuration(w.stages);
  const stageAt = (t: number) => { let at = 0; for (let i = 0; i < w.stages.length; i++) { at += w.stages[i].duration; if (t < at) return i; } return w.stages.length - 1; };
  // Chat: Poisson arrivals (exponential gaps from an RNG seeded by run tag + worker) at a rate of
  // msgPerUserPerMin for every open connection of this worker. Each message has its own intended
  // time; latency counts from it and lateness of this loop is recorded as schedule lag.
  const arrivals = new PoissonArrivals(seededRandom(seedOf(`${ctx.tag}ws${ctx.workerIndex}`)), start);
  let chatRate = 0; // msg/s that held since the previous iteration
  const sendChat = (intended: number, open: Conn[]) => {
    const sender = open[Math.floor(Math.random() * open.length)];
    if (!sender || !sender.sock.open) { ctx.count('ws_send_skipped'); return; }
    const expected = new Set<number>();
    for (const c of byGroup[sender.group]) if (c.state === 'open') expected.add(c.idx);
    const clientMsgId = `${ctx.tag}w${ctx.workerIndex}.${seq++}`;
    pending.set(clientMsgId, { intended, group: sender.group, expected });
    ctx.hists.record('ws_msg_schedule_lag', performance.now() - intended);
    if (sender.sock.send({ op: 'send', channelId: p.groups[sender.group].channelId, text: `load test chat ${seq}`, clientMsgId })) {
      ctx.count('ws_msgs_sent');
      ctx.count('ws_msgs_expected', expected.size);
    } else { pending.delete(clientMsgId); ctx.count('ws_send_skipped'); }
  };
  let last = performance.now();
  let downSince = -1;
  while (!ctx.signal.aborted) {
    const now = performance.now();
    const t = (now - start) / 1000;
    if (t >= total) break;
    const dt = (now - last) / 1000;
    last = now;
    const desired = Math.round(targetAt(w.stages, t) * share);
    const open = conns.filter((c) => c.state === 'open');
    const active = open.length + conns.filter((c) => c.state === 'connecting').length;
    ctx.gauge('ws_open', open.length);
    ctx.gauge('ws_target', desired);
    const si = stageAt(t);
    const decreasing = w.stages[si].target < (si === 0 ? 0 : w.stages[si - 1].target);
    // Arrivals due since the last iteration, at the rate that held meanwhile (before any close below).
    for (const intended of arrivals.advance(now, chatRate)) sendChat(intended, open);
    if (desired > active) {
      let want = Math.min(desired - active, w.connectConcurrency - inFlight);
      for (const c of conns) {
        if (want <= 0) break;
        if (c.state === 'idle' && c.retryAt <= now) { void connect(c); want--; }
      }
    } else if (desired < open.length) {
      if (downSince < 0) downSince = now;
      // Let chat in flight land before closing recipients (up to 3 s), so deliveries stay countable.
      if (pending.size === 0 || now - downSince > 3000) {
        for (let i = open.length - 1; i >= desired; i--) open[i].sock.close();
      }
    }
    if (!decreasing) downSince = -1;
    chatRate = !decreasing && w.msgPerUserPerMin > 0 ? (conns.filter((c) => c.state === 'open').length * w.msgPerUserPerMin) / 60 : 0;
    if (churnRate > 0) {
      churnAcc += churnRate * dt;
      while (churnAcc >= 1) { churnAcc -= 1; void churnOnce(); }
    }
    // Wake for the next chat arrival, or in 50 ms for the connection management above.
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(50, arrivals.nextAt(chatRate) - performance.now()))));
  }
  // Drain: wait for deliveries still in flight, then count what never arrived.
  const drainUntil = performance.now() + 10_000; // ends as soon as everything arrived
  while (pending.size > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 50));
  for (const m of pending.values()) { ctx.count('ws_msgs_missing', m.expected.size); ctx.count('ws_msgs_undelivered'); }
  pending.clear();
  stopped = true;
  ctx.gauge('ws_open', conns.filter((c) => c.state === 'open').length);
  for (const c of conns) c.sock.close();
  for (const c of churn) c.sock.close();
  await Promise.all([...https.values()].map((h) => h.destroy()));
  await new Promise((r) => setTimeout(r, 200));
  return undefined;
}

const trend = (agg: Aggregate, name: string) => summarizeEncoded(agg.hists[name]);

function summarize(agg: Aggregate, plan: Plan, cfg: LoadtestConfig): ScenarioSummary {
  const c = (k: string) => agg.counters[k] ?? 0;
  const secs = agg.seconds || stagesDuration(cfg.ws.stages);
  const metrics: Record<string, MetricSummary> = {
    ws_connecting: trend(agg, 'ws_connecting'),
    ws_sessions: counter(c('ws_sessions'), secs),
    ws_connect_errors: counter(c('ws_connect_errors'), secs),
    ws_connect_success: rate(c('ws_sessions'), c('ws_connect_errors')),
    ws_max_concurrent: gauge(agg.gaugeMax.ws_open ?? null),
    ws_disconnects: counter(c('ws_disconnects'), secs),
    ws_reconnects: counter(c('ws_reconnects'), secs),
    ws_reconnect_errors: counter(c('ws_reconnect_errors'), secs),
    ws_reconnecting: trend(agg, 'ws_reconnecting'),
    ws_resumed_channels: counter(c('ws_resumed_channels'), secs),
    ws_resume_limited: counter(c('ws_resume_limited'), secs),
    ws_msgs_sent: counter(c('ws_msgs_sent'), secs),
    ws_msgs_acked: counter(c('ws_msgs_acked'), secs),
    ws_msgs_expected: counter(c('ws_msgs_expected'), secs),
    ws_msgs_received: counter(c('ws_msgs_received'), secs),
    ws_msgs_recipient_left: counter(c('ws_msgs_recipient_left'), secs),
    ws_msgs_missing: counter(c('ws_msgs_missing'), secs),
    ws_msgs_unexpected: counter(c('ws_msgs_unexpected'), secs),
    ws_msg_delivery: rate(c('ws_msgs_received'), c('ws_msgs_missing')),
    ws_msg_e2e: trend(agg, 'ws_msg_e2e'),
    ws_msg_schedule_lag: trend(agg, 'ws_msg_schedule_lag'),
    ws_send_skipped: counter(c('ws_send_skipped'), secs),
    ws_server_errors: counter(c('ws_server_errors'), secs),
    ws_churn_connects: counter(c('ws_churn_connects'), secs),
    ws_churn_errors: counter(c('ws_churn_errors'), secs),
    ws_churn_connecting: trend(agg, 'ws_churn_connecting'),
  };
  const errorKinds = Object.entries(agg.counters).filter(([k]) => k.startsWith('ws_connect_error:')).map(([k, v]) => ({ error: k.slice(17), count: v }));
  return { name: 'ws', title: 'WebSocket connections', metrics, tables: { connect_errors: errorKinds }, notes: plan.notes, info: { ...plan.info, seconds: secs } };
}

export const wsScenario: Scenario = {
  name: 'ws',
  title: 'WebSocket connections',
  progress: { gauge: 'ws_open', hist: 'ws_connecting', errors: ['ws_connect_errors', 'ws_disconnects'] },
  prepare,
  run,
  summarize,
};
