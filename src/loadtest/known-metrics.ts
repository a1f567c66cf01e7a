// The metrics each scenario reports in summary.json (`scenarios.<name>.metrics`), with their type.
// Thresholds are checked against this list when the config is parsed: a threshold on a name no
// scenario reports is a typo and an error at start (it would otherwise be "not evaluated" and
// the run would pass on nothing), and a statistic the metric's type cannot give is refused too.
// test/loadtest/known-metrics.test.ts runs every scenario's summarize() and checks that what it
// emits is exactly what is declared here, so this list cannot drift from the scenarios.
// Data only (no imports), so metrics.ts (thresholds) and the scenarios' test can read it without a cycle.

export type MetricType = 'trend' | 'counter' | 'rate' | 'gauge';

export interface MetricDecl {
  type: MetricType;
  /**
   * Counters only: the metrics whose counts sum to the chances this counter had to count
   * something (e.g. ws_msgs_missing out of ws_msgs_expected). When they sum to 0 the counter
   * measured nothing, so `count<1` is "not measured", not a pass. Every counter a run can fail on
   * (errors, losses, disconnects) has one. Without `of`, the counter is a volume (sessions, sends)
   * or has no other basis (setup connect errors: every member connects before the scenario
   * starts), and its count is a measurement whenever its scenario ran.
   */
  of?: string[];
}

const trend: MetricDecl = { type: 'trend' };
const rate: MetricDecl = { type: 'rate' };
const gauge: MetricDecl = { type: 'gauge' };
const count = (...of: string[]): MetricDecl => (of.length ? { type: 'counter', of } : { type: 'counter' });

/** The api scenario's endpoints (config.ts API mix keys): each gets `api_req_duration_<endpoint>`. */
export const API_ENDPOINTS = [
  'auth_refresh',
  'channels_list',
  'channel_get',
  'message_send',
  'message_list',
  'search',
  'user_profile',
  'notifications',
] as const;

/** The search scenario's query types (config search.mix keys): each gets `search_duration_<type>`. */
export const SEARCH_QUERY_TYPES = ['text', 'filtered', 'suggest'] as const;

/** The files scenario's size classes (config.ts FILE_CLASSES): each gets `files_upload_duration_<class>`. */
export const FILE_SIZE_CLASSES = ['small', 'medium', 'large', 'xlarge'] as const;

const WS_ATTEMPTS = ['ws_sessions', 'ws_connect_errors'];
const MSG_RECEIPTS = ['msg_expected_receipts'];

