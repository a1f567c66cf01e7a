// The fault records of a run directory (issue 15): their shape and the reader. Kept apart from the
// rendering (faults.ts) so load.ts can read them without importing the report's formatting (which
// imports load.ts). Written by test/faults/record.ts when NCHAT_FAULTS_OUT is set.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

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
