// Raw data as CSV (report appendix B): each scenario's per-second timeline and the 1 s resource
// samples, flattened to one column per field (counters, gauges, latency statistics, per-process
// CPU and RSS). Written next to the report in data/; the JSON originals stay in the run directory.
import type { Row, RunData } from './load.js';

function flatten(o: unknown, prefix: string, out: Record<string, unknown>): void {
  if (o !== null && typeof o === 'object' && !Array.isArray(o)) {
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (Array.isArray(o)) {
    o.forEach((v, i) => flatten(v, `${prefix}.${i}`, out));
  } else out[prefix] = o;
}

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** Rows → CSV with the union of their (flattened) fields as columns, in first-seen order. */
export function toCsv(rows: Row[]): string {
  const flat = rows.map((r) => {
    const o: Record<string, unknown> = {};
    flatten(r, '', o);
    return o;
  });
  const cols: string[] = [];
  const seen = new Set<string>();
  for (const r of flat)
    for (const k of Object.keys(r))
      if (!seen.has(k)) {
        seen.add(k);
        cols.push(k);
      }
  return `${[cols.map(cell).join(','), ...flat.map((r) => cols.map((c) => cell(r[c])).join(','))].join('\n')}\n`;
}

/** File name → CSV text for every timeline and sample stream of the run. */
export function csvFiles(run: RunData): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [sc, rows] of Object.entries(run.timelines)) if (rows.length) out[`timeline-${sc}.csv`] = toCsv(rows as unknown as Row[]);
  for (const [name, rows] of Object.entries(run.samples)) if (rows.length) out[`samples-${name}.csv`] = toCsv(rows);
  return out;
}
