// summary.md: the run in the shape of the performance-report template's tables, computed
// from summary.json only. A figure that was not measured prints "not measured".
import type { ScenarioSummary } from './scenario.js';
import type { ThresholdVerdict, MetricSummary } from './metrics.js';
import type { SeriesStats } from './summary.js';

const n = (v: unknown, unit = ''): string =>
  v === null || v === undefined ? 'not measured' : typeof v === 'number' ? `${Math.round(v * 100) / 100}${unit}` : String(v);
const pct = (v: number | null | undefined): string => (v === null || v === undefined ? 'not measured' : `${Math.round(v * 10000) / 100}%`);

function table(head: string[], rows: unknown[][]): string[] {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map((c) => (typeof c === 'string' ? c : n(c))).join(' | ')} |`),
  ];
}

type Summary = {
  run: Record<string, unknown>;
  target: Record<string, unknown>;
  notices: string[];
  scenarios: Record<string, ScenarioSummary>;
  thresholds: ThresholdVerdict[];
  generator: { warnings: string[] };
  resources: Record<string, unknown>;
  notApplicable: Record<string, string>;
  postgres: unknown;
  redis: unknown;
  notRun: Record<string, string>;
};

/** Threshold verdicts and metric values by scenario and name, "null" when not measured. */
function lookups(s: Summary) {
  const verdicts = (metric: string, stat?: string) => {
    const v = s.thresholds.filter((t) => t.metric === metric && (!stat || t.expression.startsWith(stat)));
    if (!v.length) return '-';
    return v.map((t) => `${t.verdict === 'pass' ? '✅' : t.verdict === 'fail' ? '❌' : '—'} ${t.expression}`).join(', ');
  };
  const both = (a: string, b: string) => [verdicts(a), verdicts(b)].filter((v) => v !== '-').join(', ') || '-';
  const m = (sc: string, k: string): MetricSummary | undefined => s.scenarios[sc]?.metrics[k];
  const tr = (sc: string, k: string, stat: 'avg' | 'p50' | 'p95' | 'p99' | 'max' | 'count') => {
    const x = m(sc, k);
    return x && x.type === 'trend' ? x[stat] : null;
  };
  const cnt = (sc: string, k: string) => {
    const x = m(sc, k);
    return x && x.type === 'counter' ? x.count : null;
  };
  const rt = (sc: string, k: string) => {
    const x = m(sc, k);
    return x && x.type === 'rate' ? x.rate : null;
  };
  const gv = (sc: string, k: string) => {
    const x = m(sc, k);
    return x && x.type === 'gauge' ? x.value : null;
  };
  return { verdicts, both, m, tr, cnt, rt, gv };
}
type Lookups = ReturnType<typeof lookups>;

export function markdown(s: Summary): string {
  const q = lookups(s);
  const L = [
    ...overview(s, q),
    ...Object.values(s.scenarios).flatMap((sc) => scenarioSection(sc, q)),
    ...resourcesSection(s),
    ...backendsSection(s),
  ];
  if (Object.keys(s.notApplicable).length)
    L.push('## Not collected', '', ...Object.entries(s.notApplicable).map(([k, v]) => `- ${k}: ${v}`), '');
  L.push('Raw data: config.json, environment.json, timelines/*.ndjson, histograms/*.json (HDR, µs), samples/*.ndjson, server-logs/.', '');
  return L.join('\n');
}

/** Title, warnings, notices, the quick metrics and every threshold. */
function overview(s: Summary, q: Lookups): string[] {
  const { verdicts, tr, cnt, rt, gv } = q;
  const L: string[] = [];
  const status = String(s.run.status);
  L.push(
    `# ɳChat load test — profile ${s.run.profile} — ${status === 'PASSED' ? '✅ PASSED' : status === 'INTERRUPTED' ? '⚠️ INTERRUPTED' : '❌ FAILED'}`,
    '',
  );
  L.push(
    `Run ${s.run.id}: ${s.run.startedAt} → ${s.run.endedAt} (${n(s.run.durationSec, ' s')}). Target: ${JSON.stringify(s.target.nodes)}${s.target.spawned ? ` spawned ${JSON.stringify(s.target.spawned)}` : ''}.`,
    '',
  );
  if (s.generator.warnings.length) L.push('## ⚠️ Read this first', '', ...s.generator.warnings.map((w) => `- **${w}**`), '');
  const warned = new Set(s.generator.warnings);
  L.push(
    '## Notices',
    '',
    ...s.notices.filter((x) => !warned.has(x)).map((x) => `- ${x}`),
    ...Object.entries(s.notRun).map(([k, v]) => `- scenario ${k}: ${v}`),
    '',
  );
  const apiReqs = cnt('api', 'api_reqs');
  L.push(
    '## Quick metrics',
    '',
    ...table(
      ['Metric', 'Actual', 'Thresholds'],
      [
        ['Concurrent users (max WS connections)', gv('ws', 'ws_max_concurrent'), verdicts('ws_max_concurrent')],
        ['Message throughput (msg/s accepted)', gv('messages', 'msg_rate_achieved'), verdicts('msg_rate_achieved')],
        ['API response time p95 (ms)', tr('api', 'api_req_duration', 'p95'), verdicts('api_req_duration', 'p(95)')],
        ['Message latency p95 (ms, end-to-end)', tr('messages', 'msg_e2e', 'p95'), verdicts('msg_e2e', 'p(95)')],
        ['WebSocket connection p95 (ms)', tr('ws', 'ws_connecting', 'p95'), verdicts('ws_connecting', 'p(95)')],
        ['API error rate', pct(rt('api', 'api_req_failed')), verdicts('api_req_failed')],
      ],
    ),
    '',
    `API requests: ${n(apiReqs)}.`,
    '',
  );
  L.push(
    '## Thresholds',
    '',
    ...table(
      ['metric', 'threshold', 'actual', 'verdict'],
      s.thresholds.map((t) => [t.metric, t.expression, t.actual, `${t.verdict}${t.reason ? ` (${t.reason})` : ''}`]),
    ),
    '',
  );
  return L;
}

