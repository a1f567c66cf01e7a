// Charts: vega-lite specs built from the run's timelines and histograms, compiled to vega,
// rendered to SVG without a DOM (renderer "none" + toSVG) and to PNG with resvg. Every chart
// is a plot of recorded data with titled axes (units) and a legend; a chart whose data the run
// lacks is not drawn (the report says why).
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { decodeHist } from '../loadtest/hist.js';
import type { Facts } from './facts.js';
import { soakChartSeries } from './soak.js';
import { counterSeries, gaugeSeries, latencySeries, nodeSeries } from './timeline.js';

export interface Chart {
  id: string;
  title: string;
  /** Section id the chart belongs to (results.ts ids, or "system"). */
  section: string;
  // biome-ignore lint/suspicious/noExplicitAny: vega-lite TopLevelSpec is deep; specs are built here and compiled right away
  spec: any;
}
export interface Rendered extends Chart {
  svg: string;
  png: Buffer;
}

const W = 640;
const H = 220;
const T = { field: 't', type: 'quantitative', title: 'time since the test started (s)', axis: { format: 'd', tickMinStep: 1 } };
const LEGEND = { orient: 'top', labelLimit: 0, columns: 3 };

/** Most points a line keeps: longer series are averaged (rates) or maxed (latency) over equal buckets, and the title says so. */
const MAX_POINTS = 600;
type Pts = { t: number; v: number }[];
export function bucket(pts: Pts, agg: 'mean' | 'max'): { pts: Pts; size: number } {
  if (!pts.length) return { pts, size: 1 };
  const span = pts[pts.length - 1].t - pts[0].t + 1;
  const size = Math.max(1, Math.ceil(span / MAX_POINTS));
  if (size === 1) return { pts, size };
  const groups = new Map<number, number[]>();
  for (const p of pts) {
    const k = Math.floor(p.t / size) * size;
    const g = groups.get(k);
    if (g) g.push(p.v);
    else groups.set(k, [p.v]);
  }
  return { pts: [...groups].map(([t, v]) => ({ t, v: agg === 'max' ? Math.max(...v) : v.reduce((a, b) => a + b, 0) / v.length })), size };
}

function lines(
  id: string,
  section: string,
  titleIn: string,
  yTitle: string,
  seriesIn: Record<string, Pts>,
  agg: 'mean' | 'max' = 'mean',
): Chart | null {
  let size = 1;
  const series = Object.fromEntries(
    Object.entries(seriesIn).map(([k, v]) => {
      const b = bucket(v, agg);
      size = Math.max(size, b.size);
      return [k, b.pts];
    }),
  );
  const title = size > 1 ? `${titleIn} (${agg} over ${size}-s buckets)` : titleIn;
  const values = Object.entries(series).flatMap(([s, pts]) => pts.map((p) => ({ t: p.t, v: Math.round(p.v * 1000) / 1000, series: s })));
  if (!values.length) return null;
  return {
    id,
    title,
    section,
    spec: {
      width: W,
      height: H,
      title,
      data: { values },
      mark: { type: 'line', point: values.length < 60, interpolate: 'linear' },
      encoding: {
        x: T,
        y: { field: 'v', type: 'quantitative', title: yTitle },
        color: { field: 'series', type: 'nominal', title: null, legend: LEGEND },
      },
    },
  };
}

/** Two series on independent y axes (load on the left as an area, latency on the right as a line). */
function dual(
  id: string,
  section: string,
  title: string,
  load: { name: string; unit: string; pts: { t: number; v: number }[] },
  lat: { name: string; pts: { t: number; v: number }[] },
): Chart | null {
  if (!load.pts.length && !lat.pts.length) return null;
  const bl = bucket(load.pts, 'mean');
  const bt = bucket(lat.pts, 'max');
  load = { ...load, pts: bl.pts };
  lat = { ...lat, pts: bt.pts };
  if (bl.size > 1 || bt.size > 1) title = `${title} (load mean, latency max over ${Math.max(bl.size, bt.size)}-s buckets)`;
  const values = [
    ...load.pts.map((p) => ({ t: p.t, load: p.v, series: load.name })),
    ...lat.pts.map((p) => ({ t: p.t, ms: p.v, series: lat.name })),
  ];
  const color = {
    field: 'series',
    type: 'nominal',
    title: null,
    legend: LEGEND,
    scale: { domain: [load.name, lat.name], range: ['#9ecae9', '#e45756'] },
  };
  return {
    id,
    title,
    section,
    spec: {
      width: W,
      height: H,
      title,
      data: { values },
      layer: [
        {
          transform: [{ filter: 'isValid(datum.load)' }],
          mark: { type: 'area', opacity: 0.6 },
          encoding: { x: T, y: { field: 'load', type: 'quantitative', title: load.unit }, color },
        },
        {
          transform: [{ filter: 'isValid(datum.ms)' }],
          mark: { type: 'line', point: lat.pts.length < 60 },
          encoding: { x: T, y: { field: 'ms', type: 'quantitative', title: `${lat.name} (ms)` }, color },
        },
      ],
      resolve: { scale: { y: 'independent' } },
    },
  };
}

