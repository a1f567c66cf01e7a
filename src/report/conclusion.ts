// Conclusion: the overall verdict and the readiness table, derived only from the sections'
// row statuses and the bottleneck findings. PASSED = every target measured and met; FAILED = a
// measured target missed; PARTIAL = none missed but some not measured.
import type { Finding } from './bottlenecks.js';
import type { Section } from './results.js';

export type Overall = 'PASSED' | 'FAILED' | 'PARTIAL';
export type Ready = 'ready' | 'conditions' | 'not ready' | 'not measured';

export function overall(sections: Section[]): { status: Overall; failed: number; notMeasured: number; passed: number } {
  const rows = sections.flatMap((s) => s.rows).filter((r) => r.status !== 'none');
  const failed = rows.filter((r) => r.status === 'fail').length;
  const notMeasured = rows.filter((r) => r.status === 'not measured').length;
  const passed = rows.filter((r) => r.status === 'pass').length;
  return { status: failed ? 'FAILED' : notMeasured ? 'PARTIAL' : 'PASSED', failed, notMeasured, passed };
}

export interface ReadinessRow {
  category: string;
  status: Ready;
  confidence: 'High' | 'Medium' | 'Low';
  basis: string;
}

/** One category from its section: not ready if a target failed, conditions if some not measured. */
function fromSection(category: string, s: Section | undefined, smallRun: boolean): ReadinessRow {
  if (!s?.ran) return { category, status: 'not measured', confidence: 'Low', basis: s?.why ?? 'not run' };
  const judged = s.rows.filter((r) => r.status !== 'none');
  const fail = judged.filter((r) => r.status === 'fail');
  const nm = judged.filter((r) => r.status === 'not measured');
  const status: Ready = fail.length ? 'not ready' : nm.length ? 'conditions' : 'ready';
  const confidence = smallRun ? 'Low' : nm.length ? 'Medium' : 'High';
  const basis = fail.length
    ? `missed: ${fail.map((r) => `${r.label} ${r.actual} (target ${r.target})`).join('; ')}`
    : nm.length
      ? `not measured: ${nm.map((r) => r.label).join(', ')}`
      : `${judged.length} of ${judged.length} targets met`;
  return { category, status, confidence, basis };
}

export function readiness(sections: Section[], findings: Finding[], smallRun: boolean, dbMeasured: boolean): ReadinessRow[] {
  const by = (id: string) => sections.find((s) => s.id === id);
  const rows = [
    fromSection('WebSocket Performance', by('ws'), smallRun),
    fromSection('Message Throughput', by('messages'), smallRun),
    fromSection('API Performance', by('api'), smallRun),
  ];
  const dbFindings = findings.filter((f) => /PostgreSQL|database/i.test(f.component));
  rows.push(
    dbMeasured
      ? {
          category: 'Database Scalability',
          status: dbFindings.some((f) => f.priority === 'CRITICAL') ? 'not ready' : dbFindings.length ? 'conditions' : 'ready',
          confidence: smallRun ? 'Low' : 'Medium',
          basis: dbFindings.length
            ? dbFindings.map((f) => f.name).join('; ')
            : 'no database finding (lock waits, slow queries, cache hit ratio)',
        }
      : {
          category: 'Database Scalability',
          status: 'not measured',
          confidence: 'Low',
          basis: 'the run used SQLite: PostgreSQL not exercised',
        },
  );
  rows.push(fromSection('Search Performance', by('search'), smallRun));
  rows.push(fromSection('File Upload', by('files'), smallRun));
  const crit = findings.filter((f) => f.priority === 'CRITICAL');
  const worst =
    rows.some((r) => r.status === 'not ready') || crit.length
      ? 'not ready'
      : rows.some((r) => r.status !== 'ready')
        ? 'conditions'
        : 'ready';
  rows.push({
    category: 'Overall Infrastructure',
    status: worst,
    confidence: smallRun ? 'Low' : 'Medium',
    basis: crit.length ? `critical findings: ${crit.map((f) => f.name).join('; ')}` : 'from the rows above',
  });
  return rows;
}

export function readyMark(r: Ready): string {
  return r === 'ready' ? '✅' : r === 'conditions' ? '⚠️' : r === 'not ready' ? '❌' : '⚠️ not measured';
}

export function verdict(rows: ReadinessRow[]): string {
  const o = rows[rows.length - 1].status;
  return o === 'ready' ? '✅ READY' : o === 'not ready' ? '❌ NOT READY' : '⚠️ READY WITH CONDITIONS';
}
