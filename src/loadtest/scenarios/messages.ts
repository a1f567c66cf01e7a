// Scenario 2 — message throughput, open model (k6 constant-arrival-rate): message i is due
// at start + i/rate whatever the server does, and every latency is measured from that
// intended time, so a stalled server cannot hide (no coordinated omission). Sends go over
// REST and WebSocket; every member of the channel is online over WebSocket and each
// receipt is matched by clientMsgId. A message is delivered when it was accepted (201/ack)
// and every recipient got it; recipients are the members online at send time plus those that
// dropped unexpectedly and are reconnecting (they resume from the last seq seen before the drop, as the ws
// scenario does), so a dropped member cannot make later messages look delivered. Unexpected
// disconnects are counted apart (msg_ws_disconnects_unexpected) for a threshold. Iterations not
// sent are counted by cause (in-flight cap = server backpressure; no member online); none is
// dropped for generator lateness, which is measured (msg_schedule_lag). Latency samples of a
// message are recorded only once its send succeeded, so a failed request never leaves one.
import type { Scenario, WorkerContext, Plan, Aggregate, ScenarioSummary } from '../scenario.js';
import type { Account } from '../setup.js';
import { split, refreshAccount } from '../setup.js';
import type { LoadtestConfig } from '../config.js';
import { ResumePosition } from '../clients/resume-position.js';
import { NchatSocket, wsUrlOf } from '../clients/ws.js';
import { HttpClient } from '../clients/http.js';
import { summarizeEncoded } from '../hist.js';
import { counter, rate, gauge, round, type MetricSummary } from '../metrics.js';
import { CloseCodes, type ServerEvent } from '../../protocol/events.js';
import { AttachmentPool, prepareAttachments, type AttachPlan } from './messages-files.js';

interface Chan {
  channelId: string;
  members: Account[];
}
interface Payload {
  nodes: string[];
  channels: Chan[];
  rate: number;
  /** Small files for the "file" share (null: route absent, file messages are plain text). */
  attach: AttachPlan | null;
}
interface Pending {
  intended: number;
  ch: number;
  expected: Set<number>;
  expectedCount: number;
  acked: boolean;
  failed: boolean;
  samples: number[];
  transport: 'rest' | 'ws';
  /** The attached file, checked in every receipt. */
  fileId?: string;
}

async function prepare(ctx: Parameters<Scenario['prepare']>[0]): Promise<Plan> {
  const m = ctx.cfg.messages;
  const n = m.channels * m.channelSize;
  ctx.log(`messages: creating ${n} accounts in ${m.channels} channels of ${m.channelSize}`);
  const users = await ctx.setup.users('m', n);
  const chans: Chan[] = new Array(m.channels);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < m.channels) {
        const i = next++;
        const members = users.slice(i * m.channelSize, (i + 1) * m.channelSize);
        chans[i] = { channelId: await ctx.setup.channel(`msg${i}`, members), members };
      }
    }),
  );
  const workers = Math.max(1, Math.min(ctx.cfg.workers, chans.length));
  const parts = split(chans, workers);
  const rates = parts.map((p) => (m.rate * p.length) / chans.length);
  const mixTotal = Object.values(m.mix).reduce((a, b) => a + b, 0);
  const att =
    m.mix.file > 0
      ? await prepareAttachments(ctx, parts, rates, m.duration, m.mix.file / mixTotal)
      : { plans: null, note: 'messages: no "file" messages in the mix', uploaded: 0, errors: {} };
  return {
    payloads: parts.map((p, i) => ({ nodes: ctx.nodes, channels: p, rate: rates[i], attach: att.plans?.[i] ?? null }) satisfies Payload),
    notes: [
      `messages: constant-arrival-rate ${m.rate} msg/s for ${m.duration} s over ${m.channels} channels; fan-out (channel size) ${m.channelSize}, every member online over WebSocket`,
      `messages: latency from the intended send time (open model); transport weights REST ${m.transport.rest} / WS ${m.transport.ws}; mix text ${m.mix.text} / mention ${m.mix.mention} / code ${m.mix.code} / file ${m.mix.file}`,
      att.note,
      'messages: recipients = every member online at send time, the sender included (the server sends message.created to the sender too), plus members that dropped unexpectedly and are reconnecting: messages sent while they are away count as delivered only if their resume replays them before the drain ends',
      `messages: iterations not sent are counted by cause: msg_dropped_inflight_cap (${m.maxInFlight} sends outstanding: server backpressure), msg_dropped_no_online_sender; the generator never skips a late message (its lateness is msg_schedule_lag)`,
    ],
    info: {
      rate: m.rate,
      duration: m.duration,
      channels: m.channels,
      channelSize: m.channelSize,
      fanout: m.channelSize,
      transport: m.transport,
      mix: m.mix,
      fileAttachments: att.plans ? { uploaded: att.uploaded, uploadErrors: att.errors } : null,
    },
  };
}

