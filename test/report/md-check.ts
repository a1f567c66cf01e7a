// Reading report.md back in tests: its tables, the numbers in its cells, the rounding they were
// printed with, and the check that every verdict follows from its row.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';

/** Cells of every markdown table row, by the table's header. */
export function tables(text: string): { head: string[]; rows: string[][] }[] {
  const out: { head: string[]; rows: string[][] }[] = [];
  const lines = text.split('\n');
  const cells = (l: string) =>
    l
      .replace(/^\|/, '')
      .replace(/\|$/, '')
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('|') || !lines[i + 1]?.startsWith('| ---')) continue;
    const t = { head: cells(lines[i]), rows: [] as string[][] };
    for (i += 2; i < lines.length && lines[i].startsWith('|'); i++) t.rows.push(cells(lines[i]));
    out.push(t);
  }
  return out;
}

/** "1,234 ms" → 1234; null when the cell is not a number. */
export const numberIn = (cell: string): number | null => {
  const m = /^(-?[\d,]+(?:\.\d+)?)/.exec(cell.trim());
  return m ? Number(m[1].replace(/,/g, '')) : null;
};
/**
 * The rounding between a histogram and the printed cell: half of the last printed digit
 * (facts.ts num()) plus half a microsecond, because the summary stores milliseconds already
 * rounded to the µs (loadtest/hist.ts r3) and the report rounds that again. Without the second
 * term a mean of 68.94997 ms (stored 68.950) printed as 69.0 failed the check.
 */
export const tolerance = (cell: string): number => {
  const m = /^-?[\d,]+(?:\.(\d+))?/.exec(cell.trim());
  return (m?.[1] ? 0.5 * 10 ** -m[1].length : 0.5) + 0.0005;
};

/** p-th percentile (ms) of a histogram of the run, decoded here with hdr-histogram-js. */
export function exactMs(run: string, sc: string, hist: string, pct: number, stat: 'pct' | 'mean' = 'pct'): number {
  const h = JSON.parse(readFileSync(join(run, 'histograms', `${sc}.json`), 'utf8'))[hist];
  assert.ok(h, `histogram ${sc}/${hist} in the run`);
  const d = hdr.decodeFromCompressedBase64(h.data, 32, false);
  return (stat === 'mean' ? d.mean : d.getValueAtPercentile(pct)) / 1000;
}

/** The results table that follows a heading. */
export function tableAfter(text: string, heading: string): { head: string[]; rows: string[][] } {
  const at = text.indexOf(heading);
  assert.ok(at >= 0, `report has "${heading}"`);
  return tables(text.slice(at))[0];
}

/** Every Target/Actual/Status row: ✅ exactly when the actual meets the target, "not measured" only with a reason. */
export function assertVerdicts(text: string): { pass: number; fail: number; notMeasured: number } {
  const n = { pass: 0, fail: 0, notMeasured: 0 };
  for (const t of tables(text).filter((x) => x.head.join('|') === 'Metric|Target|Actual|Status')) {
    for (const [label, target, actual, status] of t.rows) {
      if (target === '-') {
        assert.equal(status, '-', `${label}: no target, no verdict`);
        continue;
      }
      if (actual.startsWith('not measured')) {
        assert.equal(status, '⚠️ not measured', `${label}: unmeasured row is marked so`);
        assert.match(actual, /^not measured: .{10,}/, `${label}: the reason is given`);
        n.notMeasured++;
        continue;
      }
      const m = /^(<=|>=|≤|≥|<|>)([\d,.]+)/.exec(target);
      assert.ok(m, `${label}: target "${target}" parses`);
      const goal = Number(m[2].replace(/,/g, ''));
      const v = numberIn(actual);
      assert.ok(v !== null, `${label}: actual "${actual}" is a number`);
      // The verdict is computed on the unrounded value; a printed value within rounding of the goal cannot decide it here.
      if (Math.abs(v - goal) <= tolerance(actual)) continue;
      const ok = m[1] === '<' || m[1] === '<=' || m[1] === '≤' ? v < goal : v > goal;
      assert.equal(status, ok ? '✅' : '❌', `${label}: ${actual} against ${target}`);
      n[ok ? 'pass' : 'fail']++;
    }
  }
  const overall = /\*\*Overall Status:\*\* (✅ PASSED|❌ FAILED|⚠️ PARTIAL)/.exec(text)?.[1];
  assert.equal(overall, n.fail ? '❌ FAILED' : n.notMeasured ? '⚠️ PARTIAL' : '✅ PASSED', 'overall status follows the rows');
  return n;
}
