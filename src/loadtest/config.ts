// Load-test configuration: three profiles (smoke, quick, full) in k6's vocabulary, and the
// overrides an operator applies on top: a JSON file (--config), then dotted --set key=value
// pairs and shorthand flags. Every size, rate, duration and threshold is overridable.
// Durations are seconds in the resolved config; overrides also accept "90s", "5m", "1h".
import { validateThreshold } from './metrics.js';
import { FILE_SIZE_CLASSES } from './known-metrics.js';
import { normalizeSearch, type SearchScenarioConfig, searchDefaults, searchProfile } from './search-config.js';

/** A k6 stage: ramp linearly to `target` over `duration` seconds. */
export interface Stage {
  duration: number;
  target: number;
}

export interface WsScenarioConfig {
  /** Steady-set accounts (the maximum concurrent connections the stages reach). */
  users: number;
  /** Members per chat channel; each steady user is in exactly one channel. */
  channelSize: number;
  stages: Stage[];
  /** Chat messages each connected user sends per minute while held (Poisson). */
  msgPerUserPerMin: number;
  /** Extra churn accounts, apart from the steady set, that connect and disconnect repeatedly. */
  churnUsers: number;
  /** Churn connections opened per second (0 = no churn). */
  churnPerSec: number;
  /** Most connection attempts in flight at once per worker. */
  connectConcurrency: number;
  connectTimeoutMs: number;
}

export interface MessagesScenarioConfig {
  /** constant-arrival-rate: messages per second, all channels together. */
  rate: number;
  duration: number;
  channels: number;
  /** Fan-out: members per channel, all online over WebSocket. */
  channelSize: number;
  /** Share of sends over REST vs WebSocket (weights). */
  transport: { rest: number; ws: number };
  /** The template's message mix (weights). */
  mix: { text: number; mention: number; code: number; file: number };
  /** Sends not yet answered beyond this are dropped (k6 dropped_iterations) instead of queued. */
  maxInFlight: number;
  /** After the last send, how long to wait for deliveries still in flight. */
  drainMs: number;
}

export interface ApiScenarioConfig {
  vus: number;
  duration: number;
  /** Seconds to start all VUs (linear), inside `duration`. */
  rampUp: number;
  thinkTimeMs: number;
  channels: number;
  /** Messages written at setup so history and search have data. */
  seedMessages: number;
  mix: {
    auth_refresh: number;
    channels_list: number;
    channel_get: number;
    message_send: number;
    message_list: number;
    search: number;
    user_profile: number;
    notifications: number;
  };
}

/** The template's upload size classes (keys of `sizes` and `mix`). */
export const FILE_CLASSES = FILE_SIZE_CLASSES;
export type FileClass = (typeof FILE_CLASSES)[number];

export interface FilesScenarioConfig {
  /** Concurrent uploaders (k6 VUs, closed model: each uploads, then uploads again); with `rate`, the most uploads in flight. */
  vus: number;
  /** Uploads started per second (open model, k6 constant-arrival-rate); 0 = closed model (the template's VUs). */
  rate: number;
  duration: number;
  /** Seconds to start all VUs (linear), inside `duration`. */
  rampUp: number;
  /** Bytes of each size class (the template: 100 KB, 1 MB, 10 MB, 50 MB). */
  sizes: Record<FileClass, number>;
  /** Share of uploads per size class (weights; the template: 40/30/20/10). */
  mix: Record<FileClass, number>;
  /** Share of uploads that are real images (JPEG/PNG), in the classes up to imageMaxBytes. */
  imageShare: number;
  imageMaxBytes: number;
  /** Channels the uploads are made into (the `channelId` field); every VU is a member of each. */
  channels: number;
  thinkTimeMs: number;
  /** After the last upload, how long at most to wait for thumbnails the server is still making. */
  drainMs: number;
  /** The server's histogram of upload complete → thumbnail ready, read from /metrics. */
  processingMetric: string;
}

/**
 * The soak profile's hold: ws holds `users` connections (chatting at ws.msgPerUserPerMin) while the
 * api scenario's VUs run, both for rampUp + duration; trends are computed over the hold after
 * `warmup` (src/loadtest/trends.ts). In the soak profile ws.stages and api.duration follow these.
 */