function pick<T extends string>(weights: Record<T, number>): T {
  const entries = Object.entries(weights) as [T, number][];
  let r = Math.random() * entries.reduce((s, [, w]) => s + w, 0);
  for (const [k, w] of entries) {
    if ((r -= w) < 0) return k;
  }
  return entries[entries.length - 1][0];
}

function textFor(kind: string, n: number, members: Account[]): string {
  if (kind === 'mention') return `@${members[Math.floor(Math.random() * members.length)].username} load test mention ${n}`;
  if (kind === 'code') return `load test code ${n}\n\`\`\`ts\nconst answer: number = ${n};\n\`\`\``;
  if (kind === 'file') return `load test file ${n}: the figures attached`;
  return `load test message ${n} lorem ipsum dolor sit amet`;
}

// state: 'absent' = never connected (setup connect failed) or closed by the generator at the
// end; 'open'; 'away' = closed unexpectedly, reconnecting. An away member stays a recipient:
// what is sent meanwhile counts as received only if its resume replays it before the drain ends.
interface Conn {
  acc: Account;
  ch: number;
  idx: number;
  sock: NchatSocket;
  state: 'absent' | 'open' | 'away';
  pos: ResumePosition;
  failures: number;
  expired: boolean;
}

/** One worker's part of the scenario: every member of its channels online, and the open-model sender. */
class MessagesRun {
  private readonly p: Payload;
  private readonly cfg: LoadtestConfig['messages'];
  private readonly https: HttpClient[];
  private readonly conns: Conn[] = [];
  private readonly byCh: Conn[][];
  /** Messages sent and not yet settled (accepted and received by every recipient, or failed), by clientMsgId. */
  private readonly pending = new Map<string, Pending>();
  private inFlight = 0;
  private stopped = false;
  /** End of the scheduled window (performance.now() time); Infinity until the load starts. */
  private end = Infinity;
  /** Iterations scheduled so far (message i is due at start + i / rate). */
  private i = 0;
  private readonly pool: AttachmentPool | null;

  constructor(private readonly ctx: WorkerContext) {
    const p = (this.p = ctx.payload as Payload);
    this.cfg = ctx.cfg.messages;
    this.https = p.nodes.map((o) => new HttpClient(o, 64));
    this.byCh = p.channels.map(() => []);
    this.pool = p.attach ? new AttachmentPool(p.attach) : null;
    p.channels.forEach((c, ci) =>
      c.members.forEach((acc) => {
        const x: Conn = {
          acc,
          ch: ci,
          idx: this.conns.length,
          sock: new NchatSocket(wsUrlOf(p.nodes[acc.node]), acc.accessToken),
          state: 'absent',
          pos: new ResumePosition(),
          failures: 0,
          expired: false,
        };
        this.conns.push(x);
        this.byCh[ci].push(x);
      }),
    );
    for (const c of this.conns) {
      c.sock.onEvent = (e, at) => this.onEvent(c, e, at);
      c.sock.onClose = (code, intentional) => this.onClose(c, code, intentional);
    }
  }

  // ---- settling a message -------------------------------------------------------------------

