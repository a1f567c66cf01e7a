// report.md, first half: header, executive summary, methodology and the five tests.
import { calibrationFigures, type Calibration } from '../loadtest/calibrate.js';
import type { Analysis } from './analyze.js';
import { type Facts, int, num } from './facts.js';
import { bullets, duration, f as fm, genericTable, resultTable, size, table } from './md-parts.js';
import { overallErrors, type Section } from './results.js';
import { queryTypeRows, scenarioTables, searchIndex, sizeRows, storageImpact } from './results-extra.js';

export type ChartRef = (section: string) => string[];

function topology(fx: Facts): string {
  const h = fx.s.target?.health?.[0] ?? {};
  const nodes = (fx.s.target?.nodes ?? []).length;
  const sp = fx.s.target?.spawned;
  return `${sp ? 'Test (spawned by the generator on this machine)' : 'Target given with --target'}: ${h.store === 'postgres' ? 'PostgreSQL' : h.store === 'sqlite' ? 'SQLite' : String(h.store ?? 'unknown store')}, ${h.broker === 'redis' ? 'Redis fan-out' : 'in-process fan-out'}, ${nodes} node(s)`;
}

export function header(a: Analysis): string[] {
  const fx = a.f;
  const s = fx.s;
  const users = (a.f.run.config?.config as { ws?: { users?: number } } | undefined)?.ws?.users;
  const e = overallErrors(fx);
  const accounts = Object.values(s.scenarios ?? {}).reduce(
    (n: number, sc) => n + Number((sc as { info?: { setup?: { accounts?: number } } }).info?.setup?.accounts ?? 0),
    0,
  );
  const restSends = fx.count('messages', 'msg_transport:rest');
  const apiReqs = fx.count('api', 'api_reqs');
  const uploads = fx.count('files', 'files_uploads_started');
  const queries = fx.count('search', 'search_queries');
  const totalReq = (apiReqs.v ?? 0) + (restSends.v ?? 0) + (uploads.v ?? 0) + (queries.v ?? 0);
  const totalMsgs = (fx.count('messages', 'msg_sent').v ?? 0) + (fx.count('ws', 'ws_msgs_sent').v ?? 0);
  const o = a.overall;
  const statusText = o.status === 'PASSED' ? '✅ PASSED' : o.status === 'FAILED' ? '❌ FAILED' : '⚠️ PARTIAL';
  const ran = Object.keys(s.scenarios ?? {});
  const notRan = a.sections.filter((x) => !x.ran).map((x) => `${x.id} (${x.why})`);
  return [
    '# ɳChat Performance Test Report',
    '',
    `## ${typeof users === 'number' ? int(users) : 'not configured'} Concurrent Users Load Test (profile ${s.run?.profile})`,
    '',
    `**Date:** ${String(s.run?.startedAt ?? '').slice(0, 10)} (${s.run?.startedAt} → ${s.run?.endedAt})  `,
    `**Version:** ${a.version}  `,
    `**Environment:** ${topology(fx)}  `,
    `**Test Duration:** ${duration(s.run?.durationSec)}  `,
    `**Report ID:** ${a.reportId}`,
    '',
    '---',
    '',
    '## Executive Summary',
    '',
    `This report presents the results of the ${s.run?.profile} load test of ɳChat ${a.version} (${topology(fx)}). Scenarios run: ${ran.join(', ') || 'none'}${notRan.length ? `; not run: ${notRan.join('; ')}` : ''}. Every figure is computed from the run directory (${fx.run.dir}); targets: ${a.targets.name} — ${a.targets.source}.`,
    '',
    '### Key Findings',
    '',
    `- **Overall Status:** ${statusText} — ${o.passed} target(s) met, ${o.failed} missed, ${o.notMeasured} not measured (PASSED = all measured and met; FAILED = one missed; PARTIAL = none missed, some not measured)`,
    `- **Load-test thresholds of profile ${s.run?.profile}:** ${s.run?.status} (${(s.thresholds ?? []).filter((t: { verdict: string }) => t.verdict === 'pass').length} of ${(s.thresholds ?? []).length} held)`,
    `- **Total Users Simulated:** ${int(accounts)} accounts created; ${fm(fx.gauge('ws', 'ws_max_concurrent'), 'count')} connected at once at the peak`,
    `- **Total Requests:** ${int(totalReq)} HTTP requests (API scenario ${apiReqs.v === null ? 'not run' : int(apiReqs.v)} + REST message sends ${restSends.v === null ? 'not run' : int(restSends.v)} + uploads ${uploads.v === null ? 'not run' : int(uploads.v)} + search queries ${queries.v === null ? 'not run' : int(queries.v)}; WebSocket frames not counted)`,
    `- **Total Messages:** ${int(totalMsgs)} (message scenario + chat during the connection test)`,
    `- **Test Duration:** ${duration(s.run?.durationSec)}`,
    `- **Error Rate:** ${e.failed.v !== null && e.attempted.v ? `${num((e.failed.v / e.attempted.v) * 100)}%` : 'not measured'} (${e.parts.join(', ') || 'nothing attempted'})`,
    '',
    '### Quick Metrics',
    '',
    ...resultTable(a.quick.rows),
    '',
    '---',
    '',
  ];
}