export interface SoakConfig {
  /** Seconds the steady load is held (default 1 h). */
  duration: number;
  /** Seconds to ramp the connections up before the hold. */
  rampUp: number;
  /** Seconds of the hold left out of the trends (caches, JIT and heap settle first). */
  warmup: number;
  /** Seconds per interval in the trends table (each interval's figures are medians of its 1 s samples). */
  intervalSec: number;
}

export interface LoadtestConfig {
  profile: 'smoke' | 'quick' | 'full' | 'soak';
  scenarios: string[];
  /** Run the scenarios at the same time (after every setup) instead of one after another: the soak profile's mixed load. */
  parallel: boolean;
  soak: SoakConfig;
  /** Generator worker processes per scenario. */
  workers: number;
  sampleIntervalMs: number;
  thresholds: Record<string, string[]>;
  ws: WsScenarioConfig;
  messages: MessagesScenarioConfig;
  api: ApiScenarioConfig;
  files: FilesScenarioConfig;
  search: SearchScenarioConfig;
}

const MIX_TEMPLATE = { text: 60, mention: 20, code: 10, file: 10 };
const API_MIX = {
  auth_refresh: 10,
  channels_list: 10,
  channel_get: 10,
  message_send: 20,
  message_list: 20,
  search: 10,
  user_profile: 10,
  notifications: 10,
};

/**
 * Correctness thresholds every profile keeps: chat messages lost in the ws scenario (missing =
 * expected but never received by a recipient still online; a recipient that left on purpose is
 * counted apart as ws_msgs_recipient_left) and recipient sockets the server closed in the
 * messages scenario (a dropped member would make later messages look delivered).
 */
const ALWAYS: Record<string, string[]> = {
  ws_msgs_missing: ['count<1'],
  msg_ws_disconnects_unexpected: ['count<1'],
};

/** The template's targets (performance-report-template.md). */
const TEMPLATE_THRESHOLDS: Record<string, string[]> = {
  ...ALWAYS,
  ws_connecting: ['p(95)<1000', 'p(99)<2000'],
  ws_connect_errors: ['count<100'],
  ws_connect_success: ['rate>0.99'],
  ws_msg_e2e: ['p(95)<200'],
  msg_rate_achieved: ['value>=990'],
  msg_delivery_success: ['rate>0.99'],
  msg_e2e: ['p(95)<200', 'p(99)<500', 'max<2000'],
  api_req_duration: ['p(95)<500', 'p(99)<1000'],
  api_req_failed: ['rate<0.01'],
  files_upload_duration: ['p(95)<5000', 'p(99)<10000'],
  files_uploads_failed: ['count<10'],
  files_upload_success: ['rate>0.99'],
  files_processing: ['p(95)<2000'],
  // The template's search targets (scenario 5).
  search_duration: ['p(95)<500', 'p(99)<1000'],
  search_queries_failed: ['count<10'],
  search_success: ['rate>0.99'],
  search_relevance_score: ['value>0.8'],
};

const KB = 1024;
const MB = 1024 * 1024;

function base(): Omit<LoadtestConfig, 'profile'> {
  return {
    scenarios: ['ws', 'messages', 'api', 'files', 'search'],
    parallel: false,
    soak: { duration: 3600, rampUp: 60, warmup: 120, intervalSec: 60 },
    workers: 2,
    sampleIntervalMs: 1000,
    thresholds: structuredClone(TEMPLATE_THRESHOLDS),
    ws: {
      users: 10_000,
      channelSize: 10,
      msgPerUserPerMin: 1,
      churnUsers: 200,
      churnPerSec: 5,
      connectConcurrency: 200,
      connectTimeoutMs: 10_000,
      stages: [
        { duration: 300, target: 1000 },
        { duration: 300, target: 5000 },
        { duration: 300, target: 10_000 },
        { duration: 1800, target: 10_000 },
        { duration: 600, target: 0 },
      ],
    },
    messages: {
      rate: 1000,
      duration: 600,
      channels: 100,
      channelSize: 10,
      transport: { rest: 50, ws: 50 },
      mix: { ...MIX_TEMPLATE },
      maxInFlight: 10_000,
      drainMs: 10_000,
    },
    api: { vus: 100, duration: 300, rampUp: 10, thinkTimeMs: 0, channels: 10, seedMessages: 500, mix: { ...API_MIX } },
    files: {
      vus: 100,
      rate: 0,
      duration: 300,
      rampUp: 10,
      sizes: { small: 100 * KB, medium: MB, large: 10 * MB, xlarge: 50 * MB },
      mix: { small: 40, medium: 30, large: 20, xlarge: 10 },
      imageShare: 0.3,
      imageMaxBytes: 10 * MB,
      channels: 4,
      thinkTimeMs: 0,
      drainMs: 30_000,
      processingMetric: 'nchat_file_processing_seconds',
    },
    search: searchDefaults(),
  };
}