  private finalize(cid: string, m: Pending): void {
    const ctx = this.ctx;
    this.pending.delete(cid);
    for (const s of m.samples) ctx.hists.record('msg_e2e', s);
    // File messages apart too: the send path with attachments is not the plain one.
    if (m.fileId) for (const s of m.samples) ctx.hists.record('msg_e2e_with_file', s);
    ctx.count('msg_receipts', m.samples.length);
    ctx.count('msg_expected_receipts', m.expectedCount);
    if (m.expected.size === 0) ctx.count('msg_delivered');
    else {
      ctx.count('msg_delivery_failed');
      ctx.count('msg_receipts_missing', m.expected.size);
    }
  }

  private fail(cid: string, m: Pending, reason: string): void {
    const ctx = this.ctx;
    if (m.failed || m.acked) return;
    m.failed = true;
    this.inFlight--;
    this.pending.delete(cid);
    ctx.count('msg_send_failed');
    ctx.count(`msg_send_error:${reason}`);
    if (m.samples.length) ctx.count('msg_receipts_of_failed_sends', m.samples.length);
  }

  private accepted(cid: string, m: Pending, at: number): void {
    const ctx = this.ctx;
    if (m.acked || m.failed) return;
    m.acked = true;
    this.inFlight--;
    ctx.count('msg_sent_ok');
    // Accepted before the scheduled window closed: what the achieved rate is computed from.
    if (at <= this.end) ctx.count('msg_sent_ok_in_window');
    ctx.count(`msg_transport:${m.transport}`);
    ctx.hists.record('msg_send', at - m.intended);
    ctx.hists.record(`msg_send_${m.transport}`, at - m.intended);
    if (m.expected.size === 0) this.finalize(cid, m);
  }

  // ---- sockets ------------------------------------------------------------------------------

  private onEvent(c: Conn, e: ServerEvent, at: number): void {
    const ctx = this.ctx;
    if (e.type === 'hello') {
      // The first hello gives the position to resume from; a reconnect's hello must not move it
      // past messages sent while away.
      if (c.state === 'absent') c.pos.start(e.channels?.find((x) => x.channelId === this.p.channels[c.ch].channelId)?.lastSeq ?? 0);
    } else if (e.type === 'resumed') {
      c.pos.resumed();
      ctx.count('msg_ws_resumed_channels');
      if (e.limited) ctx.count('msg_ws_resume_limited');
    } else if (e.type === 'message.created') {
      if (!c.pos.received(e.seq)) return; // a replayed repeat of a live one
      const cid = e.message?.clientMsgId;
      if (typeof cid !== 'string' || !cid.startsWith(`${ctx.tag}m`)) return;
      const m = this.pending.get(cid);
      if (m?.expected.delete(c.idx)) {
        m.samples.push(at - m.intended);
        if (m.fileId && !e.message.files?.some((f) => f.id === m.fileId)) ctx.count('msg_file_receipts_without_file');
        if (m.acked && m.expected.size === 0) this.finalize(cid, m);
      } else ctx.count('msg_receipts_unexpected');
    } else if (e.type === 'ack') {
      const m = this.pending.get(e.clientMsgId);
      if (m) this.accepted(e.clientMsgId, m, at);
    } else if (e.type === 'error') {
      ctx.count('msg_ws_error_events');
      const m = e.ref ? this.pending.get(e.ref) : undefined;
      if (m) this.fail(e.ref!, m, e.code ?? 'WS_ERROR');
    }
  }

  private onClose(c: Conn, code: number, intentional: boolean): void {
    if (intentional || this.stopped) {
      c.state = 'absent';
      return;
    } // counted where the generator closes it
    this.ctx.count('msg_ws_disconnects_unexpected');
    c.state = 'away';
    c.pos.dropped();
    if (code === CloseCodes.TOKEN_EXPIRED) c.expired = true;
    setTimeout(() => void this.reconnect(c), 250 + Math.random() * 1000); // jitter, as a real client
  }