export function methodology(a: Analysis): string[] {
  const fx = a.f;
  const env = (fx.run.environment ?? {}) as Record<string, unknown>;
  const cfg = (fx.run.config?.config ?? {}) as Record<string, Record<string, unknown>>;
  const gen = fx.s.resources?.generator?.cpu;
  const h = fx.s.target?.health?.[0] ?? {};
  const pgVer = typeof fx.s.postgres === 'object' ? fx.s.postgres?.version : null;
  const rdVer = typeof fx.s.redis === 'object' ? (fx.s.redis?.version ?? fx.s.redis?.redis_version) : null;
  const net = fx.s.resources?.network ?? {};
  const scen = (id: string, text: () => string) =>
    cfg[id] && (cfg.scenarios as unknown as string[] | undefined)?.includes(id)
      ? text()
      : `not run (${a.sections.find((s) => s.id === id)?.why ?? 'not configured'})`;
  const ws = cfg.ws ?? {};
  const msg = cfg.messages ?? {};
  const api = cfg.api ?? {};
  return [
    '## Test Methodology',
    '',
    '### Test Infrastructure',
    '',
    '**Load Generators:**',
    '',
    `- Tool: ɳChat's own generator, \`nchat loadtest\` ${a.version} (open-model arrivals, HDR histograms; k6 is not installable here)`,
    `- Location: the same machine as the server (${env.hostname ?? 'unknown host'}): ${String((env.generator as { sharedMachine?: string } | undefined)?.sharedMachine ?? '')}`,
    `- Instances: 1 main process + ${cfg.workers ?? '?'} worker process(es) per scenario`,
    `- Total Capacity: its own CPU over the run avg ${typeof gen?.avg === 'number' ? num(gen.avg) : 'not measured'}% / max ${typeof gen?.max === 'number' ? num(gen.max) : 'not measured'}% of one core (saturation check: ${fx.s.generator?.saturated ? 'SATURATED' : 'not saturated'})`,
    '',
    '**Application Under Test:**',
    '',
    `- Environment: ${topology(fx)}`,
    '- Region: none (local machine, no cloud region)',
    `- Instance Type: ${env.cpuModel ?? 'unknown CPU'}, ${env.cores ?? '?'} cores, ${typeof env.memoryBytes === 'number' ? `${num(env.memoryBytes / 1073741824)} GB` : '?'} RAM, ${env.os ?? ''}, Node ${env.node ?? '?'}`,
    `- Machine calibration: ${env.calibration ? calibrationFigures(env.calibration as Calibration) : 'not measured (the run predates it: src/loadtest/calibrate.ts)'}`,
    `- Database: ${h.store === 'postgres' ? `PostgreSQL ${pgVer ?? '(version not recorded by the run)'}` : 'SQLite (embedded, better-sqlite3) — no PostgreSQL in this run'}`,
    `- Cache: ${h.broker === 'redis' ? `Redis ${rdVer ?? '(version not recorded by the run)'} (pub/sub fan-out between nodes)` : 'none — in-process fan-out (no Redis in this run)'}`,
    `- Search: ${h.store === 'postgres' ? 'PostgreSQL full-text search' : 'SQLite FTS5'} inside the database (MeiliSearch is not used by ɳChat)`,
    '',
    '**Network:**',
    '',
    `- Bandwidth: ${net.iface === 'lo' ? 'loopback (no physical link)' : `interface ${net.iface ?? 'unknown'} (link speed not recorded)`}`,
    `- Latency: ${net.iface === 'lo' ? 'loopback (sub-millisecond; not measured separately)' : 'not measured'}`,
    '- Protocol: HTTP/1.1 (undici pool), WebSocket (subprotocol nchat.v1)',
    '',
    '**Allowances this run used:**',
    '',
    ...bullets(
      (fx.s.notices ?? []).filter((n: string) => !/^[A-Z][A-Z ]+:/.test(n)),
      'none',
    ),
    '',
    '### Test Scenarios',
    '',
    `1. **WebSocket Connections** - ${scen('ws', () => `${int(Number(ws.users))} users in channels of ${ws.channelSize}, stages ${((ws.stages ?? []) as { duration: number; target: number }[]).map((x) => `${x.duration} s→${int(x.target)}`).join(', ')}, chat ${ws.msgPerUserPerMin} msg/user/min, churn ${ws.churnUsers} accounts at ${ws.churnPerSec}/s`)}`,
    `2. **Message Throughput** - ${scen('messages', () => `${int(Number(msg.rate))} messages/second for ${msg.duration} s, constant arrival rate, ${msg.channels} channels of ${msg.channelSize}, mix \`${JSON.stringify(msg.mix)}\`, transport \`${JSON.stringify(msg.transport)}\``)}`,
    `3. **API Endpoints** - ${scen('api', () => `${api.vus} virtual users for ${api.duration} s (ramp-up ${api.rampUp} s), think time ${api.thinkTimeMs} ms, mix \`${JSON.stringify(api.mix)}\``)}`,
    `4. **File Uploads** - ${scen('files', () => `\`${JSON.stringify(cfg.files)}\``)}`,
    `5. **Search Queries** - ${scen('search', () => `\`${JSON.stringify(cfg.search)}\``)}`,
    '',
    '---',
    '',
  ];
}

function sectionHead(s: Section, cfgLines: string[]): string[] {
  return [
    `### ${s.title}`,
    '',
    '**Test Configuration:**',
    '',
    ...bullets(cfgLines, 'not run'),
    '',
    '**Results:**',
    '',
    ...(s.ran ? [] : [`_${s.why}_`, '']),
    ...resultTableOrNote(s),
    '',
  ];
}
function resultTableOrNote(s: Section): string[] {
  return resultTable(s.rows);
}

