// The report's fault-injection section (issue 15): what `npm run test:faults` measured, when a
// run directory holds its records. The fault tests append one JSON line per fault to
// `<dir>/faults.jsonl` when NCHAT_FAULTS_OUT=<dir> is set (test/faults/record.ts); `nchat report`
// reads them from the run directory like everything else, so a faults run is given to the report
// by pointing NCHAT_FAULTS_OUT at the load test's --out directory. No file: no section.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { int, num } from './facts.js';
import { table } from './md-parts.js';

export const FAULTS_FILE = 'faults.jsonl';

/**
 * The end-of-run counts of a fault run under chat load (test/faults/load.ts checkAll). A record
 * with counts exists only when that check passed: every acknowledged message stored exactly once at
 * its acked seq, and every client holding every stored message after its resumes.
 */
export interface FaultCounts {
  sent: number;
  acked: number;
  stored: number;
  received: number;
  expected: number;
  duplicates: number;
  outOfOrder: number;
  reconnects: number;
  unacked: number;
}

/** One line of faults.jsonl. */
export interface FaultRecord {
  fault: string;
  /** ISO time the record was written. */
  at: string;
  counts?: FaultCounts;
  /** Named figures (recovery times in ms, connection counts…), as the test measured them. */
  figures: Record<string, number | string>;
}

export interface Faults {
  records: FaultRecord[];
  /** Lines that are not records (the report says so instead of failing). */
  unreadable: number[];
}

const COUNT_KEYS: (keyof FaultCounts)[] = [
  'sent',
  'acked',
  'stored',
  'received',
  'expected',
  'duplicates',
  'outOfOrder',
  'reconnects',
  'unacked',
];

function isRecord(x: unknown): x is FaultRecord {
  const r = x as FaultRecord;
  if (!r || typeof r !== 'object' || typeof r.fault !== 'string' || typeof r.at !== 'string') return false;
  if (!r.figures || typeof r.figures !== 'object') return false;
  if (!Object.values(r.figures).every((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))) return false;
  return r.counts === undefined || COUNT_KEYS.every((k) => Number.isInteger(r.counts![k]) && r.counts![k] >= 0);
}

/** The records of a run directory, or null when it has none. */
export function readFaults(dir: string): Faults | null {
  const p = join(dir, FAULTS_FILE);
  if (!existsSync(p)) return null;
  const out: Faults = { records: [], unreadable: [] };
  readFileSync(p, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      try {
        const r = JSON.parse(line) as unknown;
        if (isRecord(r)) out.records.push(r);
        else out.unreadable.push(i + 1);
      } catch {
        out.unreadable.push(i + 1);
      }
    });
  return out;
}

export function faultsMd(faults: Faults | null): string[] {
  if (!faults) return [];
  const L = ['## Fault Injection', ''];
  L.push(
    `From \`npm run test:faults\` with NCHAT_FAULTS_OUT set to this run directory (${FAULTS_FILE}): each fault injected under a steady chat load, ` +
      'then every acknowledged message checked against the store (read back through the API) and against what every client held after its resumes. ' +
      'A row with counts is written only when that check passed; the test fails otherwise.',
    '',
  );
  const withCounts = faults.records.filter((r) => r.counts);
  if (withCounts.length) {
    L.push(
      ...table(
        [
          'Fault',
          'Sent',
          'Acked',
          'Stored',
          'Received / expected',
          'Repeats dropped',
          'Out-of-order arrivals',
          'Reconnects',
          'Never acked',
          'Recorded',
        ],
        withCounts.map((r) => {
          const c = r.counts!;
          return [
            r.fault,
            int(c.sent),
            int(c.acked),
            int(c.stored),
            `${int(c.received)} / ${int(c.expected)}`,
            int(c.duplicates),
            int(c.outOfOrder),
            int(c.reconnects),
            int(c.unacked),
            r.at,
          ];
        }),
      ),
      '',
    );
  }
  L.push('### Recovery and other figures', '');
  for (const r of faults.records) {
    const figs = Object.entries(r.figures).map(([k, v]) => `${k}: ${typeof v === 'number' ? (Number.isInteger(v) ? int(v) : num(v)) : v}`);
    L.push(`- **${r.fault}** — ${figs.length ? figs.join('; ') : 'no figures recorded'}`);
  }
  if (!faults.records.length) L.push('- no readable records');
  if (faults.unreadable.length)
    L.push('', `Lines of ${FAULTS_FILE} that are not fault records (left out): ${faults.unreadable.join(', ')}.`);
  L.push('');
  return L;
}
