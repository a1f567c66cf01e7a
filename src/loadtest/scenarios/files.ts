// Scenario 4 — file uploads (k6 ramping-vus, closed model): each VU has its own account and
// uploads one file after another into the run's channels, the size class picked by the
// template's weights (100 KB 40%, 1 MB 30%, 10 MB 20%, 50 MB 10% by default) and the content
// real (files-content.ts: random bytes, text, JPEG and PNG photos), held in memory or streamed from disk.
// An upload succeeds only when the reply's size and SHA-256 are the bytes sent; anything else
// (non-2xx, network error, mismatch) is a failure and never a latency sample.
// Server-side figures come from the nodes' /metrics (read by worker 0, see files-server.ts):
// processing time (upload complete → thumbnail ready) as the delta of the server's histogram
// over the run, and the server's RSS through the run (start, peak, end).
import type { Scenario, WorkerContext, Plan, Aggregate, ScenarioSummary } from '../scenario.js';
import type { Account } from '../setup.js';
import { split, refreshAccount } from '../setup.js';
import { FILE_CLASSES, type FileClass, type LoadtestConfig } from '../config.js';
import { UploadClient, type UploadSource } from '../clients/upload.js';
import { HttpClient } from '../clients/http.js';
import { summarizeEncoded } from '../hist.js';
import { counter, gauge, rate, round, type MetricSummary } from '../metrics.js';
import { ensureFixtures, fixtureStream, HELD_FIXTURES_MAX_BYTES, holdFixtures, labelOf, type Fixture } from './files-content.js';
import { ServerWatch, processingSummary, rssFigures, type ServerReport } from './files-server.js';

interface Payload {
  nodes: string[];
  vus: Account[];
  channelIds: string[];
  fixtures: Fixture[];
  totalVus: number;
  firstVu: number;
  /** Worker 0 only: reads the nodes' /metrics through the run. */
  watch: { metricsToken?: string; processingMetric: string } | null;
}

interface WorkerResult {
  /** [class, Mbit/s] of every verified upload. */
  speeds: [FileClass, number][];
  /** ms from the common start to this worker's last upload end. */
  lastDoneMs: number;
  server: ServerReport | null;
}

async function prepare(ctx: Parameters<Scenario['prepare']>[0]): Promise<Plan> {
  const f = ctx.cfg.files;
  const classes = FILE_CLASSES.filter((k) => f.mix[k] > 0).map((k) => ({ key: k, label: labelOf(f.sizes[k]), bytes: f.sizes[k] }));
  const fixtures = await ensureFixtures({ classes, imageMaxBytes: f.imageMaxBytes }, ctx.log);
  ctx.log(`files: creating ${f.vus} VU accounts, ${f.channels} channels`);
  const vus = await ctx.setup.users('f', f.vus);
  const channelIds: string[] = [];
  for (let i = 0; i < f.channels; i++) channelIds.push(await ctx.setup.channel(`files${i}`, vus));
  // Route probe: a 404 means the target has no uploads (yet); the scenario then measures nothing and says so.
  const prober = new UploadClient(ctx.nodes[0], 1);
  const probe = await prober.upload(vus[0].accessToken, sourceOf(fixtures[0]), { channelId: channelIds[0] });
  await prober.close();
  if (!probe.verified) {
    const why =
      probe.status === 404
        ? 'endpoint not implemented on target: POST /api/files answered 404 at setup'
        : `the setup upload failed: HTTP ${probe.status} ${probe.error ?? probe.mismatch ?? ''}`;
    throw new Error(`files: not measured (${why})`);
  }
  const workers = Math.max(1, Math.min(ctx.cfg.workers, vus.length));
  const parts = split(vus, workers);
  const mixTotal = FILE_CLASSES.reduce((s, k) => s + f.mix[k], 0);
  const meanBytes = FILE_CLASSES.reduce((s, k) => s + (f.sizes[k] * f.mix[k]) / mixTotal, 0);
  const byKind = (k: string) =>
    fixtures
      .filter((x) => x.kind === k)
      .map((x) => `${labelOf(x.bytes)}${x.width ? ` ${x.width}×${x.height}` : ''}`)
      .join(', ');
  const notes = [
    f.rate > 0
      ? `files: open model (constant arrival rate): ${f.rate} uploads/s for ${f.duration} s (offered ≈ ${round((f.rate * meanBytes) / 1048576, 1)} MB/s), at most ${f.vus} in flight (one per account; an arrival with all busy is dropped and counted: files_dropped_iterations)`
      : `files: ${f.vus} VUs (closed model: each uploads again as soon as its upload ends, think time ${f.thinkTimeMs} ms), ${f.duration} s (ramp-up ${f.rampUp} s); each VU its own account; uploads into ${f.channels} channels of which every VU is a member`,
    `files: size mix ${classes.map((c) => `${c.label} ${round((100 * f.mix[c.key]) / mixTotal, 1)}%`).join(', ')}; multipart body with Content-Length, from one copy of each fixture in each worker's memory (fixtures ≤ ${labelOf(HELD_FIXTURES_MAX_BYTES)} in all; else streamed from disk)`,
    `files: content per class: random bytes and log text (exact class size)${fixtures.some((x) => x.width) ? `; real images for ${round(f.imageShare * 100, 1)}% of the uploads in classes ≤ ${labelOf(f.imageMaxBytes)}: JPEG ${byKind('jpeg') || 'none'}; PNG ${byKind('png') || 'none'}` : '; no images (no class small enough)'}`,
    "files: an upload counts only when the reply's size and SHA-256 equal the bytes sent; upload time = request start → reply read; speed = file bytes ÷ upload time",
  ];
  let first = 0;
  return {
    payloads: parts.map((p, i) => {
      const x: Payload = {
        nodes: ctx.nodes,
        vus: p,
        channelIds,
        fixtures,
        totalVus: vus.length,
        firstVu: first,
        watch: i === 0 ? { metricsToken: ctx.metricsToken, processingMetric: f.processingMetric } : null,
      };
      first += p.length;
      return x;
    }),
    notes,
    info: {
      model: f.rate > 0 ? 'open' : 'closed',
      rate: f.rate,
      meanFileMB: round(meanBytes / 1048576, 3),
      vus: f.vus,
      duration: f.duration,
      rampUp: f.rampUp,
      classes,
      mix: f.mix,
      imageShare: f.imageShare,
      fixtures: fixtures.map(({ path: _p, ...x }) => x),
    },
  };
}

