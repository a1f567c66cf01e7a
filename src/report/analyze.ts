// Everything the report says, computed once from the run directory: the renderers (md, html)
// only format this object.
import { basename } from 'node:path';
import { VERSION } from '../server/version.js';
import { bottlenecks, type RuleResult } from './bottlenecks.js';
import { type CompareRow, compare, findPrevious, loadPrevious, setupDiff } from './compare.js';
import { overall, readiness, type ReadinessRow } from './conclusion.js';
import { currentCost, type CostLine, type Pricing, projectedCost } from './cost.js';
import { Facts } from './facts.js';
import type { RunData } from './load.js';
import { type Costs, fitCosts, project, type Projection, type Workload, workloadOf } from './model.js';
import { issues, observations } from './observations.js';
import { apiSection, endpointRows, type EndpointRow, messagesSection, quickMetrics, RowMaker, type Section, wsSection } from './results.js';
import { filesSection, searchSection } from './results-extra.js';
import type { Targets } from './targets.js';

export const PROJECTION_USERS = [20_000, 50_000, 100_000];

export interface Analysis {
  f: Facts;
  reportId: string;
  generatedAt: string;
  version: string;
  targets: Targets;
  pricing: Pricing;
  quick: Section;
  sections: Section[];
  endpoints: EndpointRow[];
  observations: Record<string, string[]>;
  issues: string[];
  rules: RuleResult;
  costs: Costs;
  workload: Workload;
  projections: { p: Projection; cost: ReturnType<typeof projectedCost> }[];
  current: CostLine[];
  previous: { dir: string | null; rows: CompareRow[] | null; why?: string; differs?: string[] };
  overall: ReturnType<typeof overall>;
  readiness: ReadinessRow[];
  smallRun: boolean;
}

export function analyze(run: RunData, targets: Targets, pricing: Pricing, previousDir?: string | null): Analysis {
  const f = new Facts(run);
  const rm = new RowMaker(targets);
  const quick = quickMetrics(f, rm);
  const sections = [wsSection(f, rm), messagesSection(f, rm), apiSection(f, rm), filesSection(f, rm), searchSection(f, rm)];
  const rules = bottlenecks(f, targets, [quick, ...sections]);
  const costs = fitCosts(f);
  const workload = workloadOf(f);
  const prevDir = previousDir === undefined ? findPrevious(run.dir) : previousDir;
  const prev = loadPrevious(prevDir);
  const maxUsers = f.gauge('ws', 'ws_max_concurrent').v ?? 0;
  const smallRun = maxUsers < 0.5 * targets.byKey.concurrent_users.value;
  return {
    f,
    reportId: `${f.s.run?.id ?? basename(run.dir)}`,
    generatedAt: new Date().toISOString(),
    version: String(f.s.target?.health?.[0]?.version ?? VERSION),
    targets,
    pricing,
    quick,
    sections,
    endpoints: endpointRows(f),
    observations: observations(f),
    issues: issues(f),
    rules,
    costs,
    workload,
    projections: PROJECTION_USERS.map((u) => {
      const p = project(costs, workload, u);
      return { p, cost: projectedCost(p, pricing) };
    }),
    current: currentCost(f, pricing),
    previous: prev.facts
      ? { dir: prev.dir, rows: compare(f, prev.facts), differs: setupDiff(f, prev.facts) }
      : { dir: prev.dir, rows: null, why: prev.why },
    overall: overall([quick, ...sections]),
    readiness: readiness(sections, rules.findings, smallRun, Boolean(f.s.resources?.postgresStats)),
    smallRun,
  };
}
