// The metric catalog (src/loadtest/known-metrics.ts), which threshold validation reads, against
// what the scenarios actually emit: every scenario's summarize() is run on an aggregate and the
// names and types of the metrics it returns must be exactly those declared. A scenario that adds
// or renames a metric without declaring it fails here, not in a run that silently checks nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIOS, type Aggregate } from '../../src/loadtest/registry.js';
import { KNOWN_METRICS, API_ENDPOINTS, findMetric } from '../../src/loadtest/known-metrics.js';
import { profileConfig } from '../../src/loadtest/config.js';

function aggregate(): Aggregate {
  const counters: Record<string, number> = {};
  for (const decls of Object.values(KNOWN_METRICS)) for (const k of Object.keys(decls)) counters[k] = 1;
  // Endpoint latency metrics appear for endpoints that were called.
  for (const ep of API_ENDPOINTS) counters[`api_reqs:${ep}`] = 1;
  return { counters, gauges: {}, gaugeMax: { ws_open: 3, api_vus: 2 }, hists: {}, seconds: 10, extras: [], interrupted: false };
}

test('every scenario emits exactly the metrics it declares, with the declared types', () => {
  const cfg = profileConfig('smoke');
  assert.deepEqual(Object.keys(KNOWN_METRICS).sort(), Object.keys(SCENARIOS).sort(), 'one declaration per registered scenario');
  for (const [name, sc] of Object.entries(SCENARIOS)) {
    const s = sc.summarize(aggregate(), { payloads: [], notes: [], info: { channelSize: 10, notMeasured: {} } }, cfg);
    const emitted = Object.fromEntries(Object.entries(s.metrics).map(([k, m]) => [k, m.type]));
    const declared = Object.fromEntries(Object.entries(KNOWN_METRICS[name]).map(([k, d]) => [k, d.type]));
    assert.deepEqual(emitted, declared, `scenario ${name}: emitted metrics (left) vs known-metrics.ts (right)`);
  }
});

test("a counter's basis names metrics of the same scenario", () => {
  for (const [scenario, decls] of Object.entries(KNOWN_METRICS)) {
    for (const [k, d] of Object.entries(decls)) {
      for (const b of d.of ?? []) assert.equal(findMetric(b)?.scenario, scenario, `${k}: basis ${b} is a metric of ${scenario}`);
    }
  }
  assert.equal(findMetric('ws_msgs_missing')?.decl.of?.[0], 'ws_msgs_expected');
  assert.equal(findMetric('toString'), null, 'no prototype name passes as a metric');
});

test("the API endpoints are the config's API mix keys", () => {
  assert.deepEqual([...API_ENDPOINTS].sort(), Object.keys(profileConfig('full').api.mix).sort());
});