function sourceOf(f: Fixture): UploadSource {
  return { name: f.name, mime: f.mime, bytes: f.bytes, sha256: f.sha256, open: () => fixtureStream(f) };
}

/** One worker's VUs: each loops (pick class → pick content → upload → record) until the window ends. */
class FilesRun {
  private readonly p: Payload;
  private readonly f: LoadtestConfig['files'];
  private readonly clients: UploadClient[];
  /** JSON clients, for a token refresh only (rare: a load test's access token lives a day). */
  private readonly https: HttpClient[];
  private readonly entries: [FileClass, number][];
  private readonly totalW: number;
  private readonly byClass = new Map<string, { images: Fixture[]; other: Fixture[] }>();
  private readonly speeds: [FileClass, number][] = [];
  private running = 0;
  private lastDone = 0;

  constructor(private readonly ctx: WorkerContext) {
    const p = (this.p = ctx.payload as Payload);
    this.f = ctx.cfg.files;
    holdFixtures(p.fixtures);
    this.clients = p.nodes.map((o) => new UploadClient(o, Math.max(4, p.vus.length)));
    this.https = p.nodes.map((o) => new HttpClient(o, 2));
    this.entries = FILE_CLASSES.map((k) => [k, this.f.mix[k]] as [FileClass, number]).filter(([, w]) => w > 0);
    this.totalW = this.entries.reduce((s, [, w]) => s + w, 0);
    for (const x of p.fixtures) {
      let c = this.byClass.get(x.cls);
      if (!c) this.byClass.set(x.cls, (c = { images: [], other: [] }));
      (x.width ? c.images : c.other).push(x);
    }
  }

  private pick(): { cls: FileClass; fx: Fixture } {
    let r = Math.random() * this.totalW;
    let cls = this.entries[this.entries.length - 1][0];
    for (const [k, w] of this.entries)
      if ((r -= w) < 0) {
        cls = k;
        break;
      }
    const c = this.byClass.get(cls)!;
    const list = c.images.length && Math.random() < this.f.imageShare ? c.images : c.other;
    return { cls, fx: list[Math.floor(Math.random() * list.length)] };
  }

  async load(start: number): Promise<void> {
    const end = start + this.f.duration * 1000;
    if (this.f.rate > 0) await this.openLoad(start, end);
    else await Promise.all(this.p.vus.map((acc, k) => this.vu(acc, k, start, end)));
    this.ctx.gauge('files_vus', 0);
    this.lastDone = this.lastDone || performance.now();
  }

  /** Closed model: one VU uploads again as soon as its upload ends (after the think time). */
  private async vu(acc: Account, k: number, start: number, end: number): Promise<void> {
    const { ctx, f, p } = this;
    const startAt = start + (f.rampUp * 1000 * (p.firstVu + k)) / Math.max(1, p.totalVus);
    await new Promise((r) => setTimeout(r, Math.max(0, startAt - performance.now())));
    this.running++;
    ctx.gauge('files_vus', this.running);
    let n = 0;
    while (!ctx.signal.aborted && performance.now() < end) {
      await this.uploadOnce(acc, k + n++);
      if (f.thinkTimeMs > 0) await new Promise((res) => setTimeout(res, f.thinkTimeMs));
    }
    this.running--;
  }