/** Latency by percentile from a whole-scenario histogram (the "latency distribution"). */
function distribution(f: Facts, id: string, section: string, title: string, hists: [string, string, string][]): Chart | null {
  const values: { pct: number; ms: number; series: string }[] = [];
  for (const [sc, name, label] of hists) {
    const b64 = f.run.histograms[sc]?.[name];
    if (!b64) continue;
    const h = decodeHist(b64);
    if (!h.totalCount) continue;
    for (const p of [0, 10, 25, 50, 75, 90, 95, 99, 99.9, 100])
      values.push({ pct: p, ms: h.getValueAtPercentile(p) / 1000, series: label });
  }
  if (!values.length) return null;
  return {
    id,
    title,
    section,
    spec: {
      width: W,
      height: H,
      title,
      data: { values },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'pct', type: 'quantitative', title: 'percentile', scale: { domain: [0, 100] } },
        y: { field: 'ms', type: 'quantitative', title: 'latency (ms)' },
        color: { field: 'series', type: 'nominal', title: null, legend: LEGEND },
      },
    },
  };
}

function bars(
  id: string,
  section: string,
  title: string,
  rows: { label: string; v: number; stat: string }[],
  yTitle: string,
): Chart | null {
  if (!rows.length) return null;
  return {
    id,
    title,
    section,
    spec: {
      width: W,
      height: H,
      title,
      data: { values: rows },
      mark: 'bar',
      encoding: {
        x: { field: 'label', type: 'nominal', title: null, sort: null, axis: { labelAngle: -20 } },
        xOffset: { field: 'stat' },
        y: { field: 'v', type: 'quantitative', title: yTitle },
        color: { field: 'stat', type: 'nominal', title: null, legend: LEGEND },
      },
    },
  };
}