export function tests(a: Analysis, charts: ChartRef): string[] {
  const fx = a.f;
  const cfg = (fx.run.config?.config ?? {}) as Record<string, Record<string, unknown>>;
  const [ws, msg, api, files, search] = a.sections;
  const obs = (id: string) => [
    '**Observations:**',
    '',
    ...bullets(
      a.observations[id] ?? [],
      fx.ran(id) ? 'no per-second timeline to observe' : `none: ${a.sections.find((s) => s.id === id)?.why}`,
    ),
    '',
  ];
  const graphs = (id: string) => [
    '**Performance Graph:**',
    '',
    ...(charts(id).length
      ? charts(id)
      : [`_no chart: ${fx.ran(id) ? 'the run has no timeline for it' : a.sections.find((s) => s.id === id)?.why}_`]),
    '',
  ];
  const L: string[] = ['## Test Results', ''];
  const c = cfg.ws ?? {};
  L.push(
    ...sectionHead(
      ws,
      ws.ran
        ? [
            `Target Users: ${int(Number(c.users))}`,
            `Stages (duration s → connections): ${((c.stages ?? []) as { duration: number; target: number }[]).map((x) => `${x.duration}→${int(x.target)}`).join(', ')}`,
            `Chat while held: ${c.msgPerUserPerMin} msg/user/min in channels of ${c.channelSize}`,
          ]
        : [],
    ),
    ...graphs('ws'),
    ...obs('ws'),
    '**Issues Encountered:**',
    '',
    ...bullets(
      a.issues,
      'none recorded: no run error, no connect or send error, no error line in the server logs, no generator or machine warning',
    ),
    '',
    '---',
    '',
  );
  const m = cfg.messages ?? {};
  L.push(
    ...sectionHead(
      msg,
      msg.ran
        ? [
            `Target Rate: ${int(Number(m.rate))} messages/second`,
            `Test Duration: ${m.duration} s`,
            'Execution Model: constant arrival rate (open model)',
            `Channels: ${m.channels} of ${m.channelSize} members`,
            `Message Types: ${Object.entries((m.mix ?? {}) as Record<string, number>)
              .map(([k, v]) => `${k} ${v}%`)
              .join(', ')}`,
          ]
        : [],
    ),
    ...graphs('messages'),
  );
  L.push('**Database Impact:**', '', ...dbImpact(a), '', ...obs('messages'), '---', '');
  const p = cfg.api ?? {};
  L.push(
    ...sectionHead(
      api,
      api.ran
        ? [
            `Virtual Users: ${p.vus}`,
            `Test Duration: ${p.duration} s`,
            `Request Distribution: ${Object.entries((p.mix ?? {}) as Record<string, number>)
              .map(([k, v]) => `${k} ${v}%`)
              .join(', ')}`,
          ]
        : [],
    ),
  );
  L.push('#### Endpoint-Specific Performance', '');
  L.push(
    ...(a.endpoints.length
      ? table(
          ['Endpoint', 'Requests', 'Avg (ms)', 'p95 (ms)', 'p99 (ms)', 'Error Rate'],
          a.endpoints.map((e) => [
            e.endpoint,
            fm(e.requests, 'count'),
            e.avg.v === null ? (e.avg.why ?? '') : num(e.avg.v),
            e.p95.v === null ? '-' : num(e.p95.v),
            e.p99.v === null ? '-' : num(e.p99.v),
            fm(e.errorRate, '%').replace(/^not measured.*/, '-'),
          ]),
        )
      : [`_${api.why ?? 'no endpoint table'}_`]),
    '',
    '**Top 3 Slowest Endpoints:**',
    '',
  );
  const slow = a.endpoints
    .filter((e) => e.p95.v !== null)
    .sort((x, y) => (y.p95.v ?? 0) - (x.p95.v ?? 0))
    .slice(0, 3);
  L.push(
    ...(slow.length ? slow.map((e, i) => `${i + 1}. ${e.endpoint} - ${num(e.p95.v!)}ms`) : ['not measured: no endpoint latency']),
    '',
    ...graphs('api'),
    ...obs('api'),
    '---',
    '',
  );
  L.push(...sectionHead(files, files.ran ? filesConfig(cfg.files ?? {}) : []));
  const sizes = sizeRows(fx);
  const si = storageImpact(fx);
  L.push(
    '**Upload Time by File Size:**',
    '',
    ...(sizes.length
      ? table(
          ['File Size', 'Uploads', 'Avg Time', 'p95 Time', 'Success Rate'],
          sizes.map((r) => [r.size, fm(r.uploads, 'count'), fm(r.avg, 'ms'), fm(r.p95, 'ms'), fm(r.success, '%')]),
        )
      : [`_${fx.ran('files') ? 'the files scenario reported no by_size table' : fx.whyNot('files')}_`]),
    '',
    '**Storage Impact:**',
    '',
    `- Total Data Uploaded: ${size(si.data)}`,
    `- Storage IOPS: ${fm(si.iops, 'write IOPS (avg during the upload test, whole device)')}`,
    `- Network Throughput: ${fm(si.throughput, 'Gbps (upload bytes ÷ busy seconds)')}`,
    '',
    ...(fx.ran('files') ? ['_Other tables of the scenario:_', '', ...extraTables(fx, 'files', ['by_size']), ''] : []),
    ...graphs('files'),
    ...obs('files'),
    '---',
    '',
  );
  L.push(...sectionHead(search, search.ran ? searchConfig(fx, cfg.search ?? {}) : []));
  const qt = queryTypeRows(fx);
  const idx = searchIndex(fx);
  L.push(
    '**Query Performance by Type:**',
    '',
    ...(qt.length
      ? table(
          ['Query Type', 'Queries', 'Avg Time', 'p95 Time', 'Results'],
          qt.map((r) => [r.type, fm(r.queries, 'count'), fm(r.avg, 'ms'), fm(r.p95, 'ms'), fm(r.results, '')]),
        )
      : [`_${fx.ran('search') ? 'the search scenario reported no query_types table' : fx.whyNot('search')}_`]),
    '',
    '**Search Index Performance:**',
    '',
    `- Index Size: ${size(idx.sizeGB)}`,
    `- Index Update Lag: ${fm(idx.lagP95s, 'seconds (p95, send acknowledged → found by search)')}`,
    '- Cache Hit Rate: not applicable: ɳChat has no search result cache (queries go to the database FTS index)',
    '',
    ...(fx.ran('search') ? ['_Other tables of the scenario:_', '', ...extraTables(fx, 'search', ['query_types']), ''] : []),
    ...graphs('search'),
    ...obs('search'),
    '---',
    '',
  );
  return L;
}

