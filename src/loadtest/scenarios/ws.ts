// Scenario 1 — WebSocket connections (k6 ramping-vus over stages): real accounts hold
// long-lived sockets; connect time = TCP + upgrade + `hello`. While held, users chat at a
// modest rate with Poisson arrivals (seeded exponential gaps, src/loadtest/schedule.ts); every
// message has its own intended send time, end-to-end latency at every online member of the
// channel counts from it, and the generator's lateness is reported (ws_msg_schedule_lag).
// Each channel's members live in one worker, so a message's expected recipients and its
// send time share one clock. Churn uses separate accounts and is reported apart.
import type { Scenario, WorkerContext, Plan, Aggregate, ScenarioSummary } from '../scenario.js';
import type { Account } from '../setup.js';
import { split, refreshAccount } from '../setup.js';
import { HttpClient } from '../clients/http.js';
import { targetAt, stagesDuration, type LoadtestConfig } from '../config.js';
import { ResumePosition } from '../clients/resume-position.js';
import { NchatSocket, wsUrlOf } from '../clients/ws.js';
import { summarizeEncoded } from '../hist.js';
import { PoissonArrivals, seededRandom, seedOf } from '../schedule.js';
import { counter, rate, gauge, type MetricSummary } from '../metrics.js';
import { CloseCodes, type ServerEvent } from '../../protocol/events.js';

interface Group {
  channelId: string;
  members: Account[];
}
interface Payload {
  nodes: string[];
  groups: Group[];
  churn: Account[];
  totalUsers: number;
}
interface Conn {
  acc: Account;
  group: number;
  idx: number;
  sock: NchatSocket;
  state: 'idle' | 'connecting' | 'open';
  everOpened: boolean;
  retryAt: number;
  failures: number;
  pos: ResumePosition;
  expired: boolean;
}
interface Pending {
  intended: number;
  group: number;
  expected: Set<number>;
}

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
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < chunks.length) {
        const i = next++;
        groups[i] = { channelId: await setup.channel(`ws${i}`, chunks[i]), members: chunks[i] };
      }
    }),
  );
  if (churn.length) await setup.channel('churn', churn);
  const workers = Math.max(1, Math.min(cfg.workers, groups.length));
  const gs = split(groups, workers);
  const cs = split(churn, workers);
  return {
    payloads: gs.map((g, i) => ({ nodes: ctx.nodes, groups: g, churn: cs[i], totalUsers: users.length }) satisfies Payload),
    notes: [
      `ws: ${users.length} steady accounts in ${groups.length} channels of ${w.channelSize}; stages ${w.stages.map((s) => `${s.duration}s→${s.target}`).join(', ')}`,
      `ws: chat while held at ${w.msgPerUserPerMin} msg/user/min, Poisson arrivals (exponential gaps, RNG seeded by the run tag and worker index); latency from each message's intended time, generator lateness in ws_msg_schedule_lag; recipients = every online member of the channel, the sender included; chat pauses in ramp-down stages`,
      'ws: an unexpected close reconnects with jittered backoff and sends op:"resume" from the last seq seen before the drop (replayed repeats dropped by seq), so its expected messages still count when replayed; an intentional close (ramp-down) removes the recipient (ws_msgs_recipient_left)',
      `ws: churn apart from the steady set: ${churn.length} accounts, ${w.churnPerSec} connects/s, each held 1–3 s`,
    ],
    info: { users: users.length, channels: groups.length, channelSize: w.channelSize, churnUsers: churn.length, stages: w.stages },
  };
}

/** One worker's part of the scenario: its steady connections, its churn accounts, and the chat between them. */
class WsRun {
  private readonly p: Payload;
  private readonly w: LoadtestConfig['ws'];
  private readonly conns: Conn[] = [];
  private readonly byGroup: Conn[][];
  /** This worker's share of the steady users (targets and rates are scaled by it). */
  private readonly share: number;
  /** Chat messages sent and not yet received by every expected recipient, by clientMsgId. */
  private readonly pending = new Map<string, Pending>();
  private readonly https = new Map<number, HttpClient>();
  private readonly churn: { acc: Account; sock: NchatSocket; busy: boolean }[];
  private readonly churnRate: number;
  private seq = 0;
  private inFlight = 0;
  private stopped = false;

