// The Grafana dashboard shipped for /metrics (ops/grafana/nchat-dashboard.json) is importable
// JSON and every metric its queries name is one a real ɳChat server serves on /metrics (a
// renamed metric would leave an empty panel).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startTestServerWithMetrics } from '../helpers/server.js';

const dash = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'ops', 'grafana', 'nchat-dashboard.json'), 'utf8'));
let srv: Awaited<ReturnType<typeof startTestServerWithMetrics>>['srv'];
let port: number;
before(async () => {
  ({ srv, metricsPort: port } = await startTestServerWithMetrics('sqlite'));
});
after(() => srv?.stop());

test('the dashboard is importable: panels with Prometheus targets, a data-source input, unique ids', () => {
  assert.equal(typeof dash.title, 'string');
  assert.ok(dash.__inputs.some((i: { type: string; pluginId: string }) => i.type === 'datasource' && i.pluginId === 'prometheus'));
  const ids = dash.panels.map((p: { id: number }) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  const charts = dash.panels.filter((p: { type: string }) => p.type === 'timeseries');
  assert.ok(charts.length >= 15);
  for (const p of charts)
    assert.ok(p.targets.length > 0 && p.targets.every((t: { expr: string }) => t.expr.length > 0), `${p.title}: queries`);
});

test('every metric a panel queries is served by a real server on /metrics', async () => {
  await srv.owner.api.get('/api/channels'); // one request, so the HTTP series exist
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const served = new Set(text.split('\n').flatMap((l) => (l.startsWith('# TYPE ') ? [l.split(' ')[2]] : [])));
  const used = new Set<string>();
  for (const p of dash.panels)
    for (const t of p.targets ?? [])
      for (const m of (t.expr as string).match(/\b(nchat|process|nodejs)_[a-z0-9_]+/g) ?? [])
        used.add(m.replace(/_(bucket|sum|count)$/, ''));
  assert.ok(used.size >= 15, `metrics queried: ${[...used].join(', ')}`);
  const missing = [...used].filter((m) => !served.has(m));
  assert.deepEqual(missing, [], 'queried but not served');
});