const CLASS_NAMES: Record<string, string> = { small: 'Small', medium: 'Medium', large: 'Large', xlarge: 'X-Large' };
const bytesText = (b: number) => (b >= 1048576 ? `${num(b / 1048576)} MB` : `${num(b / 1024)} KB`);

/** Test 4's configuration in the template's words, then every other key of the files config. */
function filesConfig(c: Record<string, unknown>): string[] {
  const sizes = (c.sizes ?? {}) as Record<string, number>;
  const mix = (c.mix ?? {}) as Record<string, number>;
  const known = new Set(['vus', 'duration', 'sizes', 'mix']);
  return [
    `Virtual Users: ${c.vus}`,
    `Test Duration: ${c.duration} s`,
    `File Size Distribution: ${Object.keys(mix)
      .filter((k) => mix[k] > 0)
      .map((k) => `${CLASS_NAMES[k] ?? k} (${typeof sizes[k] === 'number' ? bytesText(sizes[k]) : '?'}): ${mix[k]}%`)
      .join(', ')}`,
    ...Object.entries(c)
      .filter(([k]) => !known.has(k))
      .map(([k, v]) => `${k}: \`${JSON.stringify(v)}\``),
  ];
}

/** Test 5's configuration in the template's words (index size from the run), then the other keys. */
function searchConfig(fx: Facts, c: Record<string, unknown>): string[] {
  const mix = (c.mix ?? {}) as Record<string, number>;
  const names: Record<string, string> = { text: 'Text search', filtered: 'Filtered search', suggest: 'Suggestions' };
  const docs = fx.gauge('search', 'search_index_documents');
  const known = new Set(['vus', 'duration', 'mix']);
  return [
    `Virtual Users: ${c.vus}`,
    `Test Duration: ${c.duration} s`,
    `Index Size: ${docs.v === null ? (docs.why ?? 'not measured') : `${int(docs.v)} messages indexed`}`,
    `Query Types: ${Object.entries(mix)
      .map(([k, v]) => `${names[k] ?? k} (${v}%)`)
      .join(', ')}`,
    ...Object.entries(c)
      .filter(([k]) => !known.has(k))
      .map(([k, v]) => `${k}: \`${JSON.stringify(v)}\``),
  ];
}

