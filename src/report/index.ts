// nchat report: reads a run directory, analyzes it and writes report.md, report.html and
// charts/ (SVG + PNG) into it (or into --out). Reads only the run directory (and the targets
// and pricing files), so a report can be rebuilt later, elsewhere, from the same data.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { analyze } from './analyze.js';
import { render, chartSpecs, type Rendered } from './charts.js';
import { DEFAULT_PRICING, loadPricing } from './cost.js';
import { csvFiles } from './csv.js';
import { faultsMd } from './faults.js';
import { toHtml } from './html.js';
import { loadRun } from './load.js';
import { bottlenecksMd, scalability, system } from './render-analysis.js';
import { appendices, comparison, conclusion, cost } from './render-end.js';
import { header, methodology, tests } from './render-results.js';
import { defaultTargets, loadTargets } from './targets.js';

export interface ReportOptions {
  previous?: string | null;
  targetsFile?: string;
  pricingFile?: string;
  formats?: ('md' | 'html')[];
  outDir?: string;
}

export interface ReportResult {
  files: string[];
  status: string;
  charts: number;
  htmlBytes: number | null;
}

export async function buildReport(runDir: string, o: ReportOptions = {}): Promise<ReportResult> {
  const run = loadRun(runDir);
  const targets = o.targetsFile ? loadTargets(o.targetsFile) : defaultTargets();
  const pricing = loadPricing(o.pricingFile ?? DEFAULT_PRICING);
  const a = analyze(run, targets, pricing, o.previous === undefined ? undefined : o.previous);
  const out = resolve(o.outDir ?? run.dir);
  const formats = o.formats ?? ['md', 'html'];
  // charts/ is the report's own: cleared so a rebuilt report holds no chart of an older version.
  rmSync(join(out, 'charts'), { recursive: true, force: true });
  mkdirSync(join(out, 'charts'), { recursive: true });
  const charts: Rendered[] = [];
  for (const c of chartSpecs(a.f)) charts.push(await render(c));
  const files: string[] = [];
  for (const c of charts) {
    writeFileSync(join(out, 'charts', `${c.id}.svg`), c.svg);
    writeFileSync(join(out, 'charts', `${c.id}.png`), c.png);
    files.push(`charts/${c.id}.svg`, `charts/${c.id}.png`);
  }
  // Raw data as CSV (appendix B); data/ is the report's own, rebuilt each time.
  rmSync(join(out, 'data'), { recursive: true, force: true });
  mkdirSync(join(out, 'data'), { recursive: true });
  const csvs = csvFiles(run);
  for (const [name, text] of Object.entries(csvs)) {
    writeFileSync(join(out, 'data', name), text);
    files.push(`data/${name}`);
  }
  const ref = (section: string) => charts.filter((c) => c.section === section).flatMap((c) => [`![${c.title}](charts/${c.id}.svg)`, '']);
  const md = [
    ...header(a),
    ...methodology(a),
    ...tests(a, ref),
    ...system(a, ref),
    ...faultsMd(run.faults),
    ...bottlenecksMd(a),
    ...scalability(a),
    ...cost(a),
    ...comparison(a),
    ...conclusion(a),
    ...appendices(a, { csv: Object.keys(csvs), charts: charts.map((c) => c.id) }),
  ].join('\n');
  if (formats.includes('md')) {
    writeFileSync(join(out, 'report.md'), md);
    files.push('report.md');
  }
  let htmlBytes: number | null = null;
  if (formats.includes('html')) {
    const bySrc = new Map(charts.map((c) => [`charts/${c.id}.svg`, c.svg]));
    const html = toHtml(md, `ɳChat performance report ${a.reportId}`, (src) => bySrc.get(src) ?? null);
    writeFileSync(join(out, 'report.html'), html);
    htmlBytes = Buffer.byteLength(html);
    files.push('report.html');
  }
  return { files, status: a.overall.status, charts: charts.length, htmlBytes };
}