/** One scenario's notes, its table of headline figures, and its own tables. */
function scenarioSection(sc: ScenarioSummary, q: Lookups): string[] {
  const { verdicts, both, m, tr, cnt, rt, gv } = q;
  const L: string[] = [];
  L.push(`## ${sc.title}`, '', ...sc.notes.map((x) => `- ${x}`), '');
  if (sc.name === 'ws') {
    L.push(
      ...table(
        ['Metric', 'Value', 'Thresholds'],
        [
          ['Max concurrent connections', gv('ws', 'ws_max_concurrent'), verdicts('ws_max_concurrent')],
          ['Connection time avg / p50 (ms)', `${n(tr('ws', 'ws_connecting', 'avg'))} / ${n(tr('ws', 'ws_connecting', 'p50'))}`, '-'],
          [
            'Connection time p95 / p99 (ms)',
            `${n(tr('ws', 'ws_connecting', 'p95'))} / ${n(tr('ws', 'ws_connecting', 'p99'))}`,
            verdicts('ws_connecting'),
          ],
          ['Connections / errors', `${n(cnt('ws', 'ws_sessions'))} / ${n(cnt('ws', 'ws_connect_errors'))}`, verdicts('ws_connect_errors')],
          ['Connection success rate', pct(rt('ws', 'ws_connect_success')), verdicts('ws_connect_success')],
          [
            'Chat messages sent / receipts expected',
            `${n(cnt('ws', 'ws_msgs_sent'))} / ${n(cnt('ws', 'ws_msgs_expected'))}`,
            verdicts('ws_msgs_sent'),
          ],
          [
            'Receipts received / recipient left (ramp-down) / missing',
            `${n(cnt('ws', 'ws_msgs_received'))} / ${n(cnt('ws', 'ws_msgs_recipient_left'))} / ${n(cnt('ws', 'ws_msgs_missing'))}`,
            verdicts('ws_msgs_missing'),
          ],
          [
            "Chat latency p95 / p99 (ms, from each message's intended time)",
            `${n(tr('ws', 'ws_msg_e2e', 'p95'))} / ${n(tr('ws', 'ws_msg_e2e', 'p99'))}`,
            verdicts('ws_msg_e2e'),
          ],
          [
            'Chat schedule lag p50 / p99 / max (ms)',
            `${n(tr('ws', 'ws_msg_schedule_lag', 'p50'))} / ${n(tr('ws', 'ws_msg_schedule_lag', 'p99'))} / ${n(tr('ws', 'ws_msg_schedule_lag', 'max'))}`,
            verdicts('ws_msg_schedule_lag'),
          ],
          ['Disconnections / reconnections', `${n(cnt('ws', 'ws_disconnects'))} / ${n(cnt('ws', 'ws_reconnects'))}`, '-'],
          [
            'Churn: connects / errors / p95 (ms)',
            `${n(cnt('ws', 'ws_churn_connects'))} / ${n(cnt('ws', 'ws_churn_errors'))} / ${n(tr('ws', 'ws_churn_connecting', 'p95'))}`,
            '-',
          ],
        ],
      ),
      '',
    );
  } else if (sc.name === 'messages') {
    L.push(
      ...table(
        ['Metric', 'Value', 'Thresholds'],
        [
          [
            'Target rate / actual (msg/s)',
            `${n(gv('messages', 'msg_rate_target'))} / ${n(gv('messages', 'msg_rate_achieved'))}`,
            verdicts('msg_rate_achieved'),
          ],
          ['Fan-out (channel size)', String(sc.info.channelSize), '-'],
          ['Total messages sent (accepted)', cnt('messages', 'msg_sent'), '-'],
          [
            'Delivered (every recipient) / failed',
            `${n(cnt('messages', 'msg_delivered'))} / ${n((cnt('messages', 'msg_delivery_failed') ?? 0) + (cnt('messages', 'msg_send_failed') ?? 0))}`,
            '-',
          ],
          [
            'Dropped iterations: in-flight cap (server backpressure) / no member online',
            `${n(cnt('messages', 'msg_dropped_inflight_cap'))} / ${n(cnt('messages', 'msg_dropped_no_online_sender'))}`,
            both('msg_dropped_inflight_cap', 'msg_dropped_iterations'),
          ],
          [
            'Recipient disconnects: unexpected / asked for (end of run); reconnects',
            `${n(cnt('messages', 'msg_ws_disconnects_unexpected'))} / ${n(cnt('messages', 'msg_ws_disconnects_expected'))}; ${n(cnt('messages', 'msg_ws_reconnects'))}`,
            verdicts('msg_ws_disconnects_unexpected'),
          ],
          ['Delivery success rate', pct(rt('messages', 'msg_delivery_success')), verdicts('msg_delivery_success')],
          ['Receipts / expected', `${n(cnt('messages', 'msg_receipts'))} / ${n(cnt('messages', 'msg_expected_receipts'))}`, '-'],
          ['Latency avg / p50 (ms)', `${n(tr('messages', 'msg_e2e', 'avg'))} / ${n(tr('messages', 'msg_e2e', 'p50'))}`, '-'],
          [
            'Latency p95 / p99 / max (ms)',
            `${n(tr('messages', 'msg_e2e', 'p95'))} / ${n(tr('messages', 'msg_e2e', 'p99'))} / ${n(tr('messages', 'msg_e2e', 'max'))}`,
            verdicts('msg_e2e'),
          ],
          ['Send → accepted p95 (ms, from intended time)', tr('messages', 'msg_send', 'p95'), '-'],
          [
            'Generator schedule lag p50 / p99 / max (ms)',
            `${n(tr('messages', 'msg_schedule_lag', 'p50'))} / ${n(tr('messages', 'msg_schedule_lag', 'p99'))} / ${n(tr('messages', 'msg_schedule_lag', 'max'))}`,
            verdicts('msg_schedule_lag'),
          ],
        ],
      ),
      '',
    );
  } else if (sc.name === 'api') {
    L.push(
      ...table(
        ['Metric', 'Value', 'Thresholds'],
        [
          ['Total requests / rate', `${n(cnt('api', 'api_reqs'))} / ${n((m('api', 'api_reqs') as { rate?: number })?.rate)} req/s`, '-'],
          [
            'Error rate (429s among them)',
            `${pct(rt('api', 'api_req_failed'))} (${n(cnt('api', 'api_rate_limited'))})`,
            verdicts('api_req_failed'),
          ],
          ['avg / p50 (ms)', `${n(tr('api', 'api_req_duration', 'avg'))} / ${n(tr('api', 'api_req_duration', 'p50'))}`, '-'],
          [
            'p95 / p99 (ms)',
            `${n(tr('api', 'api_req_duration', 'p95'))} / ${n(tr('api', 'api_req_duration', 'p99'))}`,
            verdicts('api_req_duration'),
          ],
        ],
      ),
      '',
    );
  }
  if (sc.name === 'files') L.push(...filesTable(q));
  if (sc.name === 'search') L.push(...searchTable(q));
  for (const [name, rows] of Object.entries(sc.tables)) {
    if (!rows.length) continue;
    const cols = Object.keys(rows[0]).filter((c) => c !== 'type' && c !== 'unit');
    L.push(
      `### ${name.replace(/_/g, ' ')}`,
      '',
      ...table(
        cols,
        rows.map((r) => cols.map((c) => (c === 'errorRate' ? pct(r[c] as number | null) : r[c]))),
      ),
      '',
    );
  }
  return L;
}