export const KNOWN_METRICS: Record<string, Record<string, MetricDecl>> = {
  ws: {
    ws_connecting: trend,
    ws_sessions: count(),
    ws_connect_errors: count(...WS_ATTEMPTS),
    ws_connect_success: rate,
    ws_max_concurrent: gauge,
    ws_disconnects: count('ws_sessions'),
    ws_reconnects: count(),
    ws_reconnect_errors: count('ws_reconnects', 'ws_reconnect_errors'),
    ws_reconnecting: trend,
    ws_resumed_channels: count(),
    ws_resume_limited: count('ws_reconnects'),
    ws_msgs_sent: count(),
    ws_msgs_acked: count(),
    ws_msgs_expected: count(),
    ws_msgs_received: count(),
    ws_msgs_recipient_left: count('ws_msgs_expected'),
    ws_msgs_missing: count('ws_msgs_expected'),
    ws_msgs_unexpected: count('ws_msgs_received', 'ws_msgs_unexpected'),
    ws_msg_delivery: rate,
    ws_msg_e2e: trend,
    ws_msg_schedule_lag: trend,
    // Chat sends due while their sender was not connected: not sent, so nothing was expected of them.
    ws_send_skipped: count('ws_msgs_sent', 'ws_send_skipped'),
    ws_server_errors: count('ws_sessions'),
    ws_churn_connects: count(),
    ws_churn_errors: count('ws_churn_connects', 'ws_churn_errors'),
    ws_churn_connecting: trend,
  },
  messages: {
    msg_rate_target: gauge,
    msg_rate_achieved: gauge,
    msg_sent_in_window: count(),
    msg_attempted: count(),
    msg_sent: count(),
    msg_send_failed: count('msg_attempted'),
    msg_dropped_iterations: count('msg_attempted'),
    msg_dropped_inflight_cap: count('msg_attempted'),
    msg_dropped_no_online_sender: count('msg_attempted'),
    msg_delivered: count(),
    msg_delivery_failed: count('msg_sent'),
    msg_delivery_success: rate,
    msg_receipts: count(),
    msg_expected_receipts: count(),
    msg_receipts_missing: count(...MSG_RECEIPTS),
    msg_e2e: trend,
    msg_send: trend,
    msg_schedule_lag: trend,
    msg_setup_connect_errors: count(),
    // Members were online (receipts were expected) = a disconnect could have been seen.
    msg_ws_disconnects: count(...MSG_RECEIPTS),
    msg_ws_disconnects_unexpected: count(...MSG_RECEIPTS),
    msg_ws_disconnects_expected: count(...MSG_RECEIPTS),
    msg_ws_reconnects: count(),
    msg_ws_reconnect_errors: count('msg_ws_reconnects', 'msg_ws_reconnect_errors'),
    msg_ws_resumed_channels: count(),
    msg_expected_while_away: count(...MSG_RECEIPTS),
  },
  api: {
    api_reqs: count(),
    api_errors: count('api_reqs'),
    api_req_failed: rate,
    api_rate_limited: count('api_reqs'),
    api_req_duration: trend,
    api_max_vus: gauge,
    ...Object.fromEntries(API_ENDPOINTS.map((e) => [`api_req_duration_${e}`, trend])),
  },
  files: {
    files_uploads_started: count(),
    files_uploads_completed: count(),
    files_uploads_failed: count('files_uploads_started'),
    files_upload_success: rate,
    files_upload_mismatch: count('files_uploads_started'),
    files_upload_duration: trend,
    ...Object.fromEntries(FILE_SIZE_CLASSES.map((k) => [`files_upload_duration_${k}`, trend])),
    files_bytes_uploaded: count(),
    files_throughput: gauge,
    files_upload_speed_avg: gauge,
    files_upload_speed_p95: gauge,
    // From the server's /metrics histogram (upload complete → thumbnail ready): min/max are null.
    files_processing: trend,
    files_server_rss_start: gauge,
    files_server_rss_peak: gauge,
    files_server_rss_end: gauge,
    files_max_vus: gauge,
    files_dropped_iterations: count('files_uploads_started', 'files_dropped_iterations'),
  },
  search: {
    search_queries: count(),
    search_queries_failed: count('search_queries'),
    search_success: rate,
    search_rate_limited: count('search_queries'),
    search_duration: trend,
    ...Object.fromEntries(SEARCH_QUERY_TYPES.map((k) => [`search_duration_${k}`, trend])),
    search_qps: gauge,
    search_results_avg: gauge,
    search_max_vus: gauge,
    // The relevance set (nchat seed) through GET /api/search, before the load.
    search_relevance_score: gauge,
    search_precision_at_10: gauge,
    search_recall: gauge,
    // Send ack → the message's unique word found by search.
    search_index_lag: trend,
    search_index_lag_probes: count(),
    search_index_lag_timeouts: count('search_index_lag_probes'),
    // store.search.stats() of the seeded workspace, and the seed's write rate when seeded in this run.
    search_index_documents: gauge,
    search_index_bytes: gauge,
    search_seed_rate: gauge,
  },
};

/**
 * Metrics of the whole run rather than of one scenario (summary.json `runMetrics`): the soak
 * trends (src/loadtest/trends.ts), present when the profile is soak. Growth in MB per hour
 * (least-squares slope after warm-up, the highest over the nodes for server_*), drift in % (last
 * third's median against the first third's).
 */
export const RUN_METRICS: Record<string, Record<string, MetricDecl>> = {
  soak: {
    soak_server_heap_growth: gauge,
    soak_server_rss_growth: gauge,
    soak_generator_heap_growth: gauge,
    soak_generator_rss_growth: gauge,
    soak_e2e_p95_drift: gauge,
    soak_api_p95_drift: gauge,
    soak_server_loop_p99_drift: gauge,
    soak_generator_loop_p99_drift: gauge,
  },
};

/** The statistics a threshold may use on each type (p50–p99: the percentiles a summary holds). */
export const STATS_BY_TYPE: Record<MetricType, readonly string[]> = {
  trend: ['count', 'avg', 'min', 'max', 'p50', 'p90', 'p95', 'p99'],
  counter: ['count', 'rate'],
  rate: ['rate', 'count'],
  gauge: ['value'],
};

/** The scenario and declaration of a metric name, or null when no scenario reports it. */
export function findMetric(name: string): { scenario: string; decl: MetricDecl } | null {
  for (const [scenario, metrics] of [...Object.entries(KNOWN_METRICS), ...Object.entries(RUN_METRICS)]) {
    if (Object.hasOwn(metrics, name)) return { scenario, decl: metrics[name] };
  }
  return null;
}

/** The known name closest to a typo (edit distance ≤ 3), for the error message. */
export function closestMetric(name: string): string | null {
  let best: string | null = null;
  let bestD = 4;
  for (const metrics of [...Object.values(KNOWN_METRICS), ...Object.values(RUN_METRICS)]) {
    for (const k of Object.keys(metrics)) {
      const d = editDistance(name, k);
      if (d < bestD) {
        best = k;
        bestD = d;
      }
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
