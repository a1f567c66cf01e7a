// The search scenario's configuration (section `search` of the load-test config): sizes of the
// seeded workspace it searches, VUs and the template's query mix, per profile; and its checks.
// Kept apart from config.ts so the scenario's knobs live in one place.
import type { SeedParams } from '../seed/plan.js';
import { SEED_LIMITS } from '../seed/plan.js';

export interface SearchScenarioConfig {
  /** Concurrent searchers (closed model: each sends its next query thinkTimeMs after the last one answered). */
  vus: number;
  duration: number;
  /** Seconds to start all VUs (linear), inside `duration`. */
  rampUp: number;
  /**
   * Pause between a VU's answer and its next query. Default 1 s, a person's pace (k6's sleep(1)):
   * with no pause a closed model measures only its own queue (latency = VUs ÷ throughput, Little's
   * law), so p95 would say how many VUs there are rather than how fast a search is; set 0 to
   * measure capacity (queries/s at saturation) instead.
   */
  thinkTimeMs: number;
  /** The template's query mix (weights): plain words, words with operators, type-ahead suggestions. */
  mix: { text: number; filtered: number; suggest: number };
  /** The workspace searched: with --spawn it is seeded (or reused from the seed cache) before the nodes start; with --target it must have been seeded with these options (nchat seed). */
  seed: SeedParams;
  /** Index-lag probes: every this many ms one VU sends a message with a unique word and polls search until it is found. */
  lagProbeIntervalMs: number;
  /** A probe not found after this long counts as a timeout (and no lag sample). */
  lagTimeoutMs: number;
}

export function searchDefaults(): SearchScenarioConfig {
  return {
    vus: 100,
    duration: 300,
    rampUp: 10,
    thinkTimeMs: 1000,
    mix: { text: 70, filtered: 20, suggest: 10 },
    seed: { messages: 1_000_000, users: 1_000, channels: 200, seed: 1 },
    lagProbeIntervalMs: 1000,
    lagTimeoutMs: 10_000,
  };
}

/** Profile sizes: smoke searches a small workspace in seconds (CI); quick and full 1M messages. */
export function searchProfile(name: 'smoke' | 'quick' | 'full', c: SearchScenarioConfig): SearchScenarioConfig {
  if (name === 'smoke')
    return {
      ...c,
      vus: 10,
      duration: 6,
      rampUp: 1,
      thinkTimeMs: 100,
      seed: { messages: 5_000, users: 60, channels: 12, seed: 1 },
      lagProbeIntervalMs: 500,
    };
  if (name === 'quick') return { ...c, vus: 100, duration: 60, rampUp: 5 };
  return c;
}

type Num = (v: unknown, where: string, min: number, max?: number, int?: boolean) => number;

export function normalizeSearch(s: SearchScenarioConfig, num: Num): void {
  s.vus = num(s.vus, 'search.vus', 1, 100_000);
  s.duration = num(s.duration, 'search.duration', 1, 86_400, false);
  s.rampUp = num(s.rampUp, 'search.rampUp', 0, s.duration, false);
  s.thinkTimeMs = num(s.thinkTimeMs, 'search.thinkTimeMs', 0, 600_000);
  for (const k of ['text', 'filtered', 'suggest'] as const) s.mix[k] = num(s.mix?.[k], `search.mix.${k}`, 0, 1e6, false);
  if (s.mix.text + s.mix.filtered + s.mix.suggest <= 0) throw new Error('search.mix: weights must not all be 0');
  for (const k of ['messages', 'users', 'channels'] as const)
    s.seed[k] = num(s.seed?.[k], `search.seed.${k}`, SEED_LIMITS[k].min, SEED_LIMITS[k].max);
  s.seed.seed = num(s.seed?.seed, 'search.seed.seed', 0, 0xffffffff);
  s.lagProbeIntervalMs = num(s.lagProbeIntervalMs, 'search.lagProbeIntervalMs', 50, 600_000);
  s.lagTimeoutMs = num(s.lagTimeoutMs, 'search.lagTimeoutMs', 100, 600_000);
}