/** The template's "Test 4: File Upload Performance" results table. */
function filesTable(q: Lookups): string[] {
  const { verdicts, cnt, rt, gv, tr } = q;
  const t = (stat: 'avg' | 'p50' | 'p95' | 'p99') => tr('files', 'files_upload_duration', stat);
  const proc = (stat: 'avg' | 'p95') => tr('files', 'files_processing', stat);
  return [
    ...table(
      ['Metric', 'Actual', 'Thresholds'],
      [
        ['Total Uploads Started', cnt('files', 'files_uploads_started'), '-'],
        ['Uploads Completed (size and SHA-256 verified)', cnt('files', 'files_uploads_completed'), '-'],
        ['Uploads Failed', cnt('files', 'files_uploads_failed'), verdicts('files_uploads_failed')],
        ['Arrivals dropped (open model: every VU busy)', cnt('files', 'files_dropped_iterations'), verdicts('files_dropped_iterations')],
        ['Success Rate', pct(rt('files', 'files_upload_success')), verdicts('files_upload_success')],
        ['Avg / p50 Upload Time (ms)', `${n(t('avg'))} / ${n(t('p50'))}`, '-'],
        ['p95 Upload Time (ms)', t('p95'), verdicts('files_upload_duration', 'p(95)')],
        ['p99 Upload Time (ms)', t('p99'), verdicts('files_upload_duration', 'p(99)')],
        [
          'Avg / p95 Upload Speed (Mbit/s per upload)',
          `${n(gv('files', 'files_upload_speed_avg'))} / ${n(gv('files', 'files_upload_speed_p95'))}`,
          '-',
        ],
        ['Aggregate throughput (MB/s)', gv('files', 'files_throughput'), verdicts('files_throughput')],
        ['Avg Processing Time (ms)', proc('avg'), '-'],
        ['p95 Processing Time (ms)', proc('p95'), verdicts('files_processing', 'p(95)')],
        [
          'Server RSS start / peak / end (MB)',
          `${n(gv('files', 'files_server_rss_start'))} / ${n(gv('files', 'files_server_rss_peak'))} / ${n(gv('files', 'files_server_rss_end'))}`,
          verdicts('files_server_rss_peak'),
        ],
        ['Total Data Uploaded (MB)', (cnt('files', 'files_bytes_uploaded') ?? 0) / 1048576, '-'],
      ],
    ),
    '',
  ];
}