  /** Reconnects and resumes from the last seq seen before the drop; backoff with full jitter (0.5 s … 8 s) on failure. */
  private async reconnect(c: Conn): Promise<void> {
    if (this.stopped || c.state !== 'away') return;
    if (c.expired) {
      c.expired = false;
      if (await refreshAccount(this.https[c.acc.node], c.acc)) c.sock.token = c.acc.accessToken;
    }
    const r = await c.sock.connect(this.ctx.cfg.ws.connectTimeoutMs);
    if (this.stopped) {
      c.sock.close();
      return;
    }
    if (r.ok) {
      c.state = 'open';
      c.failures = 0;
      this.ctx.count('msg_ws_reconnects');
      c.sock.send({ op: 'resume', positions: { [this.p.channels[c.ch].channelId]: c.pos.resumeFrom } });
    } else {
      this.ctx.count('msg_ws_reconnect_errors');
      c.failures++;
      setTimeout(() => void this.reconnect(c), Math.random() * Math.min(8000, 500 * 2 ** c.failures));
    }
  }

  /** Connects every member before the clock starts (not part of the measured rate). */
  async connectAll(): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < this.conns.length) {
          const c = this.conns[next++];
          const r = await c.sock.connect(this.ctx.cfg.ws.connectTimeoutMs);
          if (r.ok) {
            this.ctx.hists.record('msg_setup_connecting', r.connectMs);
            c.state = 'open';
          } else this.ctx.count('msg_setup_connect_errors');
        }
      }),
    );
  }

  // ---- the open-model sender ----------------------------------------------------------------

  /** Message i, due at `intended`: sent from a random online member over REST or WS, or counted as dropped by cause. */
  private fire(intended: number): void {
    const { ctx, cfg, p } = this;
    const n = this.i;
    const ci = n % p.channels.length;
    const online = this.byCh[ci].filter((c) => c.state === 'open' && c.sock.open);
    ctx.count('msg_attempted');
    // Dropped iterations, by cause (the generator never drops a message for being late: its
    // lateness is msg_schedule_lag, and the message still counts from its intended time).
    if (online.length === 0) {
      ctx.count('msg_no_online_sender');
      return;
    }
    if (this.inFlight >= cfg.maxInFlight) {
      ctx.count('msg_dropped_inflight_cap');
      return;
    }
    let sender = online[Math.floor(Math.random() * online.length)];
    const kind = pick(cfg.mix);
    // A file message is sent by the uploader of a file of this channel that is online.
    const file = kind === 'file' ? this.pool?.take(ci, (k) => this.byCh[ci][k].state === 'open' && this.byCh[ci][k].sock.open) : undefined;
    if (file) sender = this.byCh[ci][file.m];
    else if (kind === 'file' && this.pool) ctx.count('msg_file_pool_empty');
    const fileIds = file ? [file.id] : undefined;
    const transport = pick(cfg.transport);
    ctx.count(`msg_kind:${kind}`);
    const cid = `${ctx.tag}m${ctx.workerIndex}.${n}`;
    // Recipients: every member online now or away (reconnecting), so a dropped member cannot
    // make a message look delivered.
    const expected = new Set(this.byCh[ci].filter((c) => c.state !== 'absent').map((c) => c.idx));
    if (expected.size > online.length) ctx.count('msg_expected_while_away', expected.size - online.length);
    const m: Pending = { intended, ch: ci, expected, expectedCount: expected.size, acked: false, failed: false, samples: [], transport };
    if (file) {
      m.fileId = file.id;
      ctx.count('msg_file_attached');
    }
    this.pending.set(cid, m);
    this.inFlight++;
    const text = textFor(kind, n, p.channels[ci].members);
    ctx.hists.record('msg_schedule_lag', performance.now() - intended);
    if (transport === 'ws') {
      if (!sender.sock.send({ op: 'send', channelId: p.channels[ci].channelId, text, clientMsgId: cid, fileIds }))
        this.fail(cid, m, 'WS_NOT_OPEN');
    } else this.sendRest(sender, ci, text, cid, m, fileIds);
  }

  private sendRest(sender: Conn, ci: number, text: string, cid: string, m: Pending, fileIds?: string[]): void {
    const http = this.https[sender.acc.node];
    void http
      .request('POST', `/api/channels/${this.p.channels[ci].channelId}/messages`, {
        token: sender.acc.accessToken,
        body: { text, clientMsgId: cid, fileIds },
      })
      .then((r) => {
        if (r.ok) this.accepted(cid, m, performance.now());
        else {
          this.fail(cid, m, r.error ?? `HTTP_${r.status}`);
          if (r.status === 401 && r.error === 'TOKEN_EXPIRED') void refreshAccount(http, sender.acc);
        }
      });
  }

  /** Fires every message when due until the window ends (or the run is aborted). */
  async load(start: number): Promise<void> {
    const { ctx, p } = this;
    const interval = 1000 / p.rate;
    this.end = start + this.cfg.duration * 1000;
    ctx.gauge('msg_rate_target', p.rate);
    while (!ctx.signal.aborted) {
      const now = performance.now();
      let due = start + this.i * interval;
      if (due >= this.end) break;
      while (due <= now && due < this.end) {
        this.fire(due);
        this.i++;
        due = start + this.i * interval;
      }
      ctx.gauge('msg_in_flight', this.inFlight);
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(2, due - performance.now()))));
    }
    ctx.gauge('msg_rate_target', 0);
  }

  /** Waits up to drainMs for what is in flight, settles the rest, closes everything. */
  async finish(): Promise<{ sentUntil: number }> {
    const ctx = this.ctx;
    const drainUntil = performance.now() + this.cfg.drainMs;
    while (this.pending.size > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
    for (const [cid, m] of [...this.pending]) {
      if (m.acked) this.finalize(cid, m);
      else this.fail(cid, m, 'NO_RESPONSE_IN_DRAIN');
    }
    this.stopped = true;
    ctx.gauge('msg_ws_away', this.conns.filter((c) => c.state === 'away').length);
    // Counted here, not in onClose: the close events may arrive after this worker has reported.
    ctx.count('msg_ws_disconnects_expected', this.conns.filter((c) => c.state === 'open').length);
    for (const c of this.conns) {
      c.state = 'absent';
      c.sock.close();
    }
    await Promise.all(this.https.map((h) => h.destroy()));
    return { sentUntil: this.i };
  }
}

