// report.md, middle part: system analysis, bottlenecks, recommendations and scalability.
import type { Analysis } from './analyze.js';
import type { Finding } from './bottlenecks.js';
import { fmt as fm, int, num } from './facts.js';
import { searchIndex } from './results-extra.js';
import { bullets, duration, resultTable, size, table } from './md-parts.js';
import { capacityRows } from './capacity.js';
import type { UnitCost } from './model.js';
import type { ChartRef } from './render-results.js';
import {
  components,
  diskRows,
  gcRows,
  levelMark,
  machineCpu,
  networkRows,
  postgresRows,
  redisRows,
  type SeriesStats,
  slowConsumerRows,
} from './system.js';
import { soakSection } from './soak.js';
import { targetText } from './targets.js';

const st = (s: SeriesStats | null, k: 'avg' | 'max' | 'p95') => (s && s[k] !== null ? num(s[k] as number) : 'not measured');

export function system(a: Analysis, charts: ChartRef): string[] {
  const fx = a.f;
  const comps = components(fx, a.targets);
  const mc = machineCpu(fx);
  const L = ['## System Performance Analysis', '', '### Resource Utilization', '', '#### CPU Usage', ''];
  L.push(
    ...table(
      ['Component', 'Avg %', 'Max %', 'p95 %', 'Status'],
      comps.map((c) =>
        c.cpu
          ? [
              c.component,
              num(c.cpu.avg!),
              num(c.cpu.max!),
              num(c.cpu.p95!),
              `${levelMark(c.cpuLevel)} (p95 = ${num(c.cpu.p95! / c.cores)}% of ${c.cores} core(s))`,
            ]
          : [c.component, c.why ?? 'not measured', '-', '-', '-'],
      ),
    ),
    '',
    `CPU figures are % of one core (1 s samples from /proc). **CPU Threshold:** ${a.targets.byKey.cpu_warning.value}% sustained is WARNING, ${a.targets.byKey.cpu_critical.value}% is CRITICAL — of the cores the component can use (one for a Node.js process). The whole machine (${mc.cores} cores = ${mc.cores * 100}%): avg ${st(mc.machine, 'avg')}%, p95 ${st(mc.machine, 'p95')}%; processes outside this run: avg ${st(mc.others, 'avg')}%, max ${st(mc.others, 'max')}% (other helpers' work on a shared machine shows here).`,
    '',
    '#### Memory Usage',
    '',
    ...table(
      ['Component', 'Avg GB', 'Max GB', '% Used', 'Status'],
      comps.map((c) =>
        c.memMaxGB !== null
          ? [
              c.component,
              c.memAvgGB!.toFixed(3),
              c.memMaxGB.toFixed(3),
              c.memPct === null ? 'not measured' : `${c.memPct.toFixed(2)}%`,
              levelMark(c.memLevel),
            ]
          : [c.component, c.why ?? 'not measured', '-', '-', '-'],
      ),
    ),
    '',
    `Resident memory (RSS) of the process(es); % Used = max RSS ÷ machine memory. **Memory Threshold:** ${a.targets.byKey.memory_warning.value}% is WARNING, ${a.targets.byKey.memory_critical.value}% is CRITICAL.`,
    '',
    '#### Network I/O',
    '',
    ...table(
      ['Metric', 'Avg', 'Max', 'p95'],
      networkRows(fx).map((r) => (r.s ? [r.label, st(r.s, 'avg'), st(r.s, 'max'), st(r.s, 'p95')] : [r.label, r.why ?? '', '-', '-'])),
    ),
    '',
    `Interface ${fx.s.resources?.network?.iface ?? 'unknown'}${fx.s.resources?.network?.iface === 'lo' ? ' (loopback: generator ↔ server traffic, in = out)' : ''}.`,
    '',
    '#### Disk I/O',
    '',
    ...table(
      ['Metric', 'Avg', 'Max', 'p95'],
      diskRows(fx).map((r) => (r.s ? [r.label, st(r.s, 'avg'), st(r.s, 'max'), st(r.s, 'p95')] : [r.label, r.why ?? '', '-', '-'])),
    ),
    '',
    ...gcMd(a),
    ...charts('system'),
    '',
    '### Database Performance',
    '',
    '#### PostgreSQL Metrics',
    '',
  );
  const pg = postgresRows(fx);
  if (pg.rows) {
    L.push(
      ...table(
        ['Metric', 'Avg', 'Max', 'p95', 'Status'],
        pg.rows.map((r) =>
          r.s
            ? [r.label, st(r.s, 'avg'), st(r.s, 'max'), st(r.s, 'p95'), r.level ? levelMark(r.level) : '-']
            : [
                r.label,
                r.single === null || r.single === undefined
                  ? (r.why ?? 'not measured')
                  : r.label === 'Cache Hit Ratio'
                    ? `${num(r.single)}%`
                    : String(r.single),
                '-',
                '-',
                r.level ? levelMark(r.level) : '-',
              ],
        ),
      ),
      '',
      `**Connection Pool Status:** ${pg.pool === 'ok' ? 'Good' : pg.pool === 'warning' ? 'Warning' : pg.pool === 'critical' ? 'Critical' : 'not measured'} (active connections against 80/95 active as WARNING/CRITICAL)  `,
      `**Max Connections:** ${fx.s.postgres?.maxConnections ?? fx.s.postgres?.max_connections ?? 'not recorded by the run'}  `,
      `**Query Performance:** ${pg.slow.length ? 'Needs Optimization' : pg.statementsWhy ? `not measured (${pg.statementsWhy})` : 'Good (no statement averaged > 100 ms)'}`,
      '',
    );
  } else L.push(`_${pg.why}_`, '');
  L.push('#### Slow Queries (>100ms)', '');
  L.push(
    ...(pg.slow.length
      ? (pg.slow as { query: string; meanMs: number; calls: number }[]).map(
          (q, i) => `${i + 1}. \`${q.query.slice(0, 160)}\` - ${num(q.meanMs)}ms - ${int(q.calls)}`,
        )
      : [
          pg.rows
            ? pg.statementsWhy
              ? `not measured: ${pg.statementsWhy}`
              : 'none: no statement in pg_stat_statements averaged more than 100 ms over the run'
            : `not measured: ${pg.why}`,
        ]),
    '',
    '### Cache Performance (Redis)',
    '',
  );
  const rd = redisRows(fx);
  if (rd.rows)
    L.push(
      ...table(
        ['Metric', 'Value', 'Status'],
        rd.rows.map((r) => [r.label, r.value, r.level ? levelMark(r.level) : '-']),
      ),
      '',
    );
  else L.push(`_${rd.why}_`, '');
  L.push(
    `**Cache Efficiency:** ${rd.rows ? 'not applicable: Redis carries pub/sub fan-out and rate-limit counters, not a read cache' : 'not measured (no Redis)'}`,
    '',
    '### Search Performance (MeiliSearch)',
    '',
  );
  const idx = searchIndex(fx);
  const engine = fx.s.target?.health?.[0]?.store === 'postgres' ? 'PostgreSQL full-text search (GIN)' : 'SQLite FTS5';
  L.push(
    `Search runs inside the database (${engine}); MeiliSearch is not part of ɳChat, so the rows describe the database's index.`,
    '',
    ...table(
      ['Metric', 'Value', 'Status'],
      [
        ['Index Size', size(idx.sizeGB), '-'],
        ['Indexed Documents', fm(idx.documents, 'count'), '-'],
        ['Indexing Rate', fm(idx.seedRate, 'docs/s (bulk seed)'), '-'],
        ['Index Update Lag', fm(idx.lagP95s, 'seconds (p95)'), '-'],
        ['Memory Usage', 'not applicable: inside the database process (see the Database row above)', '-'],
        ['Query Rate', fm(idx.qps, 'q/s'), '-'],
      ],
    ),
    '',
  );
  L.push(...soakMd(a, charts));
  L.push('---', '');
  return L;
}