export const PROFILES = ['smoke', 'quick', 'full', 'soak'] as const;

/**
 * The soak profile's flatness criteria (gauges computed by src/loadtest/trends.ts over the hold
 * after warm-up): growth is the least-squares slope in MB per hour, drift is the change of the
 * last third's median against the first third's, in %. Figures for this 2-core machine at the
 * profile's size; the report's own criteria are the soak_* keys of config/targets*.json.
 */
const SOAK_THRESHOLDS: Record<string, string[]> = {
  soak_server_heap_growth: ['value<50'],
  soak_server_rss_growth: ['value<100'],
  soak_generator_heap_growth: ['value<50'],
  soak_generator_rss_growth: ['value<100'],
  soak_e2e_p95_drift: ['value<50'],
  soak_api_p95_drift: ['value<50'],
  soak_server_loop_p99_drift: ['value<50'],
};

export function profileConfig(name: LoadtestConfig['profile']): LoadtestConfig {
  const c: LoadtestConfig = { profile: name, ...base() };
  if (name === 'smoke') {
    // Each scenario small; the whole run (spawn + setup + three scenarios) stays under 90 s. CI runs it.
    c.ws = {
      ...c.ws,
      users: 40,
      channelSize: 10,
      msgPerUserPerMin: 6,
      churnUsers: 10,
      churnPerSec: 2,
      connectConcurrency: 20,
      stages: [
        { duration: 3, target: 20 },
        { duration: 3, target: 40 },
        { duration: 6, target: 40 },
        { duration: 2, target: 0 },
      ],
    };
    c.messages = { ...c.messages, rate: 50, duration: 8, channels: 5, channelSize: 10, drainMs: 10_000 };
    c.api = { ...c.api, vus: 10, duration: 8, rampUp: 2, channels: 3, seedMessages: 50 };
    // Small files (the same mix of classes and content, 100× smaller) so that CI runs it in seconds.
    c.files = {
      ...c.files,
      vus: 10,
      duration: 5,
      rampUp: 1,
      sizes: { small: KB, medium: 10 * KB, large: 100 * KB, xlarge: 500 * KB },
      channels: 2,
      drainMs: 10_000,
    };
    c.thresholds.msg_rate_achieved = ['value>=45'];
  } else if (name === 'quick') {
    // The full shape at a size that finishes in ~10 minutes on one 2-core machine, 10,000 users included;
    // thresholds are issue 4's targets for this machine.
    c.ws = {
      ...c.ws,
      users: 10_000,
      churnUsers: 100,
      churnPerSec: 5,
      stages: [
        { duration: 60, target: 1000 },
        { duration: 60, target: 5000 },
        { duration: 60, target: 10_000 },
        { duration: 120, target: 10_000 },
        { duration: 30, target: 0 },
      ],
    };
    c.messages = { ...c.messages, rate: 1000, duration: 60, channels: 100, channelSize: 10 };
    c.api = { ...c.api, vus: 100, duration: 60, rampUp: 5 };
    // Open model at 45 uploads/s ≈ 330 MB/s of the template's mix (mean 7.34 MB), at most 100 in
    // flight: the load issue 11's targets are stated for. The template's closed 100 VUs (the full
    // profile) cannot show p95 < 3 s below ~1.7 GB/s (100 × 50 MB ÷ capacity), so at a rate this
    // machine can take the closed model measures the arithmetic, not the server (bench:upload runs
    // both; docs/PERFORMANCE.md).
    c.files = { ...c.files, vus: 100, rate: 45, duration: 60, rampUp: 5 };
    c.thresholds = {
      ...structuredClone(ALWAYS),
      ws_connecting: ['p(95)<150'],
      ws_connect_errors: ['count<1'],
      ws_max_concurrent: ['value>=10000'],
      msg_rate_achieved: ['value>=990'],
      msg_delivery_success: ['rate>=1'],
      msg_e2e: ['p(95)<25', 'p(99)<50'],
      api_req_duration: ['p(95)<20'],
      api_req_failed: ['rate<0.01'],
      // Issue 11's targets for this machine.
      files_upload_duration: ['p(95)<3000'],
      files_upload_success: ['rate>0.99'],
      files_throughput: ['value>=300'],
      files_processing: ['p(95)<500'],
      files_server_rss_peak: ['value<300'],
      // Issue 10's targets for this machine (search over 1M messages, 100 VUs).
      search_duration_text: ['p(95)<50'],
      search_duration_filtered: ['p(95)<50'],
      search_duration_suggest: ['p(95)<20'],
      search_relevance_score: ['value>=0.9'],
    };
  } else if (name === 'soak') {
    // A steady mixed load held for soak.duration (1 h): connections that chat (ws) and some API
    // traffic (api) at the same time, at a size this 2-core machine holds with room to spare.
    c.scenarios = ['ws', 'api'];
    c.parallel = true;
    c.ws = { ...c.ws, users: 5000, channelSize: 10, msgPerUserPerMin: 1, churnUsers: 50, churnPerSec: 1 };
    c.api = { ...c.api, vus: 20, rampUp: 10, thinkTimeMs: 200 };
    shapeSoak(c);
    c.thresholds = {
      ...structuredClone(ALWAYS),
      ...structuredClone(SOAK_THRESHOLDS),
      api_req_failed: ['rate<0.01'],
      ws_connect_errors: ['count<10'],
    };
  }
  c.search = searchProfile(name === 'soak' ? 'full' : name, c.search);
  return c;
}