export function chartSpecs(f: Facts): Chart[] {
  const out: (Chart | null)[] = [];
  out.push(
    dual(
      'ws-connections',
      'ws',
      'Connections and connect latency over time',
      { name: 'open connections', unit: 'open WebSocket connections', pts: gaugeSeries(f, 'ws', 'ws_open') },
      { name: 'connect p95', pts: latencySeries(f, 'ws', 'ws_connecting', 'p95') },
    ),
  );
  out.push(
    distribution(f, 'ws-latency-distribution', 'ws', 'WebSocket latency distribution (whole test)', [
      ['ws', 'ws_connecting', 'connect'],
      ['ws', 'ws_msg_e2e', 'chat message end-to-end'],
    ]),
  );
  const target = gaugeSeries(f, 'messages', 'msg_rate_target');
  out.push(
    lines('messages-throughput', 'messages', 'Message throughput over time', 'messages per second', {
      'accepted (msg/s)': counterSeries(f, 'messages', 'msg_sent_ok'),
      'target (msg/s)': target,
      'delivered to all (msg/s)': counterSeries(f, 'messages', 'msg_delivered'),
    }),
  );
  out.push(
    lines(
      'messages-latency',
      'messages',
      'Message end-to-end latency percentiles per second',
      'latency (ms)',
      {
        p50: latencySeries(f, 'messages', 'msg_e2e', 'p50'),
        p95: latencySeries(f, 'messages', 'msg_e2e', 'p95'),
        p99: latencySeries(f, 'messages', 'msg_e2e', 'p99'),
      },
      'max',
    ),
  );
  out.push(
    lines('api-throughput', 'api', 'API requests per second', 'requests per second', {
      'requests/s': counterSeries(f, 'api', 'api_reqs'),
      'errors/s': counterSeries(f, 'api', 'api_errors'),
    }),
  );
  out.push(
    lines(
      'api-latency',
      'api',
      'API latency percentiles per second',
      'latency (ms)',
      {
        p50: latencySeries(f, 'api', 'api_req_duration', 'p50'),
        p95: latencySeries(f, 'api', 'api_req_duration', 'p95'),
        p99: latencySeries(f, 'api', 'api_req_duration', 'p99'),
      },
      'max',
    ),
  );
  const eps = (
    (f.s.scenarios?.api?.tables?.endpoints ?? []) as { endpoint: string; avg: number | null; p95: number | null; p99: number | null }[]
  ).filter((e) => typeof e.p95 === 'number');
  out.push(
    bars(
      'api-endpoints',
      'api',
      'Latency by endpoint',
      eps.flatMap((e) => [
        { label: e.endpoint, v: e.avg ?? 0, stat: 'avg' },
        { label: e.endpoint, v: e.p95 ?? 0, stat: 'p95' },
        { label: e.endpoint, v: e.p99 ?? 0, stat: 'p99' },
      ]),
      'latency (ms)',
    ),
  );
  out.push(...classCharts(f));
  for (const sc of ['ws', 'messages', 'api']) {
    const nodes = nodeSeries(f, sc);
    if (!nodes.length) continue;
    out.push(
      lines(
        `system-cpu-${sc}`,
        'system',
        `Application CPU during ${sc}`,
        'CPU (% of one core)',
        Object.fromEntries(nodes.map((n) => [n.node, n.cpu])),
      ),
    );
    out.push(
      lines(
        `system-loop-${sc}`,
        'system',
        `Event-loop delay (max per 1 s sample) during ${sc}`,
        'event-loop delay (ms)',
        Object.fromEntries(nodes.map((n) => [n.node, n.loopMaxMs])),
        'max',
      ),
    );
  }
  const soak = soakChartSeries(f);
  if (soak) {
    // From the load's start (setup samples before it are left out).
    const nonEmpty = (x: Record<string, Pts>) =>
      Object.fromEntries(
        Object.entries(x)
          .map(([k, v]) => [k, v.filter((p) => p.t >= 0)] as const)
          .filter(([, v]) => v.length),
      );
    out.push(
      lines(
        'soak-memory',
        'soak',
        'Soak: memory of the server and the generator (1 s samples; trends start after ramp-up + warm-up)',
        'MB',
        nonEmpty(soak.memory),
      ),
    );
    out.push(
      lines(
        'soak-latency',
        'soak',
        'Soak: event-loop delay p99 and p95 latency per second',
        'ms',
        nonEmpty({ ...soak.loop, ...soak.latency }),
      ),
    );
  }
  return out.filter((c): c is Chart => c !== null);
}

/** Upload time by size class, search latency by query type: from the scenarios' own tables. */
function classCharts(f: Facts): (Chart | null)[] {
  const out: (Chart | null)[] = [];
  for (const [sc, title] of [
    ['files', 'Upload time by file size'],
    ['search', 'Query latency by type'],
  ] as const) {
    const tables = f.s.scenarios?.[sc]?.tables ?? {};
    for (const [name, rows] of Object.entries(tables) as [string, Record<string, unknown>[]][]) {
      if (!Array.isArray(rows) || !rows.length) continue;
      const labelKey = Object.keys(rows[0]).find((k) => typeof rows[0][k] === 'string');
      const stats = ['avg', 'p95'].filter((k) => rows.some((r) => typeof r[k] === 'number'));
      if (!labelKey || !stats.length) continue;
      out.push(
        bars(
          `${sc}-${name}`,
          sc,
          `${title} (${name.replace(/_/g, ' ')})`,
          rows.flatMap((r) =>
            stats.filter((s) => typeof r[s] === 'number').map((s) => ({ label: String(r[labelKey]), v: r[s] as number, stat: s })),
          ),
          'time (ms)',
        ),
      );
    }
  }
  return out;
}

export async function render(c: Chart): Promise<Rendered> {
  const compiled = vl.compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    config: { font: 'DejaVu Sans' },
    ...c.spec,
  }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    fitTo: { mode: 'zoom', value: 1.5 },
    background: 'white',
  })
    .render()
    .asPng();
  return { ...c, svg, png: Buffer.from(png) };
}