  /**
   * Open model (k6 constant-arrival-rate): upload i starts at start + i / rate whatever the server
   * does, by an idle account; with every account busy (`vus` uploads in flight) it is not started
   * and counted as dropped (files_dropped), so a slow server shows as drops, not as a lower rate.
   */
  private async openLoad(start: number, end: number): Promise<void> {
    const { ctx, p } = this;
    const rate = (this.f.rate * p.vus.length) / Math.max(1, p.totalVus);
    const idle = p.vus.map((acc, k) => ({ acc, k }));
    const inFlight = new Set<Promise<void>>();
    let i = 0;
    let n = 0;
    ctx.gauge('files_rate_target', rate);
    while (!ctx.signal.aborted) {
      const due = start + (i * 1000) / rate;
      if (due >= end) break;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, Math.min(wait, 50)));
      if (performance.now() < due) continue;
      i++;
      const vu = idle.pop();
      if (!vu) {
        ctx.count('files_dropped');
        continue;
      }
      this.running++;
      ctx.gauge('files_vus', this.running);
      const job: Promise<void> = this.uploadOnce(vu.acc, vu.k + n++).then(() => {
        this.running--;
        idle.push(vu);
        inFlight.delete(job);
      });
      inFlight.add(job);
    }
    ctx.gauge('files_rate_target', 0);
    await Promise.all(inFlight);
  }

  /** One upload as `acc`: a class by weight, content, verified reply; recorded only when verified. */
  private async uploadOnce(acc: Account, n: number): Promise<void> {
    const { ctx, p } = this;
    const { cls, fx } = this.pick();
    const channelId = p.channelIds[n % p.channelIds.length];
    ctx.count('files_started');
    ctx.count(`files_started:${cls}`);
    if (fx.width) ctx.count('files_images_started');
    const r = await this.clients[acc.node].upload(acc.accessToken, sourceOf(fx), { channelId, signal: ctx.signal });
    this.lastDone = performance.now();
    if (!r.verified && ctx.signal.aborted) {
      // Cut by Ctrl-C: neither a success nor the server's failure; taken out of the counts in summarize.
      ctx.count('files_interrupted');
      ctx.count(`files_interrupted:${cls}`);
    } else if (r.verified) {
      ctx.count('files_ok');
      ctx.count(`files_ok:${cls}`);
      ctx.count('files_bytes', fx.bytes);
      ctx.count(`files_bytes:${cls}`, fx.bytes);
      if (r.body.thumbnailUrl) ctx.count('files_thumbnails_expected');
      ctx.hists.record('files_upload_duration', r.ms);
      ctx.hists.record(`files_upload_duration:${cls}`, r.ms);
      this.speeds.push([cls, (fx.bytes * 8) / 1e6 / (r.ms / 1000)]);
    } else {
      ctx.count('files_failed');
      ctx.count(`files_failed:${cls}`);
      if (r.ok) ctx.count('files_mismatch');
      ctx.count(`files_error:${r.ok ? 'MISMATCH' : (r.error ?? `HTTP_${r.status}`)}`);
      if (r.status === 401 && r.error === 'TOKEN_EXPIRED') await refreshAccount(this.https[acc.node], acc);
    }
  }

  result(start: number, server: ServerReport | null): WorkerResult {
    return { speeds: this.speeds, lastDoneMs: Math.max(0, this.lastDone - start), server };
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.map((c) => c.close()), ...this.https.map((h) => h.close())]);
  }
}

async function run(ctx: WorkerContext): Promise<unknown> {
  const r = new FilesRun(ctx);
  const p = ctx.payload as Payload;
  const watch = p.watch ? new ServerWatch(p.nodes, p.watch.metricsToken, p.watch.processingMetric) : null;
  await watch?.begin();
  const start = await ctx.barrier();
  watch?.every(1000);
  await r.load(start);
  await r.close();
  // Thumbnails of the last uploads may still be in the making: wait (bounded) until the server's count settles.
  const server = watch ? await watch.finish(ctx.cfg.files.drainMs) : null;
  return r.result(start, server);
}