/** The template's "Test 5: Search Performance Load Test" results and index tables. */
function searchTable(q: Lookups): string[] {
  const { verdicts, cnt, rt, gv, tr } = q;
  const t = (stat: 'avg' | 'p50' | 'p95' | 'p99') => tr('search', 'search_duration', stat);
  const queries = cnt('search', 'search_queries');
  const failed = cnt('search', 'search_queries_failed');
  const bytes = gv('search', 'search_index_bytes');
  const lag = (stat: 'p50' | 'p95' | 'max') => tr('search', 'search_index_lag', stat);
  const score = gv('search', 'search_relevance_score');
  return [
    ...table(
      ['Metric', 'Actual', 'Thresholds'],
      [
        ['Total Queries', queries, '-'],
        ['Query Rate (q/s)', gv('search', 'search_qps'), '-'],
        ['Queries Successful', queries === null || failed === null ? null : queries - failed, '-'],
        ['Queries Failed', failed, verdicts('search_queries_failed')],
        ['Success Rate', pct(rt('search', 'search_success')), verdicts('search_success')],
        ['Avg / p50 Query Time (ms)', `${n(t('avg'))} / ${n(t('p50'))}`, '-'],
        ['p95 Query Time (ms)', t('p95'), verdicts('search_duration', 'p(95)')],
        ['p99 Query Time (ms)', t('p99'), verdicts('search_duration', 'p(99)')],
        ['Avg Results per Query (text and filtered, page of 20)', gv('search', 'search_results_avg'), '-'],
        ['Relevance Score', score === null ? 'not measured' : pct(score), verdicts('search_relevance_score')],
        [
          'precision@10 / recall',
          `${n(gv('search', 'search_precision_at_10'))} / ${n(gv('search', 'search_recall'))}`,
          `${verdicts('search_precision_at_10')} ${verdicts('search_recall')}`.replace(/^- -$/, '-'),
        ],
      ],
    ),
    '',
    '**Search Index Performance:**',
    '',
    ...table(
      ['Metric', 'Actual', 'Thresholds'],
      [
        ['Documents', gv('search', 'search_index_documents'), '-'],
        ['Index Size (MB)', bytes === null ? null : bytes / 1e6, '-'],
        [
          'Index Update Lag p50 / p95 / max (ms, send ack → searchable)',
          `${n(lag('p50'))} / ${n(lag('p95'))} / ${n(lag('max'))}`,
          verdicts('search_index_lag'),
        ],
        [
          'Lag probes / not found in time',
          `${n(cnt('search', 'search_index_lag_probes'))} / ${n(cnt('search', 'search_index_lag_timeouts'))}`,
          verdicts('search_index_lag_timeouts'),
        ],
        ['Seed write rate (messages/s, when seeded in this run)', gv('search', 'search_seed_rate'), '-'],
        ['Cache Hit Rate', 'not applicable (no query cache: every query runs against the index)', '-'],
      ],
    ),
    '',
  ];
}

