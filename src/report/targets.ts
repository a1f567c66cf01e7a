// Report targets: the figure each verdict in the report is checked against. The defaults are
// the performance-report template's (../shared/seed/performance-report-template.md, "Target"
// columns); config/targets.strict.json holds ours. A targets file may set any subset: keys it
// leaves out keep the template's value. Each target is a comparison "<op><number>" on the
// row's actual value in the row's unit (ms, msg/s, %, count).
import { readFileSync } from 'node:fs';

export type Op = '<' | '<=' | '>' | '>=';
export interface Target {
  op: Op;
  value: number;
}

/** Target key → [template target expression, unit, what it is checked against]. */
export const TARGET_KEYS = {
  concurrent_users: ['>=10000', 'users', 'ws_max_concurrent: most WebSocket sessions open at once'],
  message_throughput: ['>=1000', 'msg/s', 'msg_rate_achieved: messages accepted inside the window ÷ its duration'],
  api_p95: ['<500', 'ms', 'api_req_duration p95 (all endpoints)'],
  api_p99: ['<1000', 'ms', 'api_req_duration p99'],
  message_latency_p95: ['<200', 'ms', 'msg_e2e p95 (intended send → every recipient)'],
  message_latency_p99: ['<500', 'ms', 'msg_e2e p99'],
  message_latency_max: ['<2000', 'ms', 'msg_e2e max'],
  ws_connect_p95: ['<1000', 'ms', 'ws_connecting p95 (TCP + upgrade + hello)'],
  ws_connect_p99: ['<2000', 'ms', 'ws_connecting p99'],
  ws_connect_errors: ['<100', 'count', 'ws_connect_errors'],
  ws_connect_success: ['>99', '%', 'ws_connect_success'],
  ws_message_latency_p95: ['<200', 'ms', 'ws_msg_e2e p95 (chat during the connection test)'],
  error_rate: ['<1', '%', 'failed operations ÷ attempted operations over every scenario run'],
  api_error_rate: ['<1', '%', 'api_req_failed'],
  messages_sent: ['>=600000', 'count', 'msg_sent (template: 1,000 msg/s for 10 min)'],
  messages_delivered: ['>594000', 'count', 'msg_delivered (every recipient got it)'],
  messages_failed: ['<6000', 'count', 'msg_send_failed + msg_delivery_failed + msg_dropped_inflight_cap'],
  delivery_success: ['>99', '%', 'msg_delivery_success'],
  uploads_failed: ['<10', 'count', 'failed uploads'],
  upload_success: ['>99', '%', 'uploads completed ÷ started'],
  upload_p95: ['<5000', 'ms', 'upload time p95'],
  upload_p99: ['<10000', 'ms', 'upload time p99'],
  processing_p95: ['<2000', 'ms', 'processing (upload complete → thumbnail ready) p95'],
  queries_failed: ['<10', 'count', 'failed search queries'],
  search_success: ['>99', '%', 'search queries answered ÷ sent'],
  search_p95: ['<500', 'ms', 'search query time p95'],
  search_p99: ['<1000', 'ms', 'search query time p99'],
  relevance: ['>80', '%', 'relevance score of the search scenario'],
  cpu_warning: ['<80', '%', 'sustained CPU (p95 of 1 s samples, % of the cores the component can use): WARNING at or above'],
  cpu_critical: ['<95', '%', 'CPU: CRITICAL at or above'],
  memory_warning: ['<80', '%', 'memory (max RSS ÷ machine memory): WARNING at or above'],
  memory_critical: ['<90', '%', 'memory: CRITICAL at or above'],
  // Not the template's: ɳChat's own, for issue 15's soak and issue 12's GC and slow-consumer rules.
  soak_server_heap_growth: ['<50', 'MB/h', "soak: growth of a node's V8 heap used (least-squares slope after warm-up, the highest node)"],
  soak_server_rss_growth: ['<100', 'MB/h', "soak: growth of a node's RSS (least-squares slope after warm-up, the highest node)"],
  soak_generator_heap_growth: ['<50', 'MB/h', "soak: growth of the generator's heap used (main process + workers)"],
  soak_latency_drift: ['<50', '%', 'soak: p95 latency (chat end-to-end, API) in the last third of the hold against the first third'],
  soak_loop_drift: ['<50', '%', 'soak: server event-loop delay p99, last third against first third'],
  gc_time: ['<10', '%', "GC time ÷ wall time on each node (prom-client's nodejs_gc_duration_seconds, all kinds)"],
  slow_consumer_closes: ['<1', 'count', 'connections the server closed for a full send buffer (nchat_ws_slow_consumer_closes)'],
} as const satisfies Record<string, readonly [string, string, string]>;

export type TargetKey = keyof typeof TARGET_KEYS;

export interface Targets {
  name: string;
  source: string;
  byKey: Record<TargetKey, Target>;
  unit(key: TargetKey): string;
}

const EXPR = /^\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;

export function parseTarget(expr: string): Target {
  const m = EXPR.exec(expr);
  if (!m) throw new Error(`bad target "${expr}": expected <op><number>, e.g. "<500" or ">=1000"`);
  return { op: m[1] as Op, value: Number(m[2]) };
}

export function meets(t: Target, v: number): boolean {
  return t.op === '<' ? v < t.value : t.op === '<=' ? v <= t.value : t.op === '>' ? v > t.value : v >= t.value;
}

function build(name: string, source: string, overrides: Record<string, string>): Targets {
  const byKey = {} as Record<TargetKey, Target>;
  for (const [k, [expr]] of Object.entries(TARGET_KEYS)) byKey[k as TargetKey] = parseTarget(overrides[k] ?? expr);
  return { name, source, byKey, unit: (k) => TARGET_KEYS[k][1] };
}

export function defaultTargets(): Targets {
  return build('template', 'the performance-report template (10,000 users, 1,000 msg/s)', {});
}

/**
 * Reads a targets file: {"name": "...", "source": "...", "targets": {"api_p95": "<200", ...}}.
 * Unknown keys and malformed expressions are errors (a typo must not silently keep a default).
 */
export function loadTargets(file: string): Targets {
  let j: { name?: unknown; source?: unknown; targets?: unknown };
  try {
    j = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`targets file ${file}: ${(e as Error).message}`);
  }
  if (!j || typeof j.targets !== 'object' || j.targets === null) throw new Error(`targets file ${file}: no "targets" object`);
  const t = j.targets as Record<string, unknown>;
  for (const [k, v] of Object.entries(t)) {
    if (!Object.hasOwn(TARGET_KEYS, k))
      throw new Error(`targets file ${file}: unknown target "${k}" (known: ${Object.keys(TARGET_KEYS).join(', ')})`);
    if (typeof v !== 'string') throw new Error(`targets file ${file}: target "${k}" must be a string like "<500"`);
    parseTarget(v);
  }
  return build(String(j.name ?? file), String(j.source ?? file), t as Record<string, string>);
}

/** "<500ms", "≥10,000", ">99%" — a target as the report prints it. */
export function targetText(t: Target, unit: string): string {
  const op = t.op === '<=' ? '≤' : t.op === '>=' ? '≥' : t.op;
  const v = t.value.toLocaleString('en-US');
  return unit === 'ms'
    ? `${op}${v}ms`
    : unit === '%'
      ? `${op}${v}%`
      : unit === 'msg/s'
        ? `${op}${v}/s`
        : unit === 'MB/h'
          ? `${op}${v} MB/h`
          : `${op}${v}`;
}