  constructor(private readonly ctx: WorkerContext) {
    const p = (this.p = ctx.payload as Payload);
    this.w = ctx.cfg.ws;
    p.groups.forEach((g, gi) =>
      g.members.forEach((acc) =>
        this.conns.push({
          acc,
          group: gi,
          idx: this.conns.length,
          sock: new NchatSocket(wsUrlOf(p.nodes[acc.node]), acc.accessToken),
          state: 'idle',
          everOpened: false,
          retryAt: 0,
          failures: 0,
          pos: new ResumePosition(),
          expired: false,
        }),
      ),
    );
    this.byGroup = p.groups.map(() => []);
    for (const c of this.conns) this.byGroup[c.group].push(c);
    this.share = this.conns.length / Math.max(1, p.totalUsers);
    for (const c of this.conns) {
      c.sock.onEvent = (e, at) => this.onEvent(c, e, at);
      c.sock.onClose = (code, intentional) => this.onClose(c, code, intentional);
    }
    // Churn: separate accounts, connect → hold 1–3 s → close, at churnPerSec × this worker's share.
    this.churn = p.churn.map((acc) => ({ acc, sock: new NchatSocket(wsUrlOf(p.nodes[acc.node]), acc.accessToken), busy: false }));
    this.churnRate = p.churn.length ? this.w.churnPerSec * this.share : 0;
  }

  private channelOf(c: Conn): string {
    return this.p.groups[c.group].channelId;
  }

  private dropExpected(c: Conn, counterName: string): void {
    for (const [id, m] of this.pending) {
      if (m.group === c.group && m.expected.delete(c.idx)) {
        this.ctx.count(counterName);
        if (m.expected.size === 0) this.pending.delete(id);
      }
    }
  }

  private onEvent(c: Conn, e: ServerEvent, at: number): void {
    const ctx = this.ctx;
    if (e.type === 'hello') {
      if (!c.everOpened) c.pos.start(e.channels?.find((x) => x.channelId === this.channelOf(c))?.lastSeq ?? 0);
    } else if (e.type === 'resumed') {
      c.pos.resumed();
      ctx.count('ws_resumed_channels');
      if (e.limited) ctx.count('ws_resume_limited');
    } else if (e.type === 'message.created') {
      if (!c.pos.received(e.seq)) return; // a replayed repeat of a live one
      const cid = e.message?.clientMsgId;
      if (typeof cid !== 'string' || !cid.startsWith(`${ctx.tag}w`)) return;
      const m = this.pending.get(cid);
      if (m?.expected.delete(c.idx)) {
        ctx.count('ws_msgs_received');
        ctx.hists.record('ws_msg_e2e', at - m.intended);
        if (m.expected.size === 0) {
          this.pending.delete(cid);
          ctx.count('ws_msgs_delivered');
        }
      } else ctx.count('ws_msgs_unexpected');
    } else if (e.type === 'ack') {
      ctx.count('ws_msgs_acked');
    } else if (e.type === 'error') {
      ctx.count('ws_server_errors');
    }
  }

  private onClose(c: Conn, code: number, intentional: boolean): void {
    c.state = 'idle';
    if (code === CloseCodes.TOKEN_EXPIRED) {
      c.expired = true;
      this.ctx.count('ws_token_expired');
    }
    // An intentional close (ramp-down) leaves the channel; an unexpected one keeps its expected
    // messages: the reconnect resumes from the last seq seen before the drop, as a real client does.
    if (intentional || this.stopped) this.dropExpected(c, 'ws_msgs_recipient_left');
    else {
      this.ctx.count('ws_disconnects');
      c.pos.dropped();
      c.retryAt = performance.now() + 250 + Math.random() * 1000; // reconnect with jitter
    }
  }

  private httpOf(node: number): HttpClient {
    let h = this.https.get(node);
    if (!h) this.https.set(node, (h = new HttpClient(this.p.nodes[node], 4)));
    return h;
  }