/** CPU, memory, network, disk, event-loop delay, and the same per phase. */
function resourcesSection(s: Summary): string[] {
  const L: string[] = [];
  const r = s.resources as Record<string, Record<string, SeriesStats | unknown>>;
  const row = (label: string, st: unknown) => {
    const x = (st ?? {}) as Partial<SeriesStats>;
    return [label, x.avg ?? null, x.max ?? null, x.p95 ?? null];
  };
  const comps = Object.keys(r).filter((k) => /^node\d+$/.test(k) || ['generator', 'postgres', 'redis', 'machine'].includes(k));
  L.push(
    '## Resources',
    '',
    '### CPU (% of one core)',
    '',
    ...table(
      ['Component', 'Avg', 'Max', 'p95'],
      // The hypervisor's steal under the machine row: CPU this VM wanted and other guests got.
      comps.flatMap((k) =>
        k === 'machine'
          ? [row(k, (r[k] as Record<string, unknown>).cpu), row('hypervisor steal', (r[k] as Record<string, unknown>).stealCpu)]
          : [row(k, (r[k] as Record<string, unknown>).cpu)],
      ),
    ),
    '',
  );
  L.push(
    '### Memory (RSS, MB)',
    '',
    ...table(
      ['Component', 'Avg', 'Max', 'p95'],
      comps.filter((k) => k !== 'machine').map((k) => row(k, (r[k] as Record<string, unknown>).rssMB)),
    ),
    '',
  );
  const net = r.network as Record<string, unknown>;
  L.push(
    `### Network (${n(net?.iface)})`,
    '',
    ...table(
      ['Metric', 'Avg', 'Max', 'p95'],
      [row('Inbound (Mbit/s)', net?.inMbps), row('Outbound (Mbit/s)', net?.outMbps), row('Packets/s', net?.packetsPerSec)],
    ),
    '',
  );
  const disk = r.disk as Record<string, unknown>;
  L.push(
    '### Disk',
    '',
    ...table(
      ['Metric', 'Avg', 'Max', 'p95'],
      [
        row('Read IOPS', disk?.readIops),
        row('Write IOPS', disk?.writeIops),
        row('Read MB/s', disk?.readMBps),
        row('Write MB/s', disk?.writeMBps),
      ],
    ),
    '',
  );
  const loop = (r.eventLoop ?? {}) as Record<string, Record<string, unknown>>;
  type Delay = { p50?: number | null; p99?: number | null; max?: number | null; scrapes?: number };
  L.push(
    '### Event-loop delay per node (from /metrics)',
    '',
    "One histogram over the window from every scrape's p50/p90/p99/max (each delay placed at the top of its band, so p50/p99 are upper bounds; max is exact). Delays include the monitor's 10 ms period (idle ≈ 10 ms).",
    '',
    ...table(
      ['Node', 'delay p50 (ms)', 'delay p99 (ms)', 'max (ms)', 'scrapes'],
      Object.entries(loop).map(([k, v]) => {
        const d = (v.delayMs ?? {}) as Delay;
        return [k, d.p50 ?? null, d.p99 ?? null, d.max ?? null, d.scrapes ?? 0];
      }),
    ),
    '',
  );
  const byPhase = (r.byPhase ?? {}) as Record<string, Record<string, unknown>>;
  if (Object.keys(byPhase).length) {
    const prow: unknown[][] = [];
    for (const [phase, pr] of Object.entries(byPhase)) {
      const loopP = (pr.eventLoop ?? {}) as Record<string, { delayMs?: Delay }>;
      for (const k of Object.keys(pr).filter((c) => /^node\d+$/.test(c) || ['generator', 'postgres', 'redis'].includes(c))) {
        const x = pr[k] as { cpu?: SeriesStats; rssMB?: SeriesStats };
        if (!x?.cpu?.samples && !x?.rssMB?.samples) continue;
        const d = loopP[k]?.delayMs;
        prow.push([
          phase,
          k,
          x.cpu?.avg ?? null,
          x.cpu?.max ?? null,
          x.rssMB?.max ?? null,
          d ? (d.p99 ?? null) : '-',
          d ? (d.max ?? null) : '-',
        ]);
      }
    }
    L.push(
      "### Per phase (each scenario's setup and load)",
      '',
      ...table(['Phase', 'Component', 'CPU avg (%)', 'CPU max (%)', 'RSS max (MB)', 'event-loop p99 (ms)', 'event-loop max (ms)'], prow),
      '',
    );
  }
  return L;
}

