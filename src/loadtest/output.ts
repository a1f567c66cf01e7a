// The run directory: everything the report generator will ever read.
//   config.json          the exact resolved config and command line
//   environment.json     CPU model, cores, memory, OS, Node, ɳChat version and backends, calibration
//   timelines/<s>.ndjson one row per second per scenario (counters, gauges, latency percentiles, worker CPU)
//   histograms/<s>.json  mergeable HDR histograms (compressed base64, values in µs) with their counts
//   samples/<k>.ndjson   resource samples (process, network, disk, node_metrics, postgres, redis)
//   server-logs/         logs of spawned nodes
//   summary.json, summary.md
import { mkdirSync, writeFileSync, appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { decodeHist } from './hist.js';

export class RunDir {
  constructor(readonly dir: string) {
    for (const d of ['', 'timelines', 'histograms', 'samples', 'server-logs']) mkdirSync(join(dir, d), { recursive: true });
  }

  path(...p: string[]): string {
    return join(this.dir, ...p);
  }

  json(rel: string, value: unknown): void {
    writeFileSync(this.path(rel), JSON.stringify(value, null, 2) + '\n');
  }

  text(rel: string, value: string): void {
    writeFileSync(this.path(rel), value);
  }

  /** Appends one NDJSON row (synchronously: samples are 1/s, and a crash keeps every row written so far). */
  ndjson(rel: string, row: unknown): void {
    appendFileSync(this.path(rel), JSON.stringify(row) + '\n');
  }

  histograms(scenario: string, hists: Record<string, string>): void {
    const out: Record<string, { encoding: string; unit: string; count: number; data: string }> = {};
    for (const [name, data] of Object.entries(hists)) {
      out[name] = { encoding: 'HdrHistogram V2 compressed, base64', unit: 'us', count: decodeHist(data).totalCount, data };
    }
    this.json(join('histograms', `${scenario}.json`), out);
  }

  exists(rel: string): boolean {
    return existsSync(this.path(rel));
  }
}

/** Default run directory name: loadtest-runs/<UTC timestamp>-<profile>. */
export function defaultRunDir(profile: string, now = new Date()): string {
  return join(
    'loadtest-runs',
    `${now
      .toISOString()
      .replace(/[:.]/g, '-')
      .replace(/-\d{3}Z$/, 'Z')}-${profile}`,
  );
}