async function run(ctx: WorkerContext): Promise<unknown> {
  const r = new MessagesRun(ctx);
  await r.connectAll();
  ctx.hists.take();
  const start = await ctx.barrier();
  await r.load(start);
  return r.finish();
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
    msg_delivery_success: rate(
      c('msg_delivered'),
      c('msg_delivery_failed') + c('msg_send_failed') + c('msg_dropped_inflight_cap') + c('msg_no_online_sender'),
    ),
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
  // The "file" share: uploads made before the start, messages that carried one, and the receipts that lacked it.
  const att = plan.info.fileAttachments as { uploaded: number; uploadErrors: Record<string, number> } | null | undefined;
  const attachments = att
    ? [
        {
          uploaded: att.uploaded,
          uploadErrors: Object.values(att.uploadErrors).reduce((a, b) => a + b, 0),
          messagesWithFile: c('msg_file_attached'),
          sentAsTextPoolEmpty: c('msg_file_pool_empty'),
          receiptsWithoutFile: c('msg_file_receipts_without_file'),
          e2eP95WithFile: summarizeEncoded(agg.hists.msg_e2e_with_file).p95,
          e2eP95All: summarizeEncoded(agg.hists.msg_e2e).p95,
        },
      ]
    : [];
  const byTransport = (['rest', 'ws'] as const).map((t) => ({
    transport: t,
    accepted: c(`msg_transport:${t}`),
    ...summarizeEncoded(agg.hists[`msg_send_${t}`]),
  }));
  const errors = Object.entries(agg.counters)
    .filter(([k]) => k.startsWith('msg_send_error:'))
    .map(([k, v]) => ({ error: k.slice(15), count: v }));
  return {
    name: 'messages',
    title: 'Message throughput',
    metrics,
    tables: { by_kind: byKind, file_attachments: attachments, by_transport: byTransport, send_errors: errors },
    notes: plan.notes,
    info: { ...plan.info, seconds: secs },
  };
}

export const messagesScenario: Scenario = {
  name: 'messages',
  title: 'Message throughput',
  progress: {
    gauge: 'msg_rate_target',
    hist: 'msg_e2e',
    errors: ['msg_send_failed', 'msg_dropped_inflight_cap', 'msg_no_online_sender', 'msg_delivery_failed', 'msg_ws_disconnects_unexpected'],
  },
  prepare,
  run,
  summarize,
};
