// nchat loadtest --find-capacity: a capacity search. Runs the configured load test in steps,
// multiplying the WebSocket users (stage targets scale with them) and the message rate by
// `factor` each step, until a step fails its thresholds (the profile's, or --threshold's) or
// the step budget ends. Each step is a full run directory (OUT/step-<n>/); OUT/capacity.json
// records every step and the result: Current Max = the last step that held every threshold.
// The report (src/report) reads capacity.json beside or above a run directory for its
// "Current Capacity" table; a search that never failed gives a lower bound, said as such.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyPatch, type LoadtestConfig } from './config.js';
import type { ThresholdVerdict } from './metrics.js';
import { type RunOptions, runLoadtest } from './runner.js';

export interface CapacityOptions {
  steps: number;
  factor: number;
}

export interface CapacityStep {
  step: number;
  dir: string;
  users: number;
  rate: number;
  status: string;
  /** Thresholds that failed (empty when the step held). */
  failed: { metric: string; expression: string; actual: number | null; reason?: string }[];
  achieved: {
    maxConcurrent: number | null;
    rateAchieved: number | null;
    msgE2eP95: number | null;
    connectP95: number | null;
    apiP95: number | null;
  };
}

export interface CapacityResult {
  schema: 'nchat-capacity/1';
  startedAt: string;
  endedAt: string;
  factor: number;
  stepsBudget: number;
  steps: CapacityStep[];
  /** Last step that held every threshold; null when the first failed. */
  currentMax: { users: number; rate: number; step: number; achievedUsers: number | null; achievedRate: number | null } | null;
  /** True when a step failed (the max is bracketed); false when the budget ended first (the max is a lower bound). */
  bracketed: boolean;
  reason: string;
}

/** The config of step i (0-based): users and rate × factor^i, stage targets scaled with the users. */
export function stepConfig(base: LoadtestConfig, i: number, factor: number): LoadtestConfig {
  const k = factor ** i;
  const users = Math.max(1, Math.round(base.ws.users * k));
  return applyPatch(base, {
    ws: { users, stages: base.ws.stages.map((s) => ({ duration: s.duration, target: Math.min(users, Math.round(s.target * k)) })) },
    messages: { rate: Math.max(1, Math.round(base.messages.rate * k)) },
  });
}

// biome-ignore lint/suspicious/noExplicitAny: summary.json's scenario metrics are read by name
const metricOf = (s: any, sc: string, name: string, key: string): number | null => {
  const v = s.scenarios?.[sc]?.metrics?.[name]?.[key];
  return typeof v === 'number' ? v : null;
};

export async function findCapacity(o: RunOptions, c: CapacityOptions): Promise<{ exitCode: number; result: CapacityResult }> {
  mkdirSync(o.outDir, { recursive: true });
  const started = new Date().toISOString();
  const steps: CapacityStep[] = [];
  let reason = '';
  for (let i = 0; i < c.steps; i++) {
    if (o.signal.aborted) {
      reason = 'interrupted (Ctrl-C)';
      break;
    }
    const cfg = stepConfig(o.cfg, i, c.factor);
    const dir = join(o.outDir, `step-${i + 1}`);
    o.log(`capacity: step ${i + 1}/${c.steps}: ${cfg.ws.users} users, ${cfg.messages.rate} msg/s → ${dir}`);
    const r = await runLoadtest({ ...o, cfg, outDir: dir, argv: [...o.argv, `(capacity step ${i + 1})`] });
    // biome-ignore lint/suspicious/noExplicitAny: summary.json
    const s = r.summary as any;
    const failed = ((s.thresholds ?? []) as ThresholdVerdict[])
      .filter((t) => t.verdict === 'fail')
      .map((t) => ({ metric: t.metric, expression: t.expression, actual: t.actual, reason: t.reason }));
    steps.push({
      step: i + 1,
      dir: `step-${i + 1}`,
      users: cfg.ws.users,
      rate: cfg.messages.rate,
      status: s.run.status,
      failed,
      achieved: {
        maxConcurrent: metricOf(s, 'ws', 'ws_max_concurrent', 'value'),
        rateAchieved: metricOf(s, 'messages', 'msg_rate_achieved', 'value'),
        msgE2eP95: metricOf(s, 'messages', 'msg_e2e', 'p95'),
        connectP95: metricOf(s, 'ws', 'ws_connecting', 'p95'),
        apiP95: metricOf(s, 'api', 'api_req_duration', 'p95'),
      },
    });
    if (s.run.status !== 'PASSED') {
      reason =
        s.run.status === 'INTERRUPTED'
          ? 'interrupted (Ctrl-C)'
          : `step ${i + 1} failed: ${failed.map((f) => `${f.metric} ${f.expression} (actual ${f.actual ?? 'not measured'})`).join('; ') || (s.run.errors ?? []).join('; ').slice(0, 300)}`;
      break;
    }
  }
  const passed = steps.filter((s) => s.status === 'PASSED');
  const last = passed[passed.length - 1];
  const bracketed = steps.length > 0 && steps[steps.length - 1].status === 'FAILED';
  if (!reason)
    reason = `every one of the ${steps.length} steps held its thresholds: the capacity is at least the last step (raise --capacity-steps)`;
  const result: CapacityResult = {
    schema: 'nchat-capacity/1',
    startedAt: started,
    endedAt: new Date().toISOString(),
    factor: c.factor,
    stepsBudget: c.steps,
    steps,
    currentMax: last
      ? {
          users: last.users,
          rate: last.rate,
          step: last.step,
          achievedUsers: last.achieved.maxConcurrent,
          achievedRate: last.achieved.rateAchieved,
        }
      : null,
    bracketed,
    reason,
  };
  writeFileSync(join(o.outDir, 'capacity.json'), `${JSON.stringify(result, null, 2)}\n`);
  o.log(
    `capacity: ${result.currentMax ? `Current Max ${result.currentMax.users} users / ${result.currentMax.rate} msg/s (step ${result.currentMax.step})` : 'no step held its thresholds'}; ${reason}`,
  );
  // A search that found the limit did its job; it fails only when nothing passed or it was interrupted.
  return { exitCode: result.currentMax && !o.signal.aborted ? 0 : 1, result };
}
