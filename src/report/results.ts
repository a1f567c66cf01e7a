// The template's results tables (Quick Metrics, Tests 1–3), each row computed from the run and
// checked against the targets. A row's status follows only from its actual value and target:
// pass/fail when measured, "not measured" (with the reason) when not, "none" without a target.
import { type M, type Facts, fmt, nm, ratio, sum } from './facts.js';
import { type TargetKey, type Targets, meets, targetText } from './targets.js';

export type Status = 'pass' | 'fail' | 'none' | 'not measured';

export interface ResultRow {
  label: string;
  target: string;
  actual: string;
  value: number | null;
  unit: string;
  status: Status;
  key?: TargetKey;
  why?: string;
}

export interface Section {
  id: string;
  title: string;
  /** False when the scenario did not run; `why` says so. */
  ran: boolean;
  why?: string;
  rows: ResultRow[];
}

export function mark(s: Status): string {
  return s === 'pass' ? '✅' : s === 'fail' ? '❌' : s === 'not measured' ? '⚠️ not measured' : '-';
}

export class RowMaker {
  constructor(readonly targets: Targets) {}

  row(label: string, m: M, unit: string, key?: TargetKey): ResultRow {
    const actual = fmt(m, unit);
    if (!key) return { label, target: '-', actual, value: m.v, unit, status: 'none', why: m.why };
    const t = this.targets.byKey[key];
    const status: Status = m.v === null ? 'not measured' : meets(t, m.v) ? 'pass' : 'fail';
    return { label, target: targetText(t, this.targets.unit(key)), actual, value: m.v, unit, status, key, why: m.why };
  }
}

/** Failed ÷ attempted operations over every scenario that ran (the Quick Metrics error rate). */
export function overallErrors(f: Facts): { failed: M; attempted: M; parts: string[] } {
  let failed = 0;
  let attempted = 0;
  const parts: string[] = [];
  const add = (name: string, fail: M, att: M) => {
    if (fail.v === null || att.v === null) return;
    failed += fail.v;
    attempted += att.v;
    parts.push(`${name} ${fail.v}/${att.v}`);
  };
  if (f.ran('ws')) {
    const errs = sum(f.count('ws', 'ws_connect_errors'), f.count('ws', 'ws_churn_errors'));
    add('ws connects', errs, sum(f.count('ws', 'ws_sessions'), f.count('ws', 'ws_churn_connects'), errs));
  }
  if (f.ran('messages')) add('message sends', messagesFailed(f), f.count('messages', 'msg_attempted'));
  if (f.ran('api')) add('API requests', f.count('api', 'api_errors'), f.count('api', 'api_reqs'));
  if (f.ran('files')) add('uploads', f.count('files', 'files_uploads_failed'), f.count('files', 'files_uploads_started'));
  if (f.ran('search')) add('search queries', f.count('search', 'search_queries_failed'), f.count('search', 'search_queries'));
  if (attempted === 0) return { failed: nm('not measured: no operation attempted'), attempted: nm('not measured'), parts };
  return { failed: { v: failed }, attempted: { v: attempted }, parts };
}

export function messagesFailed(f: Facts): M {
  return sum(
    f.count('messages', 'msg_send_failed'),
    f.count('messages', 'msg_delivery_failed'),
    f.count('messages', 'msg_dropped_inflight_cap'),
  );
}

export function quickMetrics(f: Facts, rm: RowMaker): Section {
  const e = overallErrors(f);
  return {
    id: 'quick',
    title: 'Quick Metrics',
    ran: true,
    rows: [
      rm.row('Concurrent Users', f.gauge('ws', 'ws_max_concurrent'), 'users', 'concurrent_users'),
      rm.row('Message Throughput', f.gauge('messages', 'msg_rate_achieved'), 'msg/s', 'message_throughput'),
      rm.row('API Response Time (p95)', f.trend('api', 'api_req_duration', 'p95'), 'ms', 'api_p95'),
      rm.row('Message Latency (p95)', f.trend('messages', 'msg_e2e', 'p95'), 'ms', 'message_latency_p95'),
      rm.row('WebSocket Connection (p95)', f.trend('ws', 'ws_connecting', 'p95'), 'ms', 'ws_connect_p95'),
      rm.row('Error Rate', ratio(e.failed, e.attempted, 100), '%', 'error_rate'),
    ],
  };
}