/**
 * The soak profile's load follows soak.*: ramp to ws.users over rampUp, hold for duration, close
 * over 15 s; the api scenario runs from the start to the end of the hold.
 */
export function shapeSoak(c: LoadtestConfig): void {
  const s = c.soak;
  c.ws.stages = [
    { duration: s.rampUp, target: c.ws.users },
    { duration: s.duration, target: c.ws.users },
    { duration: 15, target: 0 },
  ];
  c.api.duration = s.rampUp + s.duration;
  c.api.rampUp = Math.min(c.api.rampUp, c.api.duration);
}

/** "90" → 90, "90s" → 90, "5m" → 300, "1h" → 3600, "250ms" → 0.25. */
export function parseDuration(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  if (typeof v !== 'string') throw new Error(`bad duration ${JSON.stringify(v)}`);
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(v);
  if (!m) throw new Error(`bad duration "${v}": expected e.g. 90, 90s, 5m, 1h`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : m[2] === 'h' ? n * 3600 : n;
}

const DURATION_KEYS = new Set(['duration', 'rampUp']);
const SIZE_UNITS: Record<string, number> = { b: 1, kb: KB, k: KB, mb: MB, m: MB, gb: 1024 * MB };

/** 1024 → 1024, "100KB" → 102400, "1 MB" → 1048576 (binary units). */
export function parseBytes(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') throw new Error(`bad size ${JSON.stringify(v)}`);
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
  const unit = SIZE_UNITS[(m?.[2] || 'b').toLowerCase()];
  if (!m || unit === undefined) throw new Error(`bad size "${v}": expected e.g. 102400, 100KB, 1MB`);
  return Math.round(Number(m[1]) * unit);
}

/** Deep-merges `patch` into `target` (objects merge, arrays and scalars replace). */
function deepMerge(target: Record<string, unknown>, patch: Record<string, unknown>, path = ''): void {
  for (const [k, v] of Object.entries(patch)) {
    const where = path ? `${path}.${k}` : k;
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') throw new Error(`bad key ${where}`);
    const cur = target[k];
    if (
      v &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      cur &&
      typeof cur === 'object' &&
      !Array.isArray(cur) &&
      where !== 'thresholds'
    ) {
      deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>, where);
    } else if (where === 'thresholds' && v && typeof v === 'object' && !Array.isArray(v)) {
      // Thresholds merge per metric: a patch replaces the expressions of the metrics it names; [] removes one.
      const t = cur as Record<string, string[]>;
      for (const [metric, exprs] of Object.entries(v as Record<string, unknown>)) {
        if (Array.isArray(exprs) && exprs.length === 0) delete t[metric];
        else t[metric] = (Array.isArray(exprs) ? exprs : [exprs]).map(String);
      }
    } else {
      target[k] = v;
    }
  }
}

