// The `npm audit` policy of scripts/audit.mjs, run as CI runs it (a child process), on saved
// reports in npm's audit report format v2: high/critical advisories in runtime dependencies fail,
// dev-only ones are listed and pass, and an unusable advisory service is a warning that passes.
// (The live audit needs the npm registry's advisory endpoint; CI runs it in .ci/run.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const vuln = (name: string, severity: string, title = `${name} advisory`) => ({
  name,
  severity,
  isDirect: true,
  via: [{ source: 1, name, dependency: name, title, url: `https://github.com/advisories/GHSA-${name}`, severity, range: '<9' }],
  effects: [],
  range: '<9',
  nodes: [`node_modules/${name}`],
  fixAvailable: true,
});
const report = (vulns: ReturnType<typeof vuln>[]) => ({
  auditReportVersion: 2,
  vulnerabilities: Object.fromEntries(vulns.map((v) => [v.name, v])),
  metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, total: vulns.length }, dependencies: {} },
});

describe('scripts/audit.mjs policy', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nchat-audit-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const run = async (runtime: unknown, all: unknown) => {
    const a = join(dir, 'runtime.json');
    const b = join(dir, 'all.json');
    await writeFile(a, typeof runtime === 'string' ? runtime : JSON.stringify(runtime));
    await writeFile(b, typeof all === 'string' ? all : JSON.stringify(all));
    const r = spawnSync(process.execPath, ['scripts/audit.mjs', '--from', a, b], { encoding: 'utf8' });
    return { code: r.status, out: r.stdout };
  };

  for (const severity of ['high', 'critical'])
    it(`a ${severity} advisory in a runtime dependency fails (exit 1) and names it`, async () => {
      const r = await run(report([vuln('fastify', severity)]), report([vuln('fastify', severity)]));
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, new RegExp(`FAIL ${severity}\\s+fastify`));
      assert.match(r.out, /audit: FAILED/);
    });

  it('low and moderate runtime advisories are listed and pass', async () => {
    const r = await run(report([vuln('pino', 'moderate'), vuln('ws', 'low')]), report([vuln('pino', 'moderate'), vuln('ws', 'low')]));
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /note moderate\s+pino/);
    assert.match(r.out, /note low\s+ws/);
  });

  it('a critical advisory only in a dev dependency is listed and passes', async () => {
    const r = await run(report([]), report([vuln('vite', 'critical')]));
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /dev-only dependencies: 1 advisories/);
    assert.match(r.out, /dev\s+critical\s+vite/);
    assert.match(r.out, /audit: passed/);
  });

  it('an advisory service that answers with an error (a 405 from a registry mirror) → WARNING and pass', async () => {
    const err = {
      message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
      statusCode: 405,
      error: { summary: '', detail: '' },
    };
    const r = await run(err, err);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^WARNING: dependency audit skipped — .*405 Method Not Allowed/m);
  });

  it('no JSON at all (npm missing, network down) → WARNING and pass', async () => {
    const r = await run('npm ERR! network request failed', 'npm ERR! network request failed');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^WARNING: dependency audit skipped/m);
  });
});