export function wsSection(f: Facts, rm: RowMaker): Section {
  const sc = 'ws';
  return {
    id: sc,
    title: 'Test 1: WebSocket Connections',
    ran: f.ran(sc),
    why: f.ran(sc) ? undefined : f.whyNot(sc),
    rows: [
      rm.row('Max Concurrent Connections', f.gauge(sc, 'ws_max_concurrent'), 'count', 'concurrent_users'),
      rm.row('Connection Time (Avg)', f.trend(sc, 'ws_connecting', 'avg'), 'ms'),
      rm.row('Connection Time (p50)', f.trend(sc, 'ws_connecting', 'p50'), 'ms'),
      rm.row('Connection Time (p95)', f.trend(sc, 'ws_connecting', 'p95'), 'ms', 'ws_connect_p95'),
      rm.row('Connection Time (p99)', f.trend(sc, 'ws_connecting', 'p99'), 'ms', 'ws_connect_p99'),
      rm.row('Connection Errors', f.count(sc, 'ws_connect_errors'), 'count', 'ws_connect_errors'),
      rm.row('Connection Success Rate', f.ratePct(sc, 'ws_connect_success'), '%', 'ws_connect_success'),
      rm.row('Messages Sent', f.count(sc, 'ws_msgs_sent'), 'count'),
      rm.row('Messages Received', f.count(sc, 'ws_msgs_received'), 'count'),
      rm.row('Message Latency (p95)', f.trend(sc, 'ws_msg_e2e', 'p95'), 'ms', 'ws_message_latency_p95'),
      rm.row('Disconnections', f.count(sc, 'ws_disconnects'), 'count'),
    ],
  };
}

export function messagesSection(f: Facts, rm: RowMaker): Section {
  const sc = 'messages';
  return {
    id: sc,
    title: 'Test 2: Message Throughput',
    ran: f.ran(sc),
    why: f.ran(sc) ? undefined : f.whyNot(sc),
    rows: [
      rm.row('Target Rate', f.gauge(sc, 'msg_rate_achieved'), 'msg/s', 'message_throughput'),
      rm.row('Total Messages Sent', f.count(sc, 'msg_sent'), 'count', 'messages_sent'),
      rm.row('Messages Delivered', f.count(sc, 'msg_delivered'), 'count', 'messages_delivered'),
      rm.row('Messages Failed', messagesFailed(f), 'count', 'messages_failed'),
      rm.row('Delivery Success Rate', f.ratePct(sc, 'msg_delivery_success'), '%', 'delivery_success'),
      rm.row('Message Latency (Avg)', f.trend(sc, 'msg_e2e', 'avg'), 'ms'),
      rm.row('Message Latency (p50)', f.trend(sc, 'msg_e2e', 'p50'), 'ms'),
      rm.row('Message Latency (p95)', f.trend(sc, 'msg_e2e', 'p95'), 'ms', 'message_latency_p95'),
      rm.row('Message Latency (p99)', f.trend(sc, 'msg_e2e', 'p99'), 'ms', 'message_latency_p99'),
      rm.row('Max Latency', f.trend(sc, 'msg_e2e', 'max'), 'ms', 'message_latency_max'),
    ],
  };
}

export function apiSection(f: Facts, rm: RowMaker): Section {
  const sc = 'api';
  return {
    id: sc,
    title: 'Test 3: API Endpoints Load Test',
    ran: f.ran(sc),
    why: f.ran(sc) ? undefined : f.whyNot(sc),
    rows: [
      rm.row('Total Requests', f.count(sc, 'api_reqs'), 'count'),
      rm.row('Request Rate', f.perSec(sc, 'api_reqs'), 'req/s'),
      rm.row('Error Rate', ratio(f.count(sc, 'api_errors'), f.count(sc, 'api_reqs'), 100), '%', 'api_error_rate'),
      rm.row('Avg Response Time', f.trend(sc, 'api_req_duration', 'avg'), 'ms'),
      rm.row('p50 Response Time', f.trend(sc, 'api_req_duration', 'p50'), 'ms'),
      rm.row('p95 Response Time', f.trend(sc, 'api_req_duration', 'p95'), 'ms', 'api_p95'),
      rm.row('p99 Response Time', f.trend(sc, 'api_req_duration', 'p99'), 'ms', 'api_p99'),
    ],
  };
}

export interface EndpointRow {
  endpoint: string;
  key: string;
  requests: M;
  avg: M;
  p95: M;
  p99: M;
  errorRate: M;
}

/** The template's endpoint table; latencies from each endpoint's histogram, counts from summary.json. */
export function endpointRows(f: Facts): EndpointRow[] {
  if (!f.ran('api')) return [];
  const rows = (f.s.scenarios.api.tables?.endpoints ?? []) as {
    endpoint: string;
    key: string;
    requests: number;
    errors: number;
    notMeasured?: string;
  }[];
  return rows.map((r) => {
    const h = `api_req_duration:${r.key}`;
    const why = r.notMeasured ?? undefined;
    const t = (stat: 'avg' | 'p95' | 'p99'): M => (why ? nm(why) : f.trend('api', h, stat));
    return {
      endpoint: r.endpoint,
      key: r.key,
      requests: why ? nm(why) : { v: r.requests },
      avg: t('avg'),
      p95: t('p95'),
      p99: t('p99'),
      errorRate: why ? nm(why) : r.requests > 0 ? { v: (r.errors / r.requests) * 100 } : nm('not measured: no request'),
    };
  });
}