/** GC time and slow-consumer closes per node (issue 12), "not measured" with the reason when absent. */
function gcMd(a: Analysis): string[] {
  const gc = gcRows(a.f, a.targets);
  const sc = slowConsumerRows(a.f, a.targets);
  const limit = targetText(a.targets.byKey.gc_time, '%');
  return [
    '#### Garbage Collection',
    '',
    ...table(
      ['Node', 'GC time (s)', '% of wall time', 'Worst 1 s interval %', 'By kind (s)', 'Status'],
      gc.map((r) =>
        r.seconds === null
          ? [r.node, r.why ?? 'not measured', '-', '-', '-', '-']
          : [
              r.node,
              num(r.seconds),
              r.pct === null ? 'not measured' : `${num(r.pct)}%`,
              r.maxIntervalPct === null ? '-' : `${num(r.maxIntervalPct)}%`,
              Object.entries(r.byKind)
                .map(([k, v]) => `${k} ${num(v)}`)
                .join(', ') || '-',
              levelMark(r.level),
            ],
      ),
    ),
    '',
    `From each node's /metrics (prom-client's \`nodejs_gc_duration_seconds\`, perf_hooks GC entries), between the first and the last scrape of the run. Target ${limit} of wall time.`,
    '',
    '#### Slow Consumers',
    '',
    ...table(
      ['Node', 'Connections closed for a full send buffer', 'Status'],
      sc.map((r) => (r.closes === null ? [r.node, r.why ?? 'not measured', '-'] : [r.node, int(r.closes), levelMark(r.level)])),
    ),
    '',
    "From each node's `nchat_ws_slow_consumer_closes` (counter semantics) over the run: a recipient whose socket buffer passed NCHAT_WS_MAX_BUFFERED is closed with 4000 and resumes.",
    '',
  ];
}

