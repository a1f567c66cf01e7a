// The load generator of bench:fanout (runs in the bench process, never in the server's):
// N WebSocket clients, each a member of one channel; messages sent on a fixed-rate schedule by
// random members of random channels; every recipient's receipt time recorded against the
// message's intended send time (its slot; same process, same monotonic clock), so latency is
// intended send → receipt at each recipient and a late generator cannot hide its lateness
// (schedule lag = actual send − intended is reported beside it).
import hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import { FixedRateSchedule } from '../src/loadtest/schedule.js';
import type { SendOp, ServerEvent } from '../src/protocol/ws.js';

export interface Target {
  name: string;
  users: number;
  channelIds: string[];
  /** Channel index of user i. */
  channelOf(i: number): number;
  /** User indexes of channel c (all connected). */
  membersOf(c: number): number[];
  url(i: number): string;
  protocols(i: number): string[] | undefined;
}

export type Histogram = ReturnType<typeof hdr.build>;
export const histogram = (): Histogram =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });

interface Pending {
  /** Intended send time (the slot's time in the fixed-rate schedule), performance.now() ms. */
  intended: number;
  /** When it actually left (after the slot's time when the generator was late). */
  sentAt: number;
  expected: number;
  got: number;
  state: 'unanswered' | 'acked' | 'refused';
  /** With NCHAT_BENCH_DEBUG_LOST=1: channel, sender and the clients that received it. */
  debug?: { channel: number; from: number; got: number[] };
}

/** NCHAT_BENCH_DEBUG_LOST=1: after each run, list (stderr) up to 20 messages with deliveries missing, and who missed them. */
const DEBUG_LOST = process.env.NCHAT_BENCH_DEBUG_LOST === '1';

export class Load {
  readonly clients: (WebSocket | undefined)[] = [];
  private readonly pending = new Map<string, Pending>();
  /** Send → receipt from the intended time (what a user waiting for that slot would see). */
  private latency = histogram();
  /** Send → receipt from the actual send (the pre-fix method, kept for the side-by-side). */
  private fromSend = histogram();
  /** First receipts of a message at a client (repeats not counted). */
  deliveries = 0;
  /**
   * Receipts of a message a client already had: the server's repair from the store delivers
   * duplicates by contract (hub.ts). Before they were set apart, they counted as deliveries, the
   * drain ended once the count reached the expected total, and the last messages of a run that
   * had repairs were reported lost while still on their way (2026-12-01, 2 nodes on PostgreSQL).
   */
  repeats = 0;
  /** Per client: the clientMsgIds it has received in this run. */
  private seenBy: (Set<string> | undefined)[] = [];
  acks = 0;
  errors = 0;
  /** Error events whose `ref` matches no message of this run. */
  errorsUnmatched = 0;
  errorCodes = new Map<string, number>();
  closedUnexpectedly = 0;
  private firstSend = 0;
  private lastReceipt = 0;
  private recording = false;
  constructor(readonly target: Target) {}

