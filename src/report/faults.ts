// The report's fault-injection section (issue 15): what `npm run test:faults` measured, when a
// run directory holds its records. The fault tests append one JSON line per fault to
// `<dir>/faults.jsonl` when NCHAT_FAULTS_OUT=<dir> is set (test/faults/record.ts); `nchat report`
// reads them from the run directory like everything else, so a faults run is given to the report
// by pointing NCHAT_FAULTS_OUT at the load test's --out directory. No file: no section.
import { int, num } from './facts.js';
import { FAULTS_FILE, type Faults } from './faults-data.js';
import { table } from './md-parts.js';

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
