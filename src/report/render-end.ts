// report.md, last part: cost, comparison with the previous run, conclusion, appendices and
// sign-off (the only blanks).
import type { Analysis } from './analyze.js';
import { fmtCompare, REGRESSION_PCT } from './compare.js';
import { readyMark, verdict } from './conclusion.js';
import { total } from './cost.js';
import { int, num } from './facts.js';
import { table } from './md-parts.js';

export function cost(a: Analysis): string[] {
  const fx = a.f;
  const p = a.pricing;
  const lines = a.current;
  const tot = total(lines);
  const users = fx.gauge('ws', 'ws_max_concurrent').v;
  const per = users ? (tot / users) * 1000 : null;
  const proj = a.projections[0];
  const projPer = proj.cost.total !== null ? (proj.cost.total / proj.p.users) * 1000 : null;
  return [
    '## Cost Analysis',
    '',
    `Prices: ${p.name} (${p.file}), dated ${p.date}. Source: ${p.source}`,
    '',
    '### Current Infrastructure Cost',
    '',
    ...table(
      ['Component', 'Instance Type', 'Qty', 'Cost/Month'],
      [
        ...lines.map((l) => [
          l.component,
          l.type,
          l.qty,
          l.monthly === null ? (l.note ?? 'not measured') : `$${num(l.monthly)}${l.note ? ` (${l.note})` : ''}`,
        ]),
        ['**Total**', '', '', `**$${num(tot)}**`],
      ],
    ),
    '',
    '### Cost per 1,000 Users',
    '',
    `**Current:** ${per === null ? 'not measured (no concurrent users)' : `$${num(per)} per 1,000 users (the test topology priced as production ÷ ${int(users!)} concurrent users${users! < 1000 ? '; with so few users the fixed cost of the topology dominates this figure' : ''})`}  `,
    `**Optimized:** ${projPer === null ? `not projected (${proj.cost.why ?? proj.p.why.join('; ')})` : `$${num(projPer)} per 1,000 users at ${int(proj.p.users)} users (projection above)`}  `,
    `**Savings:** ${per !== null && projPer !== null ? `$${num(per - projPer)} (${num(((per - projPer) / per) * 100)}%)` : 'not computed (one side not measured)'}`,
    '',
    '---',
    '',
  ];
}

export function comparison(a: Analysis): string[] {
  const L = ['## Comparison with Previous Tests', ''];
  if (!a.previous.rows) return [...L, `_${a.previous.why}_`, '', '---', ''];
  L.push(
    `Previous run: ${a.previous.dir}. A change of more than ${REGRESSION_PCT}% in the worse direction is flagged ❌ REGRESSION.${a.previous.differs?.length ? ` **The runs differ in set-up (${a.previous.differs.join('; ')}): changes reflect that as much as the code.**` : ' Same profile, backends, node count and scenarios.'}`,
    '',
  );
  L.push(
    ...table(
      ['Metric', 'Previous Test', 'Current Test', 'Change'],
      a.previous.rows.map((r) => [
        r.metric,
        fmtCompare(r.prev, r.unit),
        fmtCompare(r.cur, r.unit),
        r.change === null
          ? r.regression
            ? 'up from 0 ❌ REGRESSION'
            : r.prev.v === 0 && r.cur.v !== null
              ? 'from 0'
              : 'not comparable'
          : `${r.change >= 0 ? '+' : ''}${num(r.change)}%${r.regression ? ' ❌ REGRESSION' : ''}`,
      ]),
    ),
    '',
    '---',
    '',
  );
  return L;
}

export function conclusion(a: Analysis): string[] {
  const fx = a.f;
  const all = [a.quick, ...a.sections];
  const met = all.flatMap((s) =>
    s.rows
      .filter((r) => r.status === 'pass')
      .map((r) => `${s.title.replace(/^Test \d: /, '')}: ${r.label} ${r.actual} (target ${r.target})`),
  );
  const crit = a.rules.findings.filter((x) => x.priority === 'CRITICAL' || x.priority === 'HIGH');
  const failed = all.flatMap((s) =>
    s.rows.filter((r) => r.status === 'fail').map((r) => `${s.title.replace(/^Test \d: /, '')}: ${r.label} ${r.actual} misses ${r.target}`),
  );
  const o = a.overall;
  const L = ['## Conclusion', '', '### Overall Assessment', ''];
  L.push(
    `Against ${a.targets.name} targets the run ${o.status === 'PASSED' ? 'met every target' : o.status === 'FAILED' ? `missed ${o.failed} target(s)` : `missed none but left ${o.notMeasured} unmeasured`} (${o.passed} met, ${o.notMeasured} not measured). ` +
      `It reached ${int(fx.gauge('ws', 'ws_max_concurrent').v ?? 0)} concurrent connections against a ${int(a.targets.byKey.concurrent_users.value)}-user target${a.smallRun ? ' — far below the target scale, so the verdicts below speak for this load only and confidence is Low' : ''}. ` +
      `${crit.length ? `The findings that matter most: ${crit.map((x) => x.name).join('; ')}.` : 'No rule found a critical or high-priority bottleneck.'}`,
    '',
    '### Key Achievements',
    '',
    ...(met.length ? met.slice(0, 5).map((x, i) => `${i + 1}. ${x}`) : ['None: no target was met.']),
    '',
    '### Critical Issues',
    '',
    ...([...failed, ...crit.map((x) => `${x.name} (${x.priority}): ${x.symptoms}`)].map((x, i) => `${i + 1}. ${x}`).slice(0, 8) || []),
  );
  if (!failed.length && !crit.length) L.push('None: no target missed and no critical or high finding.');
  L.push(
    '',
    '### Readiness Assessment',
    '',
    ...table(
      ['Category', 'Status', 'Confidence', 'Basis'],
      a.readiness.map((r) => [r.category, readyMark(r.status), r.confidence, r.basis]),
    ),
    '',
  );
  L.push(`### Production Readiness: ${verdict(a.readiness)}`, '', '**Conditions (if applicable):**', '');
  const conds = a.readiness
    .filter((r) => r.status !== 'ready' && r.category !== 'Overall Infrastructure')
    .map((r) => `${r.category}: ${r.basis}`);
  L.push(...(conds.length ? conds.map((x, i) => `${i + 1}. ${x}`) : ['None.']), '', '---', '');
  return L;
}