/** The soak's trends (issue 15): only for a soak run. */
function soakMd(a: Analysis, charts: ChartRef): string[] {
  const sk = soakSection(a.f, a.targets);
  if (!sk) return [];
  const L = ['### Soak Trends', ''];
  if (!sk.window) return [...L, `_${sk.why ?? 'not measured'}_`, ''];
  const w = sk.window;
  L.push(
    `The hold after warm-up: ${w.fromSec}–${w.toSec} s after the load started (${duration(w.toSec - w.fromSec)}; the first ${w.warmupSec} s of the hold are left out). Growth = least-squares slope of the 1 s samples in MB per hour, with its standard error; drift = median of the last third against the first third.`,
    '',
    ...resultTable(sk.rows),
    '',
    ...table(
      ['Series', 'Samples', 'First third (median)', 'Last third (median)', 'Slope per hour', 'Min', 'Max'],
      sk.series.map((x) => [
        x.name,
        int(x.samples),
        x.firstThird === null ? 'not measured' : `${num(x.firstThird)} ${x.unit}`,
        x.lastThird === null ? 'not measured' : `${num(x.lastThird)} ${x.unit}`,
        x.slopePerHour === null ? 'not measured' : `${num(x.slopePerHour)} ${x.unit}/h`,
        x.min === null ? '-' : num(x.min),
        x.max === null ? '-' : num(x.max),
      ]),
    ),
    '',
  );
  if (w.toSec - w.fromSec < 900)
    L.push(
      `_A window of ${duration(w.toSec - w.fromSec)} is short: a slope over it is dominated by the GC sawtooth (see the standard errors), so a pass or fail here is indicative only; the soak profile holds for an hour._`,
      '',
    );
  L.push(...charts('soak'), '');
  return L;
}