function summarize(agg: Aggregate, plan: Plan, cfg: LoadtestConfig): ScenarioSummary {
  const c = (k: string) => agg.counters[k] ?? 0;
  const results = agg.extras.filter(Boolean) as WorkerResult[];
  const window = agg.interrupted ? Math.min(agg.seconds, cfg.files.duration) : cfg.files.duration;
  // Throughput over start → the last upload's end (uploads in flight at the window's end finish after it).
  const busySec = Math.max(window, ...results.map((r) => r.lastDoneMs / 1000));
  const speeds = results.flatMap((r) => r.speeds);
  const server = results.find((r) => r.server)?.server ?? null;
  const spd = speedStats(speeds.map((s) => s[1]));
  const rss = rssFigures(server);
  const proc = processingSummary(server);
  const metrics: Record<string, MetricSummary> = {
    files_uploads_started: counter(c('files_started') - c('files_interrupted'), window),
    files_uploads_completed: counter(c('files_ok'), window),
    files_uploads_failed: counter(c('files_failed'), window),
    files_upload_success: rate(c('files_ok'), c('files_failed')),
    files_upload_mismatch: counter(c('files_mismatch'), window),
    files_upload_duration: summarizeEncoded(agg.hists.files_upload_duration),
    files_bytes_uploaded: counter(c('files_bytes'), busySec),
    files_throughput: gauge(busySec > 0 && c('files_bytes') ? round(c('files_bytes') / 1048576 / busySec, 2) : null, 'MB/s'),
    files_upload_speed_avg: gauge(spd.avg, 'Mbit/s'),
    files_upload_speed_p95: gauge(spd.p95, 'Mbit/s'),
    files_processing: proc.trend,
    files_server_rss_start: gauge(rss.start, 'MB'),
    files_server_rss_peak: gauge(rss.peak, 'MB'),
    files_server_rss_end: gauge(rss.end, 'MB'),
    files_max_vus: gauge(agg.gaugeMax.files_vus ?? null),
    files_dropped_iterations: counter(c('files_dropped'), window),
  };
  // Every class's duration metric is emitted (count 0 and nulls when none ran), so a threshold on one always has a figure.
  for (const k of FILE_CLASSES) metrics[`files_upload_duration_${k}`] = summarizeEncoded(agg.hists[`files_upload_duration:${k}`]);
  const bySize = FILE_CLASSES.filter((k) => cfg.files.mix[k] > 0).map((k) => {
    const s = metrics[`files_upload_duration_${k}`] as ReturnType<typeof summarizeEncoded>;
    const started = c(`files_started:${k}`) - c(`files_interrupted:${k}`);
    const sp = speedStats(speeds.filter((x) => x[0] === k).map((x) => x[1]));
    return {
      size: labelOf(cfg.files.sizes[k]),
      key: k,
      uploads: started,
      completed: c(`files_ok:${k}`),
      failed: c(`files_failed:${k}`),
      successRate: started ? round(c(`files_ok:${k}`) / started, 6) : null,
      avg: s.avg,
      p50: s.p50,
      p95: s.p95,
      p99: s.p99,
      max: s.max,
      avgMbps: sp.avg,
      MBps: busySec > 0 ? round(c(`files_bytes:${k}`) / 1048576 / busySec, 2) : null,
    };
  });
  const errors = Object.entries(agg.counters)
    .filter(([k]) => k.startsWith('files_error:'))
    .map(([k, v]) => ({ error: k.slice(12), count: v }));
  const notes = [...plan.notes, ...proc.notes, ...rss.notes];
  if (c('files_interrupted') > 0)
    notes.push(`files: ${c('files_interrupted')} uploads in flight at Ctrl-C were cut and are counted neither as started nor as failed`);
  const expected = c('files_thumbnails_expected');
  if (proc.trend.count > 0 || expected > 0)
    notes.push(
      `files: thumbnails: ${expected} verified uploads came back with a thumbnailUrl; the server's histogram counted ${proc.trend.count} processed in the run (any other client's uploads in that time too; fewer means some were not done when the drain ended)`,
    );
  return {
    name: 'files',
    title: 'File uploads',
    metrics,
    tables: { by_size: bySize, errors, server_rss: rss.rows },
    notes,
    info: {
      ...plan.info,
      seconds: window,
      busySeconds: round(busySec, 2),
      imagesUploaded: c('files_images_started'),
      thumbnailsExpected: c('files_thumbnails_expected'),
      processing: proc.info,
    },
  };
}

function speedStats(v: number[]): { avg: number | null; p95: number | null } {
  if (!v.length) return { avg: null, p95: null };
  const s = [...v].sort((a, b) => a - b);
  return {
    avg: round(s.reduce((a, b) => a + b, 0) / s.length, 2),
    p95: round(s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)], 2),
  };
}

export const filesScenario: Scenario = {
  name: 'files',
  title: 'File uploads',
  progress: { gauge: 'files_vus', hist: 'files_upload_duration', errors: ['files_failed'] },
  prepare,
  run,
  summarize,
};
