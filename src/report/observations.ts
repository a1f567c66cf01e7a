// Observations and issues, generated from the run's timelines and counters — never canned
// text. Each observation names the figures it rests on (per-second p95 from timelines/*.ndjson,
// load from the scenario's gauges, event-loop delay and CPU from samples/*.ndjson).
import { type Facts, int, num } from './facts.js';
import { at, counterSeries, gaugeSeries, latencySeries, median, nodeSeries, type Point } from './timeline.js';

interface LatencyWatch {
  sc: string;
  hist: string;
  label: string;
  load: { series: Point[]; label: string };
}

/**
 * How a per-second p95 moved with the load: "rose from A ms to B ms when <load> passed N; event-loop
 * delay on nodeX reached D ms at the same time", or "stayed between A and B ms".
 */
export function latencyObservation(f: Facts, w: LatencyWatch): string | null {
  const s = latencySeries(f, w.sc, w.hist, 'p95');
  if (s.length < 2) return null;
  const third = Math.max(1, Math.floor(s.length / 3));
  const first = median(s.slice(0, third).map((p) => p.v)) ?? 0;
  const last = median(s.slice(-third).map((p) => p.v)) ?? 0;
  const typical = median(s.map((p) => p.v)) ?? 0;
  const peak = s.reduce((a, b) => (b.v > a.v ? b : a));
  const loadAt = (t: number) => at(w.load.series, t);
  const maxLoad = Math.max(0, ...w.load.series.map((p) => p.v));
  const nodesAt = (t: number) => {
    const xs = nodeSeries(f, w.sc)
      .map((n) => ({ node: n.node, loop: at(n.loopMaxMs, t), cpu: at(n.cpu, t) }))
      .filter((x) => x.loop !== null || x.cpu !== null);
    return xs.length
      ? `; at second ${t} ${xs.map((x) => `${x.node} had event-loop delay max ${x.loop === null ? 'not sampled' : `${num(x.loop)} ms`} and CPU ${x.cpu === null ? 'not sampled' : `${num(x.cpu)}% of a core`}`).join(', ')}`
      : '';
  };
  const loadText = (t: number) => {
    const l = loadAt(t);
    return l === null ? '' : ` when ${w.load.label} was ${int(l)}`;
  };
  const parts: string[] = [];
  // A trend: the last third's typical p95 at least twice the first third's.
  if (last >= 2 * first && last - first >= 5) {
    const cross = s.find((p) => p.v >= 2 * first && p.v - first >= 5) ?? peak;
    parts.push(
      `${w.label}: per-second p95 rose from ${num(first)} ms (median of the first ${third} s) to ${num(last)} ms (median of the last ${third} s); it first passed twice its early level at second ${cross.t}${loadText(cross.t)}${nodesAt(cross.t)}`,
    );
  }
  // A spike: one second at three times the typical p95 or more.
  if (peak.v >= 3 * typical && peak.v - typical >= 5)
    parts.push(
      `${parts.length ? 'it' : w.label + ': per-second p95'} peaked at ${num(peak.v)} ms at second ${peak.t}${loadText(peak.t)} against a median second of ${num(typical)} ms${nodesAt(peak.t)}`,
    );
  if (parts.length) return `${parts.join('; ')}.`;
  const lo = Math.min(...s.map((p) => p.v));
  return `${w.label}: per-second p95 stayed between ${num(lo)} and ${num(peak.v)} ms (median second ${num(typical)} ms) over ${s.length} s while ${w.load.label} reached ${int(maxLoad)}.`;
}

/** Seconds where the achieved rate fell below 90% of the target (open model), with the worst one. */
function throughputObservation(f: Facts): string | null {
  const target = gaugeSeries(f, 'messages', 'msg_rate_target');
  const sent = counterSeries(f, 'messages', 'msg_sent_ok');
  if (!sent.length || !target.length) return null;
  const tgt = Math.max(...target.map((p) => p.v));
  const window = sent.filter((p) => (at(target, p.t) ?? 0) > 0);
  if (!window.length) return null;
  const low = window.filter((p) => p.v < 0.9 * tgt);
  const worst = window.reduce((a, b) => (b.v < a.v ? b : a));
  const avg = window.reduce((s, p) => s + p.v, 0) / window.length;
  if (!low.length)
    return `Messages: accepted ${num(avg)} msg/s on average against a target of ${int(tgt)} msg/s; every one of the ${window.length} s held at least 90% of the target (lowest ${int(worst.v)} at second ${worst.t}).`;
  return `Messages: accepted ${num(avg)} msg/s on average against ${int(tgt)} msg/s; ${low.length} of ${window.length} s fell below 90% of the target, the lowest ${int(worst.v)} msg/s at second ${worst.t}.`;
}