/** PostgreSQL and Redis figures, or why they were not collected. */
function backendsSection(s: Summary): string[] {
  const L: string[] = [];
  const r = s.resources as Record<string, Record<string, SeriesStats | unknown>>;
  const row = (label: string, st: unknown) => {
    const x = (st ?? {}) as Partial<SeriesStats>;
    return [label, x.avg ?? null, x.max ?? null, x.p95 ?? null];
  };
  const pg = r.postgresStats as Record<string, unknown> | undefined;
  L.push('### PostgreSQL', '');
  if (pg) {
    L.push(
      ...table(
        ['Metric', 'Avg', 'Max', 'p95'],
        [
          row('Active connections', pg.activeConnections),
          row('Idle connections', pg.idleConnections),
          row('Query rate (q/s)', pg.queriesPerSec),
          row('Transactions/s', pg.transactionsPerSec),
          row('Lock waits', pg.lockWaits),
          row('Cache hit ratio', pg.cacheHitRatio),
        ],
      ),
      '',
      `Deadlocks: ${n(pg.deadlocks)}.`,
      '',
    );
    const st = (s.postgres as { statements?: unknown })?.statements;
    if (typeof st === 'string') L.push(`pg_stat_statements: ${st}`, '');
    else if (st && typeof st === 'object') {
      const x = st as {
        top: { query: string; calls: number; totalMs: number; meanMs: number }[];
        slow: { query: string; calls: number; meanMs: number }[];
      };
      L.push(
        'Top queries by total time:',
        '',
        ...table(
          ['query', 'calls', 'total ms', 'mean ms'],
          x.top.map((q) => [q.query.slice(0, 120).replace(/\|/g, '\\|'), q.calls, q.totalMs, q.meanMs]),
        ),
        '',
      );
      L.push(
        x.slow.length ? 'Slow queries (mean > 100 ms):' : 'Slow queries (mean > 100 ms): none.',
        '',
        ...(x.slow.length
          ? table(
              ['query', 'calls', 'mean ms'],
              x.slow.map((q) => [q.query.slice(0, 120).replace(/\|/g, '\\|'), q.calls, q.meanMs]),
            )
          : []),
        '',
      );
    }
  } else L.push(String(s.notApplicable.postgres ?? 'not collected'), '');
  const rd = r.redisStats as Record<string, unknown> | undefined;
  L.push('### Redis', '');
  if (rd)
    L.push(
      ...table(
        ['Metric', 'Avg', 'Max', 'p95'],
        [
          row('Commands/s', rd.commandsPerSec),
          row('Hit rate', rd.hitRate),
          row('Memory (MB)', rd.usedMemoryMB),
          row('Connected clients', rd.connectedClients),
          row('Pub/sub channels', rd.pubsubChannels),
        ],
      ),
      '',
      `Evicted keys: ${n(rd.evictedKeys)}; expired keys: ${n(rd.expiredKeys)} (server totals).`,
      '',
    );
  else L.push(String(s.notApplicable.redis ?? 'not collected'), '');
  return L;
}
