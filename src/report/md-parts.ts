// Markdown building blocks shared by the report's sections.
import { type M, fmt } from './facts.js';
import { mark, type ResultRow } from './results.js';

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function table(head: string[], rows: (string | number)[][]): string[] {
  return [
    `| ${head.map(esc).join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map((c) => esc(String(c))).join(' | ')} |`),
  ];
}

export function resultTable(rows: ResultRow[]): string[] {
  return table(
    ['Metric', 'Target', 'Actual', 'Status'],
    rows.map((r) => [r.label, r.target, r.actual, mark(r.status)]),
  );
}

export function bullets(items: string[], none: string): string[] {
  return items.length ? items.map((i) => `- ${i}`) : [`- ${none}`];
}

export function f(m: M, unit: string): string {
  return fmt(m, unit);
}

/** "1 h 20 min", "36.1 s". */
export function duration(sec: number | null | undefined): string {
  if (typeof sec !== 'number') return 'not measured';
  if (sec < 120) return `${Math.round(sec * 10) / 10} s`;
  const m = Math.round(sec / 60);
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min`;
}

/** A scenario's own extra tables (summary.json tables), as they are. */
export function genericTable(rows: Record<string, unknown>[]): string[] {
  if (!rows.length) return [];
  const cols = Object.keys(rows[0]).filter((c) => c !== 'type' && c !== 'unit');
  return table(
    cols,
    rows.map((r) =>
      cols.map((c) =>
        r[c] === null || r[c] === undefined ? 'not measured' : typeof r[c] === 'object' ? JSON.stringify(r[c]) : String(r[c]),
      ),
    ),
  );
}

/** A size given in GB: in MB below 0.1 GB so small sizes do not print as 0.00 GB. */
export function size(m: M): string {
  if (m.v === null) return fmt(m, 'GB');
  return m.v < 0.1 ? `${fmt({ v: m.v * 1024 }, 'MB')}` : fmt(m, 'GB');
}