  private async connect(c: Conn): Promise<void> {
    const ctx = this.ctx;
    c.state = 'connecting';
    this.inFlight++;
    const again = c.everOpened;
    if (c.expired) {
      // Closed with 4001: refresh the access token first, as a real client does.
      c.expired = false;
      if (await refreshAccount(this.httpOf(c.acc.node), c.acc)) {
        c.sock.token = c.acc.accessToken;
        ctx.count('ws_token_refreshes');
      }
    }
    const r = await c.sock.connect(this.w.connectTimeoutMs);
    this.inFlight--;
    if (r.ok) {
      c.state = 'open';
      c.everOpened = true;
      c.failures = 0;
      if (again) {
        ctx.count('ws_reconnects');
        ctx.hists.record('ws_reconnecting', r.connectMs);
        c.sock.send({ op: 'resume', positions: { [this.channelOf(c)]: c.pos.resumeFrom } });
      } else {
        ctx.count('ws_sessions');
        ctx.hists.record('ws_connecting', r.connectMs);
      }
    } else {
      c.state = 'idle';
      // Exponential backoff with full jitter (0.5 s … 8 s), as a real client would.
      c.failures++;
      c.retryAt = performance.now() + Math.random() * Math.min(8000, 500 * 2 ** c.failures);
      ctx.count(again ? 'ws_reconnect_errors' : 'ws_connect_errors');
      ctx.count(`ws_connect_error:${r.error}`);
    }
  }

  private async churnOnce(): Promise<void> {
    const c = this.churn.find((x) => !x.busy);
    if (!c) {
      this.ctx.count('ws_churn_skipped');
      return;
    }
    c.busy = true;
    const r = await c.sock.connect(this.w.connectTimeoutMs);
    if (r.ok) {
      this.ctx.count('ws_churn_connects');
      this.ctx.hists.record('ws_churn_connecting', r.connectMs);
      await new Promise((res) => setTimeout(res, 1000 + Math.random() * 2000));
      c.sock.close();
    } else this.ctx.count('ws_churn_errors');
    c.busy = false;
  }

  /** One chat message from a random open connection, expected at every open member of its channel. */
  private sendChat(intended: number, open: Conn[]): void {
    const ctx = this.ctx;
    const sender = open[Math.floor(Math.random() * open.length)];
    if (!sender?.sock.open) {
      ctx.count('ws_send_skipped');
      return;
    }
    const expected = new Set<number>();
    for (const c of this.byGroup[sender.group]) if (c.state === 'open') expected.add(c.idx);
    const clientMsgId = `${ctx.tag}w${ctx.workerIndex}.${this.seq++}`;
    this.pending.set(clientMsgId, { intended, group: sender.group, expected });
    ctx.hists.record('ws_msg_schedule_lag', performance.now() - intended);
    if (sender.sock.send({ op: 'send', channelId: this.channelOf(sender), text: `load test chat ${this.seq}`, clientMsgId })) {
      ctx.count('ws_msgs_sent');
      ctx.count('ws_msgs_expected', expected.size);
    } else {
      this.pending.delete(clientMsgId);
      ctx.count('ws_send_skipped');
    }
  }

  private stageAt(t: number): number {
    const stages = this.w.stages;
    let at = 0;
    for (let i = 0; i < stages.length; i++) {
      at += stages[i].duration;
      if (t < at) return i;
    }
    return stages.length - 1;
  }