export function appendices(a: Analysis, files: { csv: string[]; charts: string[] }): string[] {
  const fx = a.f;
  const logs = fx.run.logs;
  const st = typeof fx.s.postgres === 'object' ? fx.s.postgres?.statements : null;
  return [
    '## Appendices',
    '',
    '### Appendix A: Test Configuration Files',
    '',
    `The resolved configuration (every size, rate, duration, threshold): \`${fx.run.dir}/config.json\`; command line: \`nchat loadtest ${((fx.run.config?.argv ?? []) as string[]).join(' ')}\`; targets: ${a.targets.name}; pricing: ${a.pricing.file}.`,
    '',
    '### Appendix B: Raw Test Data',
    '',
    `JSON: \`summary.json\`, \`environment.json\`, \`histograms/*.json\` (HDR, µs, base64); NDJSON (one JSON row per line): \`timelines/*.ndjson\`, \`samples/*.ndjson\` — all in ${fx.run.dir}. CSV (the same rows flattened, one column per field) next to this report: ${files.csv.map((c) => `\`data/${c}\``).join(', ') || 'none (no timeline or sample rows)'}. Charts: ${files.charts.length} (SVG and PNG in charts/).${
      Object.keys(fx.run.missing).length
        ? ` Missing or unreadable: ${Object.entries(fx.run.missing)
            .map(([k, v]) => `${k} (${v})`)
            .join(', ')}.`
        : ''
    }`,
    '',
    '### Appendix C: Grafana Dashboards',
    '',
    'Importable dashboard for the nodes’ /metrics: `ops/grafana/nchat-dashboard.json` in the repository (Prometheus data source; request rate and latency by route, store operation latency, event-loop delay, CPU, memory, WebSocket connections, database pool). No snapshot was taken during this run.',
    '',
    '### Appendix D: System Logs',
    '',
    ...(logs.length
      ? table(
          ['File', 'Lines', 'Errors', 'Warnings', 'First error'],
          logs.map((l) => [`server-logs/${l.file}`, int(l.lines), int(l.errors), int(l.warnings), l.firstErrors[0] ?? '-']),
        )
      : [`_${fx.s.notApplicable?.serverLogs ?? 'no server logs in the run directory'}_`]),
    '',
    '### Appendix E: Database Query Analysis',
    '',
    ...(st && typeof st === 'object' && Array.isArray(st.top)
      ? [
          `pg_stat_statements over the run (${int(st.totalCalls ?? 0)} calls), top by total time:`,
          '',
          ...table(
            ['Query', 'Calls', 'Total ms', 'Mean ms'],
            (st.top as { query: string; calls: number; totalMs: number; meanMs: number }[]).map((q) => [
              `\`${q.query.slice(0, 120)}\``,
              int(q.calls),
              num(q.totalMs),
              num(q.meanMs),
            ]),
          ),
        ]
      : [
          `_not measured: ${typeof st === 'string' ? st : typeof fx.s.postgres === 'string' ? fx.s.postgres : 'no pg_stat_statements figures'}_`,
        ]),
    '',
    '---',
    '',
    '## Sign-off',
    '',
    '**Prepared By:** ____________________  ',
    '**Reviewed By:** ____________________  ',
    '**Approved By:** ____________________  ',
    '**Date:** ____________________',
    '',
    '---',
    '',
    `_Generated by \`nchat report\` ${a.version} at ${a.generatedAt} from ${fx.run.dir}. Every figure is computed from that directory; docs/REPORT.md says where each comes from._`,
    '',
    `**Next Review:** after the next load test (\`nchat loadtest\` writes a new report at the end of every run)  `,
    '**Test Frequency:** every release (quick profile); the full profile before a production rollout',
    '',
  ];
}