function extraTables(fx: Facts, sc: string, skip: string[] = []): string[] {
  if (!fx.ran(sc)) return [`_${fx.whyNot(sc)}_`];
  const t = scenarioTables(fx, sc);
  const out: string[] = [];
  for (const [name, rows] of Object.entries(t))
    if (rows.length && !skip.includes(name)) out.push(`_${name.replace(/_/g, ' ')}_`, '', ...genericTable(rows), '');
  const info = fx.s.scenarios[sc].info ?? {};
  const infoLines = Object.entries(info).filter(
    ([k, v]) => !['counters', 'histogramCounts', 'setup'].includes(k) && (typeof v !== 'object' || v === null),
  );
  if (infoLines.length) out.push(...infoLines.map(([k, v]) => `- ${k}: ${v}`));
  return out.length ? out : ['_the scenario reported no per-class table_'];
}

function dbImpact(a: Analysis): string[] {
  const fx = a.f;
  const pg = fx.s.resources?.postgresStats;
  const disk = fx.s.resources?.disk;
  const bp = fx.s.resources?.byPhase?.messages;
  const sqlite = fx.s.target?.health?.[0]?.store === 'sqlite';
  const why = sqlite
    ? 'not measured: SQLite runs inside the application process and exposes no query counters'
    : 'not measured: no PostgreSQL samples';
  const lw = pg?.lockWaits?.max;
  return [
    `- Query Rate: ${pg?.queriesPerSec?.avg !== undefined && pg.queriesPerSec.avg !== null ? `${num(pg.queriesPerSec.avg)} queries/sec (avg over the run; max ${num(pg.queriesPerSec.max ?? 0)})` : pg ? `not measured: ${typeof fx.s.postgres?.statements === 'string' ? fx.s.postgres.statements.replace(/^not collected: /, '') : 'no pg_stat_statements figures'} (transactions: ${num(pg.transactionsPerSec?.avg ?? 0)}/s avg, ${num(pg.transactionsPerSec?.max ?? 0)}/s max)` : why}`,
    `- Connection Pool Usage: ${pg?.activeConnections?.max !== undefined ? `${pg.activeConnections.max} active / ${pg.totalConnections?.max ?? '?'} open connections at most (pool size per node: see NCHAT_DB_POOL_MAX in docs/CONFIG.md)` : sqlite ? 'not applicable: SQLite has no connection pool' : why}`,
    `- Lock Contention: ${typeof lw === 'number' ? `${lw === 0 ? 'Low' : lw < 5 ? 'Medium' : 'High'} (max ${lw} backend(s) waiting on a lock in one 1 s sample)` : sqlite ? 'not measured: SQLite serializes writes in one process (no lock-wait counter)' : why}`,
    `- Write IOPS: ${bp?.disk?.writeIops?.avg !== undefined && bp.disk.writeIops.avg !== null ? `${num(bp.disk.writeIops.avg)} avg / ${num(bp.disk.writeIops.max)} max during the message test` : disk?.writeIops?.avg !== undefined ? `${num(disk.writeIops.avg)} avg over the run` : 'not measured'} (whole block device ${((disk?.devices ?? []) as string[]).join(', ') || 'unknown'}: includes every process on the machine)`,
  ];
}