  /**
   * The load: follows the stages' target (connect while under it, close while over it), chats
   * at msgPerUserPerMin per open connection, churns. Until the stages end or the run is aborted.
   */
  async load(start: number): Promise<void> {
    const { ctx, w, conns } = this;
    const total = stagesDuration(w.stages);
    // Chat: Poisson arrivals (exponential gaps from an RNG seeded by run tag + worker) at a rate of
    // msgPerUserPerMin for every open connection of this worker. Each message has its own intended
    // time; latency counts from it and lateness of this loop is recorded as schedule lag.
    const arrivals = new PoissonArrivals(seededRandom(seedOf(`${ctx.tag}ws${ctx.workerIndex}`)), start);
    let chatRate = 0; // msg/s that held since the previous iteration
    let churnAcc = 0;
    let last = performance.now();
    let downSince = -1;
    while (!ctx.signal.aborted) {
      const now = performance.now();
      const t = (now - start) / 1000;
      if (t >= total) break;
      const dt = (now - last) / 1000;
      last = now;
      const desired = Math.round(targetAt(w.stages, t) * this.share);
      const open = conns.filter((c) => c.state === 'open');
      const active = open.length + conns.filter((c) => c.state === 'connecting').length;
      ctx.gauge('ws_open', open.length);
      ctx.gauge('ws_target', desired);
      const si = this.stageAt(t);
      const decreasing = w.stages[si].target < (si === 0 ? 0 : w.stages[si - 1].target);
      // Arrivals due since the last iteration, at the rate that held meanwhile (before any close below).
      for (const intended of arrivals.advance(now, chatRate)) this.sendChat(intended, open);
      if (desired > active) this.connectMore(desired - active, now);
      else if (desired < open.length) {
        if (downSince < 0) downSince = now;
        // Let chat in flight land before closing recipients (up to 3 s), so deliveries stay countable.
        if (this.pending.size === 0 || now - downSince > 3000) {
          for (let i = open.length - 1; i >= desired; i--) open[i].sock.close();
        }
      }
      if (!decreasing) downSince = -1;
      chatRate = !decreasing && w.msgPerUserPerMin > 0 ? (conns.filter((c) => c.state === 'open').length * w.msgPerUserPerMin) / 60 : 0;
      if (this.churnRate > 0) {
        churnAcc += this.churnRate * dt;
        while (churnAcc >= 1) {
          churnAcc -= 1;
          void this.churnOnce();
        }
      }
      // Wake for the next chat arrival, or in 50 ms for the connection management above.
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(50, arrivals.nextAt(chatRate) - performance.now()))));
    }
  }

  /** Starts up to `missing` connections (idle ones whose retry time has come), within connectConcurrency. */
  private connectMore(missing: number, now: number): void {
    let want = Math.min(missing, this.w.connectConcurrency - this.inFlight);
    for (const c of this.conns) {
      if (want <= 0) break;
      if (c.state === 'idle' && c.retryAt <= now) {
        void this.connect(c);
        want--;
      }
    }
  }

  /** Waits for deliveries still in flight, counts what never arrived, closes everything. */
  async finish(): Promise<void> {
    const ctx = this.ctx;
    const drainUntil = performance.now() + 10_000; // ends as soon as everything arrived
    while (this.pending.size > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 50));
    for (const m of this.pending.values()) {
      ctx.count('ws_msgs_missing', m.expected.size);
      ctx.count('ws_msgs_undelivered');
    }
    this.pending.clear();
    this.stopped = true;
    ctx.gauge('ws_open', this.conns.filter((c) => c.state === 'open').length);
    for (const c of this.conns) c.sock.close();
    for (const c of this.churn) c.sock.close();
    await Promise.all([...this.https.values()].map((h) => h.destroy()));
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function run(ctx: WorkerContext): Promise<unknown> {
  const r = new WsRun(ctx);
  const start = await ctx.barrier();
  await r.load(start);
  await r.finish();
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
  const errorKinds = Object.entries(agg.counters)
    .filter(([k]) => k.startsWith('ws_connect_error:'))
    .map(([k, v]) => ({ error: k.slice(17), count: v }));
  return {
    name: 'ws',
    title: 'WebSocket connections',
    metrics,
    tables: { connect_errors: errorKinds },
    notes: plan.notes,
    info: { ...plan.info, seconds: secs },
  };
}

export const wsScenario: Scenario = {
  name: 'ws',
  title: 'WebSocket connections',
  progress: { gauge: 'ws_open', hist: 'ws_connecting', errors: ['ws_connect_errors', 'ws_disconnects'] },
  prepare,
  run,
  summarize,
};
