// Cost: the infrastructure the run used and the projected one, priced from a pricing file
// (config/pricing.default.json by default; its source and date are printed with every cost).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Facts } from './facts.js';
import type { Projection } from './model.js';

export interface Instance {
  type: string;
  vcpu: number;
  memoryGB: number;
  hourly: number;
}
export interface Pricing {
  name: string;
  source: string;
  date: string;
  currency: string;
  hoursPerMonth: number;
  app: Instance[];
  database: Instance[];
  cache: Instance[];
  loadBalancer: { type: string; hourly: number };
  storage: { type: string; perGBMonth: number };
  network: { type: string; perGB: number };
  file: string;
}

export const DEFAULT_PRICING = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'config', 'pricing.default.json');

export function loadPricing(file = DEFAULT_PRICING): Pricing {
  let j: Pricing;
  try {
    j = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`pricing file ${file}: ${(e as Error).message}`);
  }
  for (const k of ['app', 'database', 'cache'] as const) {
    if (!Array.isArray(j[k]) || !j[k].length)
      throw new Error(`pricing file ${file}: "${k}" must be a non-empty list of {type, vcpu, memoryGB, hourly}`);
    for (const i of j[k])
      if (typeof i.type !== 'string' || !(i.vcpu > 0) || !(i.memoryGB > 0) || !(i.hourly >= 0))
        throw new Error(`pricing file ${file}: bad ${k} entry ${JSON.stringify(i)}`);
  }
  if (!j.loadBalancer || !j.storage || !j.network) throw new Error(`pricing file ${file}: loadBalancer, storage and network are required`);
  return { ...j, hoursPerMonth: j.hoursPerMonth || 730, file };
}

export interface CostLine {
  component: string;
  type: string;
  qty: string;
  monthly: number | null;
  note?: string;
}

const monthly = (p: Pricing, hourly: number) => hourly * p.hoursPerMonth;
/** Smallest instance with at least `vcpu` cores and `mem` GB. */
export function pick(list: Instance[], vcpu: number, mem: number): Instance {
  const sorted = [...list].sort((a, b) => a.hourly - b.hourly);
  return sorted.find((i) => i.vcpu >= vcpu && i.memoryGB >= mem) ?? sorted[sorted.length - 1];
}

/** The test's topology priced as production: one app instance per node (the machine's size), PostgreSQL and Redis when used. */
export function currentCost(f: Facts, p: Pricing): CostLine[] {
  const env = f.run.environment ?? {};
  const cores = Number(env.cores) || 2;
  const nodes = Math.max(1, (f.s.target?.nodes ?? []).length);
  const store = String(f.s.target?.health?.[0]?.store ?? '');
  const broker = String(f.s.target?.health?.[0]?.broker ?? '');
  const app = pick(p.app, cores, 2);
  const lines: CostLine[] = [
    {
      component: 'Application',
      type: app.type,
      qty: String(nodes),
      monthly: monthly(p, app.hourly) * nodes,
      note: `${nodes} node(s); the test machine had ${cores} cores`,
    },
  ];
  if (store === 'postgres') {
    const db = pick(p.database, 2, 4);
    lines.push({ component: 'Database', type: db.type, qty: '1', monthly: monthly(p, db.hourly) });
  } else lines.push({ component: 'Database', type: 'SQLite (embedded)', qty: '-', monthly: 0, note: 'inside the application process' });
  if (broker === 'redis') {
    const c = p.cache[0];
    lines.push({ component: 'Cache', type: c.type, qty: '1', monthly: monthly(p, c.hourly) });
  } else lines.push({ component: 'Cache', type: 'none (in-process fan-out)', qty: '-', monthly: 0 });
  lines.push({ component: 'Search', type: 'in the database (FTS)', qty: '-', monthly: 0, note: 'no separate search service' });
  lines.push(
    nodes > 1
      ? {
          component: 'Load Balancer',
          type: p.loadBalancer.type,
          qty: '1',
          monthly: monthly(p, p.loadBalancer.hourly),
          note: 'hourly charge only (LCUs not measured)',
        }
      : { component: 'Load Balancer', type: 'none (one node)', qty: '-', monthly: 0 },
  );
  lines.push({
    component: 'Storage',
    type: p.storage.type,
    qty: '20 GB',
    monthly: 20 * p.storage.perGBMonth,
    note: 'assumed 20 GB volume (the run does not size storage)',
  });
  lines.push({
    component: 'Network',
    type: p.network.type,
    qty: '-',
    monthly: null,
    note: 'not measured: the run was on loopback, no internet egress',
  });
  return lines;
}

export function total(lines: CostLine[]): number {
  return lines.reduce((s, l) => s + (l.monthly ?? 0), 0);
}

/** Projected topology priced: app instances for the nodes, PostgreSQL sized by its fitted CPU, Redis and a load balancer. */
export function projectedCost(pr: Projection, p: Pricing): { lines: CostLine[]; total: number | null; why?: string } {
  if (pr.nodes === null) return { lines: [], total: null, why: `not projected: ${pr.why.join('; ')}` };
  const app = p.app[0];
  const instances = Math.ceil(pr.nodes / app.vcpu);
  const memPer = pr.appMemGB === null ? 0 : pr.appMemGB / instances;
  const appI = pick(p.app, app.vcpu, memPer * 1.25);
  const lines: CostLine[] = [
    {
      component: 'Application',
      type: appI.type,
      qty: String(instances),
      monthly: monthly(p, appI.hourly) * instances,
      note: `${pr.nodes} node process(es), one per vCPU`,
    },
  ];
  let why: string | undefined;
  if (pr.dbCores !== null) {
    const db = pick(p.database, Math.max(2, Math.ceil(pr.dbCores)), 4);
    lines.push({
      component: 'Database',
      type: db.type,
      qty: '1',
      monthly: monthly(p, db.hourly),
      note: `${pr.dbCores.toFixed(2)} cores at the budget`,
    });
  } else {
    lines.push({ component: 'Database', type: 'not sized', qty: '-', monthly: null, note: 'no PostgreSQL cost per message in this run' });
    why = 'database not priced (run on PostgreSQL to fit its cost per message)';
  }
  if (pr.nodes > 1) {
    lines.push({
      component: 'Cache',
      type: p.cache[p.cache.length - 1].type,
      qty: '1',
      monthly: monthly(p, p.cache[p.cache.length - 1].hourly),
      note: 'Redis fan-out between nodes',
    });
    lines.push({ component: 'Load Balancer', type: p.loadBalancer.type, qty: '1', monthly: monthly(p, p.loadBalancer.hourly) });
  }
  return { lines, total: total(lines), why };
}
