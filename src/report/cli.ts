// nchat report RUN_DIR [--previous RUN_DIR] [--targets FILE] [--pricing FILE] [--format md,html] [--out DIR]
// Exit status: 0 report written, 1 the report could not be built (unreadable run or files), 2 usage error.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildReport } from './index.js';

export const REPORT_HELP = `nchat report — the performance report of a load-test run

Usage:
  nchat report RUN_DIR [--previous RUN_DIR] [--targets FILE] [--pricing FILE] [--format md,html] [--out DIR]

Writes report.md, report.html (self-contained: charts inline, opens from disk, prints), charts/
(SVG and PNG) and data/ (the timelines and samples as CSV) into RUN_DIR (or --out DIR). Reads only the run directory (and the targets and
pricing files), so a report can be rebuilt later, elsewhere, from the same data.
nchat loadtest calls it at the end of every run.

Options:
  --previous RUN_DIR   run to compare with (default: the newest earlier run beside RUN_DIR; "none" for no comparison)
  --targets FILE       targets file (default: the performance-report template's targets; ours are
                       config/targets.strict.json). Format: {"name","source","targets":{"api_p95":"<200",...}}
  --pricing FILE       pricing file (default config/pricing.default.json: its source and date are in it)
  --format LIST        md, html or md,html (default md,html; charts are always written)
  --out DIR            write the report there instead of into RUN_DIR

The overall status is PASSED when every target is measured and met, FAILED when one is missed,
PARTIAL when none is missed but some are not measured. How each figure is computed: docs/REPORT.md.
Exit status: 0 report written, 1 it could not be built, 2 usage error.
`;

class Usage extends Error {}

export function parseReportArgs(argv: string[]): {
  dir: string;
  previous?: string | null;
  targetsFile?: string;
  pricingFile?: string;
  formats: ('md' | 'html')[];
  outDir?: string;
} {
  let dir: string | undefined;
  const o: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const [k, v] = eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, argv[++i]];
      if (!['--previous', '--targets', '--pricing', '--format', '--out'].includes(k)) throw new Usage(`unknown option ${k}`);
      if (v === undefined || v.startsWith('--')) throw new Usage(`${k} needs a value`);
      o[k] = v;
    } else if (dir === undefined) dir = a;
    else throw new Usage(`unexpected argument "${a}" (one RUN_DIR)`);
  }
  if (!dir) throw new Usage('RUN_DIR is required');
  if (!existsSync(join(dir, 'summary.json'))) throw new Usage(`${dir} is not a load-test run directory (no summary.json)`);
  const formats = (o['--format'] ?? 'md,html').split(',').map((s) => s.trim());
  for (const f of formats) if (f !== 'md' && f !== 'html') throw new Usage(`--format: "${f}" is not md or html`);
  for (const k of ['--targets', '--pricing'] as const) if (o[k] && !existsSync(o[k])) throw new Usage(`${k}: ${o[k]} does not exist`);
  const prev = o['--previous'];
  if (prev && prev !== 'none' && !existsSync(join(prev, 'summary.json')))
    throw new Usage(`--previous: ${prev} is not a load-test run directory (no summary.json)`);
  return {
    dir,
    previous: prev === undefined ? undefined : prev === 'none' ? null : prev,
    targetsFile: o['--targets'],
    pricingFile: o['--pricing'],
    formats: formats as ('md' | 'html')[],
    outDir: o['--out'],
  };
}

export async function reportCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(REPORT_HELP);
    return 0;
  }
  let p: ReturnType<typeof parseReportArgs>;
  try {
    p = parseReportArgs(argv);
  } catch (e) {
    if (e instanceof Usage) {
      process.stderr.write(`nchat report: ${e.message}\n\n${REPORT_HELP}`);
      return 2;
    }
    throw e;
  }
  try {
    const r = await buildReport(p.dir, p);
    const out = p.outDir ?? p.dir;
    const main = r.files.filter((f) => !f.startsWith('charts/') && !f.startsWith('data/')).map((f) => join(out, f));
    const csv = r.files.filter((f) => f.startsWith('data/')).length;
    const size = r.htmlBytes !== null ? `; report.html ${Math.round(r.htmlBytes / 1024)} KB` : '';
    process.stdout.write(
      `report: ${main.join(', ')}; ${r.charts} charts (SVG + PNG) in ${join(out, 'charts')}; ${csv} CSV files in ${join(out, 'data')}; status against the targets: ${r.status}${size}\n`,
    );
    return 0;
  } catch (e) {
    process.stderr.write(`nchat report: ${(e as Error).message}\n`);
    return 1;
  }
}
