// "Current Capacity" from a --find-capacity search (capacity.json, src/loadtest/capacity.ts):
// Current Max = the last step that held every threshold; headroom = (Current Max − tested) ÷
// Current Max. Without a search, Current Max is "not measured (no --find-capacity run)".
import { type Facts, int, num } from './facts.js';
import { table } from './md-parts.js';

export const NO_SEARCH = 'not measured (no --find-capacity run)';

interface Step {
  step: number;
  dir: string;
  users: number;
  rate: number;
  status: string;
  failed: { metric: string; expression: string; actual: number | null }[];
  achieved: {
    maxConcurrent: number | null;
    rateAchieved: number | null;
    msgE2eP95: number | null;
    connectP95: number | null;
    apiP95: number | null;
  };
}

export function capacityRows(f: Facts): { users: [string, string]; rate: [string, string]; lines: string[] } {
  const c = f.run.capacity;
  const tU = f.gauge('ws', 'ws_max_concurrent').v;
  const tR = f.gauge('messages', 'msg_rate_achieved').v;
  if (!c) return { users: [NO_SEARCH, 'not measured'], rate: [NO_SEARCH, 'not measured'], lines: [] };
  const steps = (c.steps ?? []) as Step[];
  const max = c.currentMax as { users: number; rate: number; step: number } | null;
  const next = steps.find((s) => s.step === (max?.step ?? 0) + 1);
  const bound =
    c.bracketed && next
      ? ` (step ${next.step} at ${int(next.users)} users / ${int(next.rate)} msg/s failed)`
      : ' (lower bound: no step failed)';
  const boundR = c.bracketed && next ? ` (step ${next.step} at ${int(next.rate)} msg/s failed)` : ' (lower bound: no step failed)';
  const head = (m: number | null, t: number | null) =>
    m !== null && t !== null && m > 0 ? `${num(((m - t) / m) * 100)}%` : 'not measured';
  const lines = [
    `Capacity search (${f.run.capacityDir}/capacity.json): users and message rate × ${c.factor} per step, at most ${c.stepsBudget} steps; ${c.reason}.`,
    '',
    ...table(
      [
        'Step',
        'Users',
        'Rate (msg/s)',
        'Status',
        'Max connections',
        'Accepted msg/s',
        'Message p95 (ms)',
        'Connect p95 (ms)',
        'Failed thresholds',
      ],
      steps.map((s) => [
        String(s.step),
        int(s.users),
        int(s.rate),
        s.status,
        s.achieved.maxConcurrent === null ? 'not measured' : int(s.achieved.maxConcurrent),
        s.achieved.rateAchieved === null ? 'not measured' : num(s.achieved.rateAchieved),
        s.achieved.msgE2eP95 === null ? 'not measured' : num(s.achieved.msgE2eP95),
        s.achieved.connectP95 === null ? 'not measured' : num(s.achieved.connectP95),
        s.failed.length ? s.failed.map((x) => `${x.metric} ${x.expression} (${x.actual ?? 'not measured'})`).join('; ') : 'none',
      ]),
    ),
    '',
  ];
  if (!max)
    return { users: ['below the first step: it failed', 'not measured'], rate: ['below the first step: it failed', 'not measured'], lines };
  return {
    users: [`${int(max.users)}${bound}`, head(max.users, tU)],
    rate: [`${int(max.rate)}${boundR}`, head(max.rate, tR)],
    lines,
  };
}