function apiObservation(f: Facts): string[] {
  if (!f.ran('api')) return [];
  const out: string[] = [];
  const eps = (f.s.scenarios.api.tables?.endpoints ?? []) as { endpoint: string; p95: number | null; requests: number; errors: number }[];
  const measured = eps.filter((e) => typeof e.p95 === 'number').sort((a, b) => (b.p95 ?? 0) - (a.p95 ?? 0));
  if (measured.length >= 2) {
    const [a] = measured;
    const fastest = measured[measured.length - 1];
    out.push(
      `API: the slowest endpoint by p95 was ${a.endpoint} (${num(a.p95!)} ms), ${num(a.p95! / Math.max(0.001, fastest.p95!))}× the fastest (${fastest.endpoint}, ${num(fastest.p95!)} ms).`,
    );
  }
  const errs = eps.filter((e) => e.errors > 0);
  if (errs.length) out.push(`API: errors on ${errs.map((e) => `${e.endpoint} (${int(e.errors)} of ${int(e.requests)})`).join(', ')}.`);
  const rate = counterSeries(f, 'api', 'api_reqs').filter((p) => p.v > 0);
  if (rate.length >= 3) {
    const max = rate.reduce((x, y) => (y.v > x.v ? y : x));
    out.push(`API: ${int(median(rate.map((p) => p.v)) ?? 0)} req/s in the median second, ${int(max.v)} at the peak (second ${max.t}).`);
  }
  return out;
}

/** Observations per test section (ids as in results.ts). */
export function observations(f: Facts): Record<string, string[]> {
  const out: Record<string, string[]> = { ws: [], messages: [], api: [], files: [], search: [] };
  const push = (k: string, s: string | null) => {
    if (s) out[k].push(s);
  };
  const wsOpen = { series: gaugeSeries(f, 'ws', 'ws_open'), label: 'open connections' };
  push('ws', latencyObservation(f, { sc: 'ws', hist: 'ws_connecting', label: 'WebSocket connect time', load: wsOpen }));
  push('ws', latencyObservation(f, { sc: 'ws', hist: 'ws_msg_e2e', label: 'Chat latency during the connection test', load: wsOpen }));
  const maxOpen = Math.max(0, ...wsOpen.series.map((p) => p.v));
  const reach = wsOpen.series.find((p) => p.v >= maxOpen);
  if (f.ran('ws') && reach && maxOpen > 0) {
    const disc = f.count('ws', 'ws_disconnects').v ?? 0;
    push(
      'ws',
      `WebSocket: ${int(maxOpen)} connections open at the peak, first reached at second ${reach.t}; ${int(disc)} unexpected disconnects over the test.`,
    );
  }
  const accepted = { series: counterSeries(f, 'messages', 'msg_sent_ok'), label: 'the accepted rate (msg/s)' };
  push('messages', throughputObservation(f));
  push('messages', latencyObservation(f, { sc: 'messages', hist: 'msg_e2e', label: 'Message end-to-end latency', load: accepted }));
  const lag = f.trend('messages', 'msg_schedule_lag', 'p99').v;
  if (lag !== null)
    push(
      'messages',
      `Generator lateness (msg_schedule_lag) p99 was ${num(lag)} ms${lag > 20 ? ': sends left late, and that delay is inside the latencies above' : ': sends left on time, so the latencies are the server’s'}.`,
    );
  out.api.push(...apiObservation(f));
  const vus = { series: gaugeSeries(f, 'api', 'api_vus'), label: 'virtual users' };
  push('api', latencyObservation(f, { sc: 'api', hist: 'api_req_duration', label: 'API response time', load: vus }));
  const extra: [string, string, string, string][] = [
    ['files', 'files_upload_duration', 'Upload time', 'files_vus'],
    ['search', 'search_duration', 'Search query time', 'search_vus'],
  ];
  for (const [sc, hist, label, gauge] of extra)
    if (f.ran(sc))
      push(sc, latencyObservation(f, { sc, hist, label, load: { series: gaugeSeries(f, sc, gauge), label: 'virtual users' } }));
  return out;
}

/** Issues: errors the run recorded, with their size and where they came from. */
export function issues(f: Facts): string[] {
  const out: string[] = [];
  for (const e of f.s.run?.errors ?? [])
    out.push(`Run error: ${String(e).split('\n')[0]} — impact: the figures after it may be incomplete.`);
  for (const w of f.s.notices ?? []) if (/^[A-Z][A-Z ]+:/.test(String(w))) out.push(String(w));
  const ce = (f.s.scenarios?.ws?.tables?.connect_errors ?? []) as Record<string, unknown>[];
  for (const r of ce) out.push(`WebSocket connect errors: ${JSON.stringify(r)}.`);
  const se = (f.s.scenarios?.messages?.tables?.send_errors ?? []) as Record<string, unknown>[];
  for (const r of se) out.push(`Message send errors: ${JSON.stringify(r)}.`);
  for (const l of f.run.logs)
    if (l.errors > 0) out.push(`Server log ${l.file}: ${int(l.errors)} error line(s), first: "${l.firstErrors[0] ?? ''}".`);
  return out;
}