function finding(i: number, x: Finding): string[] {
  return [
    `${i}. **${x.name}**`,
    `   - **Impact:** ${x.impact}`,
    `   - **Affected Component:** ${x.component}`,
    `   - **Symptoms:** ${x.symptoms}`,
    `   - **Root Cause:** ${x.rootCause}`,
    `   - **Recommended Action:** ${x.action}`,
    `   - **Priority:** ${x.priority}`,
    `   - **ETA:** ${x.horizon === 'immediate' ? 'within 1 week' : x.horizon === 'short-term' ? 'within 1 month' : 'within 3 months'} (effort ${x.effort}; a planning horizon, not a measurement)`,
  ];
}

export function bottlenecksMd(a: Analysis): string[] {
  const fs = a.rules.findings;
  const group = (p: string) => fs.filter((x) => x.priority === p);
  const L = ['## Bottlenecks Identified', ''];
  for (const [title, p] of [
    ['Critical Bottlenecks (Immediate Action Required)', 'CRITICAL'],
    ['Performance Issues (Should Be Addressed)', 'HIGH'],
    ['Optimization Opportunities (Nice to Have)', 'MEDIUM'],
  ]) {
    L.push(`### ${title}`, '');
    const g = group(p);
    L.push(...(g.length ? g.flatMap((x, i) => finding(i + 1, x)) : [`None: no rule found a ${p} problem in this run.`]), '');
  }
  L.push(
    '**Rules checked without a finding:**',
    '',
    ...bullets(a.rules.checked, 'none'),
    '',
    '---',
    '',
    '## Optimization Recommendations',
    '',
  );
  L.push('Every recommendation below comes from a finding above (no finding, no recommendation).', '');
  for (const [title, h] of [
    ['Immediate Actions (Within 1 Week)', 'immediate'],
    ['Short-term Improvements (Within 1 Month)', 'short-term'],
    ['Long-term Optimizations (Within 3 Months)', 'long-term'],
  ]) {
    const g = fs.filter((x) => x.horizon === h);
    L.push(
      `### ${title}`,
      '',
      ...(g.length ? g.map((x, i) => `${i + 1}. **${x.name}** (${x.component}): ${x.action}`) : ['None: no finding calls for one.']),
      '',
    );
  }
  L.push('---', '');
  return L;
}

function costLine(name: string, c: UnitCost, unit: (per: number) => string): string {
  return c.per === null ? `- ${name}: ${c.why}` : `- ${name}: ${unit(c.per)} — ${c.method}`;
}

