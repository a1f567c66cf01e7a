// Capacity model: per-connection and per-delivery costs fitted by least squares to the run's
// 1 s samples (process CPU and RSS against open connections and deliveries per second), and
// the projection to larger user counts those costs imply. The model, its fit quality and its
// assumptions are printed with every projected figure; a cost that cannot be fitted (too few
// seconds, no spread in the load) is "not fitted" with the reason, and nothing is projected from it.
import type { Facts } from './facts.js';
import type { Row } from './load.js';
import { scenarioStart } from './timeline.js';

export interface Fit {
  slope: number;
  intercept: number;
  r2: number;
  n: number;
  xLabel: string;
  yLabel: string;
}
export type FitResult = { fit: Fit } | { fit: null; why: string };

export function leastSquares(pts: [number, number][], xLabel: string, yLabel: string): FitResult {
  const n = pts.length;
  if (n < 5) return { fit: null, why: `not fitted: ${n} paired seconds (need 5)` };
  const mx = pts.reduce((s, p) => s + p[0], 0) / n;
  const my = pts.reduce((s, p) => s + p[1], 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const [x, y] of pts) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
    syy += (y - my) ** 2;
  }
  if (sxx === 0) return { fit: null, why: `not fitted: ${xLabel} did not vary over the ${n} s` };
  const slope = sxy / sxx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { fit: { slope, intercept: my - slope * mx, r2, n, xLabel, yLabel } };
}

/** Pairs (load at second t, resource at second t) over one scenario. */
function pairs(
  f: Facts,
  sc: string,
  load: (r: { counters: Record<string, number>; gauges: Record<string, number> }) => number,
  res: (s: Row) => number | null,
  /** Only the seconds up to the first one at the scenario's peak load (a ramp-up: RSS does not shrink when connections close). */
  rampOnly = false,
): [number, number][] {
  const start = scenarioStart(f, sc);
  let tl = f.run.timelines[sc] ?? [];
  if (rampOnly && tl.length) {
    const peak = Math.max(...tl.map((r) => load(r)));
    const at = tl.findIndex((r) => load(r) >= peak);
    tl = tl.slice(0, at + 1);
  }
  if (start === null || !tl.length) return [];
  const byT = new Map(tl.map((r) => [r.t, r]));
  const out: [number, number][] = [];
  for (const s of f.run.samples.process ?? []) {
    // A sample covers the second that ends at its ts.
    const t = Math.floor((Number(s.ts) - 500 - start) / 1000);
    const r = byT.get(t);
    const y = res(s);
    if (r && y !== null) out.push([load(r), y]);
  }
  return out;
}

const nodeIds = (f: Facts) => Object.keys(f.s.resources ?? {}).filter((k) => /^node\d+$/.test(k));
const sumNodes = (f: Facts, s: Row, k: 'cpu' | 'rssBytes') => {
  let v = 0;
  let any = false;
  for (const id of nodeIds(f)) {
    const x = (s[id] as Record<string, number> | undefined)?.[k];
    if (typeof x === 'number') {
      v += x;
      any = true;
    }
  }
  return any ? v : null;
};

/** A fitted unit cost: `per` resource units per unit of load, and how it was obtained. */
export type UnitCost = { per: number; method: string; n: number } | { per: null; why: string };

/**
 * The least-squares slope when the load explains the resource (slope > 0, R² ≥ 0.5); otherwise
 * the ratio of the averages above the idle floor ((mean resource − lowest second) ÷ mean load):
 * a rough figure, said in `method` with the weak fit it replaces. Nothing when there are fewer
 * than 5 loaded seconds or nothing above the floor.
 */
export function unitCost(pts: [number, number][], xLabel: string, yLabel: string): UnitCost {
  const r = leastSquares(pts, xLabel, yLabel);
  if (r.fit && r.fit.slope > 0 && r.fit.r2 >= 0.5)
    return {
      per: r.fit.slope,
      n: r.fit.n,
      method: `least-squares slope of ${yLabel} on ${xLabel} over ${r.fit.n} one-second samples (R² ${r.fit.r2.toFixed(2)}, intercept ${r.fit.intercept.toFixed(2)})`,
    };
  const used = pts.filter(([x]) => x > 0);
  if (used.length < 5) return { per: null, why: r.fit ? `not fitted: ${used.length} seconds with load (need 5)` : r.why };
  const mx = used.reduce((s, p) => s + p[0], 0) / used.length;
  const my = used.reduce((s, p) => s + p[1], 0) / used.length;
  const floor = Math.min(...pts.map((p) => p[1]));
  if (my - floor <= 0) return { per: null, why: `not fitted: ${yLabel} did not rise above its lowest second under load` };
  const weak = r.fit
    ? `the fit was weak (slope ${r.fit.slope.toPrecision(3)}, R² ${r.fit.r2.toFixed(2)}: at this load the resource is mostly noise and idle cost)`
    : r.why;
  return {
    per: (my - floor) / mx,
    n: used.length,
    method: `ratio of averages above the idle floor over ${used.length} loaded seconds ((${yLabel} ${my.toFixed(2)} − lowest second ${floor.toFixed(2)}) ÷ ${xLabel} ${mx.toFixed(2)}): a rough figure, because ${weak}`,
  };
}

export interface Costs {
  memPerConn: UnitCost;
  cpuPerConn: UnitCost;
  cpuPerDelivery: UnitCost;
  dbCpuPerMessage: UnitCost;
  dbRowsPerMessage: UnitCost;
  /** Idle RSS of one node (MB): the least-squares intercept of RSS on connections, or the first ws sample. */
  nodeBaseMB: number | null;
}