  /** Opens every connection (at most `concurrency` in flight); returns per-connection time to hello in ms. */
  async connectAll(
    concurrency: number,
    from = 0,
    to = this.target.users,
  ): Promise<{ connectMs: Histogram; failed: number; wallMs: number }> {
    const connectMs = histogram();
    let next = from;
    let failed = 0;
    const start = performance.now();
    const worker = async () => {
      while (next < to) {
        const i = next++;
        const t0 = performance.now();
        try {
          this.clients[i] = await this.open(i);
          connectMs.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
        } catch {
          failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { connectMs, failed, wallMs: performance.now() - start };
  }

  private open(i: number): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.target.url(i), this.target.protocols(i), { perMessageDeflate: false });
      let helloed = false;
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error('connect timeout'));
      }, 30_000);
      ws.on('message', (data) => {
        if (!helloed) {
          helloed = true;
          clearTimeout(timer);
          resolve(ws);
        }
        this.onFrame(data.toString(), i);
      });
      ws.on('error', (err) => {
        clearTimeout(timer);
        if (!helloed) reject(err);
      });
      ws.on('close', () => {
        if (helloed && this.recording) this.closedUnexpectedly++;
      });
    });
  }

  private onFrame(text: string, client: number): void {
    if (!this.recording) return;
    const now = performance.now();
    let events: ServerEvent[];
    try {
      events = JSON.parse(text) as ServerEvent[];
    } catch {
      return;
    }
    for (const e of events) {
      if (e.type === 'message.created') {
        const id = e.message?.clientMsgId;
        const p = id ? this.pending.get(id) : undefined;
        if (!p) continue;
        const seen = (this.seenBy[client] ??= new Set());
        if (seen.has(id!)) {
          this.repeats++;
          continue;
        }
        seen.add(id!);
        p.got++;
        p.debug?.got.push(client);
        this.deliveries++;
        this.lastReceipt = now;
        this.latency.recordValue(Math.max(1, Math.round((now - p.intended) * 1000)));
        this.fromSend.recordValue(Math.max(1, Math.round((now - p.sentAt) * 1000)));
      } else if (e.type === 'ack') {
        this.acks++;
        const p = this.pending.get(e.clientMsgId);
        if (p && p.state === 'unanswered') p.state = 'acked';
      } else if (e.type === 'error') {
        this.errors++;
        this.errorCodes.set(e.code, (this.errorCodes.get(e.code) ?? 0) + 1);
        const p = typeof e.ref === 'string' ? this.pending.get(e.ref) : undefined;
        if (p && p.state === 'unanswered') p.state = 'refused';
        else this.errorsUnmatched++;
      }
    }
  }

  /**
   * Sends `rate` msg/s for `seconds` on a fixed schedule (slot k intended at start + k/rate),
   * then waits up to `drainMs` for the last acks and deliveries. Latency counts from each
   * slot's intended time, so when the generator falls behind and sends a catch-up burst, its
   * lateness stays in the figures (and is reported as schedule lag) instead of dropping out.
   */
  async run(rate: number, seconds: number, drainMs = 5000, textBytes = 100) {
    this.pending.clear();
    this.latency = histogram();
    this.fromSend = histogram();
    const lag = histogram();
    this.deliveries = this.repeats = this.acks = this.errors = this.errorsUnmatched = this.closedUnexpectedly = 0;
    this.seenBy = [];
    this.errorCodes.clear();
    this.recording = true;
    const text = 'x'.repeat(textBytes);
    const channels = this.target.channelIds.length;
    let sent = 0;
    let slot = 0;
    let skipped = 0;
    const run = Math.random().toString(36).slice(2, 8);
    const start = performance.now();
    const schedule = new FixedRateSchedule(start, rate, Math.round(rate * seconds));
    this.firstSend = start;
    const cpu0 = process.cpuUsage();
    await new Promise<void>((resolve) => {
      const tick = () => {
        const due = schedule.dueBy(performance.now());
        while (slot < due) {
          const intended = schedule.intendedAt(slot);
          slot++;
          const c = Math.floor(Math.random() * channels);
          const members = this.target.membersOf(c);
          const from = members[Math.floor(Math.random() * members.length)];
          const ws = this.clients[from];
          if (!ws || ws.readyState !== ws.OPEN) {
            skipped++;
            continue;
          }
          const clientMsgId = `${run}-${sent}`;
          const live = members.filter((m) => this.clients[m]?.readyState === WebSocket.OPEN).length;
          const sentAt = performance.now();
          lag.recordValue(Math.max(1, Math.round((sentAt - intended) * 1000)));
          this.pending.set(clientMsgId, {
            intended,
            sentAt,
            expected: live,
            got: 0,
            state: 'unanswered',
            debug: DEBUG_LOST ? { channel: c, from, got: [] } : undefined,
          });
          ws.send(JSON.stringify({ op: 'send', channelId: this.target.channelIds[c], text, clientMsgId } satisfies SendOp));
          sent++;
        }
        if (slot >= schedule.slots) return resolve();
        setTimeout(tick, Math.max(0, Math.min(5, schedule.intendedAt(slot) - performance.now())));
      };
      tick();
    });
    const sendWindowMs = performance.now() - start;
    const drainEnd = performance.now() + drainMs;
    const expectedNow = () => {
      let e = 0;
      for (const p of this.pending.values()) if (p.state !== 'refused') e += p.expected;
      return e;
    };
    while ((this.deliveries < expectedNow() || this.acks + this.errors < sent) && performance.now() < drainEnd)
      await new Promise((r) => setTimeout(r, 50));
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - start;
    this.recording = false;
    // Every sent message ends in one state: acked, refused (an error event naming it), or
    // unanswered by the end of the drain. Deliveries are expected for acked and unanswered
    // messages alike (an unanswered message may well have been stored and fanned out).
    let acked = 0,
      refused = 0,
      unanswered = 0,
      expected = 0,
      received = 0,
      lostOfAcked = 0,
      lostOfUnanswered = 0,
      receivedOfRefused = 0;
    for (const p of this.pending.values()) {
      const got = Math.min(p.got, p.expected);
      if (p.state === 'refused') {
        refused++;
        receivedOfRefused += p.got;
        continue;
      }
      expected += p.expected;
      received += got;
      if (p.state === 'acked') {
        acked++;
        lostOfAcked += p.expected - got;
      } else {
        unanswered++;
        lostOfUnanswered += p.expected - got;
      }
    }
    if (DEBUG_LOST) {
      let shown = 0;
      for (const [id, p] of this.pending) {
        if (p.state === 'refused' || p.got >= p.expected || !p.debug || shown++ >= 20) continue;
        const members = this.target.membersOf(p.debug.channel);
        const missed = members.filter((m) => !p.debug!.got.includes(m));
        process.stderr.write(
          `[lost] ${id} ${p.state} channel ${p.debug.channel} from client ${p.debug.from}; got ${p.got}/${p.expected}; missed by clients ${missed.join(',')}; intended +${(p.intended - start).toFixed(0)} ms\n`,
        );
      }
    }
    const q = (h: Histogram) => ({
      p50: h.getValueAtPercentile(50) / 1000,
      p95: h.getValueAtPercentile(95) / 1000,
      p99: h.getValueAtPercentile(99) / 1000,
      max: h.maxValue / 1000,
      count: h.totalCount,
    });
    const e2e = q(this.latency);
    return {
      rate,
      seconds,
      slots: schedule.slots,
      sent,
      skipped,
      acked,
      refused,
      unanswered,
      /** Ack and error events as received (acks may include ones for messages outside the pending map: none expected). */
      acks: this.acks,
      errors: this.errors,
      errorsUnmatched: this.errorsUnmatched,
      errorCodes: Object.fromEntries(this.errorCodes),
      expected,
      received,
      lost: expected - received,
      lostOfAcked,
      lostOfUnanswered,
      receivedOfRefused,
      deliveries: this.deliveries,
      /** Repeated receipts (a repair's duplicates), not counted as deliveries. */
      repeats: this.repeats,
      deliveriesPerSec: this.deliveries / (Math.max(this.lastReceipt - this.firstSend, sendWindowMs) / 1000),
      /** e2e from the intended time (ms). */
      p50: e2e.p50,
      p95: e2e.p95,
      p99: e2e.p99,
      max: e2e.max,
      /** e2e from the actual send (the old, coordinated-omission-prone method), for comparison. */
      fromSend: q(this.fromSend),
      /** Schedule lag: actual send − intended (ms). */
      lag: q(lag),
      generatorCpuPct: (100 * (cpu.user + cpu.system)) / 1000 / wallMs,
      closedUnexpectedly: this.closedUnexpectedly,
    };
  }

  closeAll(): void {
    for (const ws of this.clients) ws?.terminate();
    this.clients.length = 0;
  }
}

export type RunResult = Awaited<ReturnType<Load['run']>>;