export function scalability(a: Analysis): string[] {
  const fx = a.f;
  const c = a.costs;
  const w = a.workload;
  const tested = (m: number | null) => (m === null ? 'not measured' : num(m));
  const testedInt = (m: number | null) => (m === null ? 'not measured' : int(m));
  const nm = 'not measured (no --find-capacity run)';
  const cap = capacityRows(fx);
  const L = ['## Scalability Analysis', '', '### Current Capacity', ''];
  L.push(
    ...table(
      ['Metric', 'Current Max', 'Tested', 'Headroom'],
      [
        ['Concurrent Users', cap.users[0], testedInt(fx.gauge('ws', 'ws_max_concurrent').v), cap.users[1]],
        ['Messages/Second', cap.rate[0], tested(fx.gauge('messages', 'msg_rate_achieved').v), cap.rate[1]],
        [
          'API Requests/Sec',
          fx.run.capacity ? 'not measured (the capacity search steps users and message rate only)' : nm,
          tested(fx.perSec('api', 'api_reqs').v),
          'not measured',
        ],
        [
          'Database Connections',
          fx.s.postgres?.maxConnections ? String(fx.s.postgres.maxConnections) : 'not recorded by the run',
          tested(fx.s.resources?.postgresStats?.totalConnections?.max ?? null),
          'not measured',
        ],
        [
          'Storage Throughput',
          fx.run.capacity ? 'not measured (the capacity search steps users and message rate only)' : nm,
          `${tested(fx.s.resources?.disk?.writeMBps?.max ?? null)} MB/s (max write, whole device)`,
          'not measured',
        ],
      ],
    ),
    '',
    fx.run.capacity
      ? 'Current Max = the last step of the capacity search that held every threshold; Headroom = (Current Max − Tested) ÷ Current Max.'
      : 'Current Max is what a capacity search finds (nchat loadtest --find-capacity steps users and message rate up until a threshold fails); this run did not do one, so it is not measured and headroom cannot be computed.',
    '',
    ...cap.lines,
    '',
    '### Scaling Projections',
    '',
    '**Model** (fitted to this run; every projected figure below comes from it):',
    '',
    costLine('Memory per connection', c.memPerConn, (x) => `${num(x * 1024)} KB per open connection`),
    costLine(
      'CPU per connection',
      c.cpuPerConn,
      (x) => `${num(x * 10000)} µs of CPU per second per connection (${num(x * 1000)}% of a core per 1,000 connections)`,
    ),
    costLine('CPU per delivery', c.cpuPerDelivery, (x) => `${num(x * 10000)} µs of application CPU per delivery`),
    costLine('Database CPU per message', c.dbCpuPerMessage, (x) => `${num(x * 10000)} µs of PostgreSQL CPU per message`),
    costLine('Database writes per message', c.dbRowsPerMessage, (x) => `${num(x)} rows inserted per message`),
    `- Idle memory per node: ${c.nodeBaseMB === null ? 'not measured' : `${num(c.nodeBaseMB)} MB`}`,
    '',
    '**Assumptions:** each user holds one WebSocket connection; the template workload of 1,000 msg/s per 10,000 users (0.1 msg/s per user); each message delivered to ' +
      `${w.fanout} recipients (this run's channel size); a node is added when its CPU would pass ${w.nodeCpuBudget}% of its core; the database is sized to keep its CPU under ${w.dbCpuBudget}% of its cores; costs are linear (no contention term: a run on this 2-core machine cannot show where it starts); idle memory counts once per node; a cost marked rough (a ratio above the idle floor where the fit was weak) makes the projections built on it rough too.`,
    '',
  );
  for (const { p, cost } of a.projections) {
    L.push(`#### To ${int(p.users)} Users:`, '');
    const changes: string[] = [];
    changes.push(`${int(p.msgPerSec)} msg/s → ${int(p.deliveriesPerSec)} deliveries/s`);
    if (p.nodes !== null)
      changes.push(
        `${p.nodes} ɳChat node process(es) (${num(p.appCpuPct!)}% of one core in total)${p.nodes > 1 ? ' behind a load balancer, fanning out through Redis' : ''}`,
      );
    if (p.appMemGB !== null) changes.push(`${num(p.appMemGB)} GB of application memory in total`);
    changes.push(
      p.dbCores !== null
        ? `PostgreSQL with ${num(p.dbCores)} core(s) at the budget${p.dbRowsPerSec !== null ? `, ${int(p.dbRowsPerSec)} rows inserted/s` : ''}`
        : 'PostgreSQL sizing: not projected (no PostgreSQL cost per message in this run)',
    );
    for (const y of p.why) changes.push(`not projected: ${y}`);
    L.push(`- **${p.users >= 100000 ? 'Architecture' : 'Infrastructure'} Changes Required:**`, ...changes.map((x) => `  - ${x}`));
    L.push(
      `- **Estimated Cost:** ${cost.total === null ? cost.why : `$${num(cost.total)}/month${cost.why ? ` (${cost.why})` : ''} — ${cost.lines.map((l) => `${l.qty} × ${l.type}`).join(', ')}`}`,
    );
    L.push(
      '- **Implementation Time:** not estimated (team-dependent; the changes are configuration the product supports: nodes, Redis, PostgreSQL size)',
      '',
    );
  }
  L.push('---', '');
  return L;
}