export function fitCosts(f: Facts): Costs {
  const open = (r: { gauges: Record<string, number> }) => r.gauges?.ws_open ?? 0;
  const deliveries = (r: { counters: Record<string, number> }) => r.counters?.msg_receipts ?? 0;
  const sent = (r: { counters: Record<string, number> }) => r.counters?.msg_sent_ok ?? 0;
  const pg = f.run.samples.postgres ?? [];
  const start = scenarioStart(f, 'messages');
  const tl = new Map((f.run.timelines.messages ?? []).map((r) => [r.t, r]));
  const rowsPts: [number, number][] = [];
  if (start !== null)
    for (const s of pg) {
      const r = tl.get(Math.floor((Number(s.ts) - 500 - start) / 1000));
      if (r && typeof s.tupInsertedPerSec === 'number') rowsPts.push([sent(r), s.tupInsertedPerSec]);
    }
  const memPts = pairs(
    f,
    'ws',
    open,
    (s) => {
      const v = sumNodes(f, s, 'rssBytes');
      return v === null ? null : v / 1048576;
    },
    true,
  );
  const memFit = leastSquares(memPts, 'open connections', 'RSS');
  const nodes = Math.max(1, nodeIds(f).length);
  const noPg = 'not fitted: the run had no PostgreSQL (SQLite work is inside the application process, so it is in the application CPU)';
  const dbCpuPts = pairs(f, 'messages', sent, (s) => {
    const c = (s.postgres as Record<string, number> | undefined)?.cpu;
    return typeof c === 'number' ? c : null;
  });
  return {
    memPerConn:
      memFit.fit && memFit.fit.slope > 0 && memFit.fit.r2 >= 0.5
        ? unitCost(memPts, 'open WebSocket connections', 'application RSS (MB, all nodes) during the ramp-up')
        : {
            per: null,
            why: `not fitted: RSS did not grow with connections at this scale (${memFit.fit ? `slope ${memFit.fit.slope.toPrecision(3)} MB, R² ${memFit.fit.r2.toFixed(2)}` : memFit.why}); a ratio would be the process's idle memory, not a per-connection cost`,
          },
    cpuPerConn: unitCost(
      pairs(f, 'ws', open, (s) => sumNodes(f, s, 'cpu')),
      'open WebSocket connections (with the ws scenario’s chat)',
      'application CPU (% of one core, all nodes)',
    ),
    cpuPerDelivery: unitCost(
      pairs(f, 'messages', deliveries, (s) => sumNodes(f, s, 'cpu')),
      'deliveries per second (messages × recipients)',
      'application CPU (% of one core, all nodes)',
    ),
    dbCpuPerMessage: dbCpuPts.length
      ? unitCost(dbCpuPts, 'messages accepted per second', 'PostgreSQL CPU (% of one core)')
      : { per: null, why: noPg },
    dbRowsPerMessage: pg.length
      ? unitCost(rowsPts, 'messages accepted per second', 'PostgreSQL rows inserted per second')
      : { per: null, why: noPg },
    nodeBaseMB: memFit.fit ? Math.max(0, memFit.fit.intercept) / nodes : memPts.length ? memPts[0][1] / nodes : null,
  };
}

export interface Projection {
  users: number;
  msgPerSec: number;
  deliveriesPerSec: number;
  appCpuPct: number | null;
  nodes: number | null;
  appMemGB: number | null;
  dbCores: number | null;
  dbRowsPerSec: number | null;
  why: string[];
}

export interface Workload {
  msgPerUserPerSec: number;
  fanout: number;
  /** CPU a node may use before we add one (% of its core). */
  nodeCpuBudget: number;
  /** Database CPU budget (% of its cores). */
  dbCpuBudget: number;
}

/** The template's workload: 1,000 msg/s for 10,000 users; fan-out = the run's channel size. */
export function workloadOf(f: Facts): Workload {
  const cs = Number(
    f.s.scenarios?.messages?.info?.fanout ??
      f.s.scenarios?.messages?.info?.channelSize ??
      (f.run.config?.config as { messages?: { channelSize?: number } } | undefined)?.messages?.channelSize ??
      0,
  );
  return { msgPerUserPerSec: 1000 / 10000, fanout: cs > 0 ? cs : 10, nodeCpuBudget: 70, dbCpuBudget: 70 };
}

export function project(c: Costs, w: Workload, users: number): Projection {
  const msg = users * w.msgPerUserPerSec;
  const del = msg * w.fanout;
  const why: string[] = [];
  let cpu: number | null = null;
  if (c.cpuPerConn.per !== null && c.cpuPerDelivery.per !== null) cpu = c.cpuPerConn.per * users + c.cpuPerDelivery.per * del;
  else why.push(`application CPU: ${c.cpuPerConn.per === null ? c.cpuPerConn.why : (c.cpuPerDelivery as { why: string }).why}`);
  const nodes = cpu === null ? null : Math.max(1, Math.ceil(cpu / w.nodeCpuBudget));
  let mem: number | null = null;
  if (nodes !== null && c.nodeBaseMB !== null) mem = (nodes * c.nodeBaseMB + (c.memPerConn.per ?? 0) * users) / 1024;
  if (c.memPerConn.per === null) why.push(`memory per connection: ${c.memPerConn.why} — memory below is the nodes' idle memory only`);
  const dbCores = c.dbCpuPerMessage.per !== null ? (c.dbCpuPerMessage.per * msg) / w.dbCpuBudget : null;
  const rows = c.dbRowsPerMessage.per !== null ? c.dbRowsPerMessage.per * msg : null;
  return { users, msgPerSec: msg, deliveriesPerSec: del, appCpuPct: cpu, nodes, appMemGB: mem, dbCores, dbRowsPerSec: rows, why };
}
