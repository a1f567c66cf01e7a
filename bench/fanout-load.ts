// The load generator of bench:fanout (runs in the bench process, never in the server's):
// N WebSocket clients, each a member of one channel; messages sent at a fixed rate by random
// members of random channels; every recipient's receipt time recorded against the send time
// (same process, same monotonic clock), so latency is send → receipt at each recipient.
import hdr from 'hdr-histogram-js';
import WebSocket from 'ws';

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
export const histogram = (): Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });

interface Pending {
  t: number;
  expected: number;
  got: number;
  acked: boolean;
}

export class Load {
  readonly clients: (WebSocket | undefined)[] = [];
  private readonly pending = new Map<string, Pending>();
  private latency = histogram();
  deliveries = 0;
  acks = 0;
  errors = 0;
  errorCodes = new Map<string, number>();
  closedUnexpectedly = 0;
  private firstSend = 0;
  private lastReceipt = 0;
  private recording = false;

  constructor(readonly target: Target) {}

  /** Opens every connection (at most `concurrency` in flight); returns per-connection time to hello in ms. */
  async connectAll(concurrency: number, from = 0, to = this.target.users): Promise<{ connectMs: Histogram; failed: number; wallMs: number }> {
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
        this.onFrame(data.toString());
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

  private onFrame(text: string): void {
    if (!this.recording) return;
    const now = performance.now();
    let events: any[];
    try {
      events = JSON.parse(text);
    } catch {
      return;
    }
    for (const e of events) {
      if (e.type === 'message.created') {
        const p = this.pending.get(e.message?.clientMsgId);
        if (!p) continue;
        p.got++;
        this.deliveries++;
        this.lastReceipt = now;
        this.latency.recordValue(Math.max(1, Math.round((now - p.t) * 1000)));
      } else if (e.type === 'ack') {
        this.acks++;
        const p = this.pending.get(e.clientMsgId);
        if (p) p.acked = true;
      } else if (e.type === 'error') {
        this.errors++;
        this.errorCodes.set(e.code, (this.errorCodes.get(e.code) ?? 0) + 1);
      }
    }
  }

  /** Sends `rate` msg/s for `seconds`, then waits up to `drainMs` for the last deliveries. */
  async run(rate: number, seconds: number, drainMs = 5000, textBytes = 100) {
    this.pending.clear();
    this.latency = histogram();
    this.deliveries = this.acks = this.errors = 0;
    this.errorCodes.clear();
    this.recording = true;
    const text = 'x'.repeat(textBytes);
    const channels = this.target.channelIds.length;
    let sent = 0;
    let slot = 0;
    let skipped = 0;
    let expected = 0;
    const run = Math.random().toString(36).slice(2, 8);
    const start = performance.now();
    this.firstSend = start;
    const cpu0 = process.cpuUsage();
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const elapsed = performance.now() - start;
        const due = Math.min(Math.floor((elapsed / 1000) * rate), rate * seconds);
        while (slot < due) {
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
          this.pending.set(clientMsgId, { t: performance.now(), expected: live, got: 0, acked: false });
          expected += live;
          ws.send(JSON.stringify({ op: 'send', channelId: this.target.channelIds[c], text, clientMsgId }));
          sent++;
        }
        if (slot >= rate * seconds) {
          clearInterval(tick);
          resolve();
        }
      }, 5);
    });
    const sendWindowMs = performance.now() - start;
    const drainEnd = performance.now() + drainMs;
    while ((this.deliveries < expected || this.acks + this.errors < sent) && performance.now() < drainEnd) await new Promise((r) => setTimeout(r, 50));
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - start;
    this.recording = false;
    // Lost = deliveries missing for messages the server acknowledged (a refused send is an error, not a loss).
    let expectedAcked = 0;
    let gotAcked = 0;
    for (const p of this.pending.values()) {
      if (!p.acked) continue;
      expectedAcked += p.expected;
      gotAcked += Math.min(p.got, p.expected);
    }
    const h = this.latency;
    const ms = (p: number) => h.getValueAtPercentile(p) / 1000;
    return {
      rate,
      seconds,
      sent,
      skipped,
      acks: this.acks,
      errors: this.errors,
      errorCodes: Object.fromEntries(this.errorCodes),
      expected: expectedAcked,
      deliveries: this.deliveries,
      lost: expectedAcked - gotAcked,
      deliveriesPerSec: this.deliveries / (Math.max(this.lastReceipt - this.firstSend, sendWindowMs) / 1000),
      p50: ms(50),
      p95: ms(95),
      p99: ms(99),
      max: h.maxValue / 1000,
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