/** Applies one JSON patch (from a file or built from flags) and re-validates. Throws with a readable message. */
export function applyPatch(c: LoadtestConfig, patch: unknown): LoadtestConfig {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw new Error('config override must be a JSON object');
  const out = structuredClone(c) as unknown as Record<string, unknown>;
  deepMerge(out, patch as Record<string, unknown>);
  return normalize(out as unknown as LoadtestConfig);
}

/** Turns `a.b.c=value` into a patch; value is JSON when it parses, else a string. */
export function setToPatch(expr: string): Record<string, unknown> {
  const eq = expr.indexOf('=');
  if (eq <= 0) throw new Error(`--set expects key=value, got "${expr}"`);
  const keys = expr.slice(0, eq).trim().split('.');
  const raw = expr.slice(eq + 1).trim();
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  const root: Record<string, unknown> = {};
  let cur = root;
  keys.forEach((k, i) => {
    if (!k) throw new Error(`--set: empty key in "${expr}"`);
    if (i === keys.length - 1) cur[k] = value;
    else cur = (cur[k] = {}) as Record<string, unknown>;
  });
  return root;
}

function num(v: unknown, where: string, min: number, max = Number.MAX_SAFE_INTEGER, int = true): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max || (int && !Number.isInteger(n))) {
    throw new Error(`${where}: expected ${int ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return n;
}

/** Validates and canonicalizes (durations to seconds, numeric strings to numbers). */
export function normalize(c: LoadtestConfig): LoadtestConfig {
  if (!PROFILES.includes(c.profile)) throw new Error(`profile: expected one of ${PROFILES.join(', ')}`);
  if (!Array.isArray(c.scenarios) || c.scenarios.length === 0) throw new Error('scenarios: expected a non-empty list');
  c.workers = num(c.workers, 'workers', 1, 64);
  if (typeof c.parallel !== 'boolean') throw new Error(`parallel: expected true or false, got ${JSON.stringify(c.parallel)}`);
  const sk = c.soak;
  if (!sk || typeof sk !== 'object') throw new Error('soak: expected an object');
  const dur = (v: unknown, where: string) => {
    try {
      return parseDuration(v);
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
  };
  sk.duration = num(dur(sk.duration, 'soak.duration'), 'soak.duration', 1, 7 * 86_400, false);
  sk.rampUp = num(dur(sk.rampUp, 'soak.rampUp'), 'soak.rampUp', 0, 86_400, false);
  // Not bounded by soak.duration here (overrides apply one at a time); a warm-up as long as the hold leaves no window, and the soak_* figures read "not measured".
  sk.warmup = num(dur(sk.warmup, 'soak.warmup'), 'soak.warmup', 0, 7 * 86_400, false);
  sk.intervalSec = num(dur(sk.intervalSec, 'soak.intervalSec'), 'soak.intervalSec', 1, 86_400, false);
  if (c.profile === 'soak') shapeSoak(c);
  c.sampleIntervalMs = num(c.sampleIntervalMs, 'sampleIntervalMs', 100, 60_000);
  for (const section of ['ws', 'messages', 'api', 'files', 'search'] as const) {
    const s = c[section] as unknown as Record<string, unknown>;
    for (const k of Object.keys(s)) if (DURATION_KEYS.has(k)) s[k] = parseDuration(s[k]);
  }
  const w = c.ws;
  w.users = num(w.users, 'ws.users', 1, 1_000_000);
  w.channelSize = num(w.channelSize, 'ws.channelSize', 1, 100_000);
  w.msgPerUserPerMin = num(w.msgPerUserPerMin, 'ws.msgPerUserPerMin', 0, 6000, false);
  w.churnUsers = num(w.churnUsers, 'ws.churnUsers', 0, 1_000_000);
  w.churnPerSec = num(w.churnPerSec, 'ws.churnPerSec', 0, 100_000, false);
  w.connectConcurrency = num(w.connectConcurrency, 'ws.connectConcurrency', 1, 100_000);
  w.connectTimeoutMs = num(w.connectTimeoutMs, 'ws.connectTimeoutMs', 100, 600_000);
  if (!Array.isArray(w.stages) || w.stages.length === 0) throw new Error('ws.stages: expected a non-empty list of {duration, target}');
  w.stages = w.stages.map((s, i) => ({
    duration: parseDuration(s?.duration),
    target: num(s?.target, `ws.stages[${i}].target`, 0, w.users),
  }));
  const m = c.messages;
  m.rate = num(m.rate, 'messages.rate', 0.1, 1_000_000, false);
  m.duration = num(m.duration, 'messages.duration', 1, 86_400, false);
  m.channels = num(m.channels, 'messages.channels', 1, 100_000);
  m.channelSize = num(m.channelSize, 'messages.channelSize', 1, 100_000);
  m.maxInFlight = num(m.maxInFlight, 'messages.maxInFlight', 1, 10_000_000);
  m.drainMs = num(m.drainMs, 'messages.drainMs', 0, 600_000);
  for (const k of ['rest', 'ws'] as const) m.transport[k] = num(m.transport?.[k], `messages.transport.${k}`, 0, 1e6, false);
  if (m.transport.rest + m.transport.ws <= 0) throw new Error('messages.transport: weights must not all be 0');
  for (const k of ['text', 'mention', 'code', 'file'] as const) m.mix[k] = num(m.mix?.[k], `messages.mix.${k}`, 0, 1e6, false);
  const a = c.api;
  a.vus = num(a.vus, 'api.vus', 1, 100_000);
  a.duration = num(a.duration, 'api.duration', 1, 86_400, false);
  a.rampUp = num(a.rampUp, 'api.rampUp', 0, a.duration, false);
  a.thinkTimeMs = num(a.thinkTimeMs, 'api.thinkTimeMs', 0, 600_000);
  a.channels = num(a.channels, 'api.channels', 1, 10_000);
  a.seedMessages = num(a.seedMessages, 'api.seedMessages', 0, 1_000_000);
  for (const k of Object.keys(API_MIX) as (keyof typeof API_MIX)[]) a.mix[k] = num(a.mix?.[k], `api.mix.${k}`, 0, 1e6, false);
  normalizeFiles(c.files);
  normalizeSearch(c.search, num);
  for (const [metric, exprs] of Object.entries(c.thresholds ?? {})) {
    if (!Array.isArray(exprs)) throw new Error(`thresholds.${metric}: expected a list of expressions`);
    // Unknown metric (a typo), malformed expression, or a statistic the metric cannot give: refused here.
    for (const e of exprs) validateThreshold(metric, String(e));
  }
  return c;
}

function normalizeFiles(f: FilesScenarioConfig): void {
  f.vus = num(f.vus, 'files.vus', 1, 100_000);
  f.rate = num(f.rate, 'files.rate', 0, 1_000_000, false);
  f.duration = num(f.duration, 'files.duration', 1, 86_400, false);
  f.rampUp = num(f.rampUp, 'files.rampUp', 0, f.duration, false);
  for (const k of FILE_CLASSES) {
    f.sizes[k] = num(parseBytes(f.sizes?.[k]), `files.sizes.${k}`, 1, 4 * 1024 * MB);
    f.mix[k] = num(f.mix?.[k], `files.mix.${k}`, 0, 1e6, false);
  }
  if (FILE_CLASSES.every((k) => f.mix[k] === 0)) throw new Error('files.mix: weights must not all be 0');
  f.imageShare = num(f.imageShare, 'files.imageShare', 0, 1, false);
  f.imageMaxBytes = num(parseBytes(f.imageMaxBytes), 'files.imageMaxBytes', 0, 4 * 1024 * MB);
  f.channels = num(f.channels, 'files.channels', 1, 10_000);
  f.thinkTimeMs = num(f.thinkTimeMs, 'files.thinkTimeMs', 0, 600_000);
  f.drainMs = num(f.drainMs, 'files.drainMs', 0, 600_000);
  if (typeof f.processingMetric !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(f.processingMetric))
    throw new Error(`files.processingMetric: expected a Prometheus metric name, got ${JSON.stringify(f.processingMetric)}`);
}

/** Total planned seconds of a ramping stage list. */
export function stagesDuration(stages: Stage[]): number {
  return stages.reduce((s, x) => s + x.duration, 0);
}

/** k6 ramping-vus semantics: the target at `t` seconds, interpolated linearly from `start`. */
export function targetAt(stages: Stage[], t: number, start = 0): number {
  let from = start;
  let at = 0;
  for (const s of stages) {
    if (t < at + s.duration) return Math.round(from + ((s.target - from) * (t - at)) / s.duration);
    at += s.duration;
    from = s.target;
  }
  return from;
}
