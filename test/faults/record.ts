// Fault records for the report (not a test file): with NCHAT_FAULTS_OUT=<dir>, each fault test's
// result line is also appended to <dir>/faults.jsonl (src/report/faults.ts reads it; give the load
// test's --out directory to put a faults section into that run's report). Without it, nothing is written.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FAULTS_FILE, type FaultCounts, type FaultRecord } from '../../src/report/faults-data.js';

export function recordFault(fault: string, figures: Record<string, number | string>, counts?: FaultCounts): void {
  const dir = process.env.NCHAT_FAULTS_OUT;
  if (!dir) return;
  const rec: FaultRecord = { fault, at: new Date().toISOString(), figures, ...(counts ? { counts: { ...counts } } : {}) };
  mkdirSync(dir, { recursive: true });
  // One appendFileSync per record: one line each, whole, even with test files running in parallel.
  appendFileSync(join(dir, FAULTS_FILE), `${JSON.stringify(rec)}\n`);
}
