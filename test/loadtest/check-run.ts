// Checks a load-test run directory's data (not a test file itself; used by smoke.test.ts).
// Returns a list of problems; empty means the data is consistent:
//  - every requested scenario is in summary.json, and the run files exist
//  - messages received = messages sent × online recipients (every member is online in `messages`)
//  - no latency sample from a failed request: histogram counts = successful request counts
//  - the histograms stored in histograms/*.json have the same counts as the summary's counters
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { decodeHist } from '../../src/loadtest/hist.js';

type M = { type: string; count?: number; rate?: number | null; value?: number | null };

export function checkRun(dir: string, scenarios: string[]): { problems: string[]; summary: any } {
  const problems: string[] = [];
  const expect = (cond: boolean, what: string) => {
    if (!cond) problems.push(what);
  };
  for (const f of ['config.json', 'environment.json', 'summary.json', 'summary.md', 'samples/process.ndjson'])
    expect(existsSync(join(dir, f)), `missing ${f}`);
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  expect(s.run.errors.length === 0, `run errors: ${s.run.errors.join(' | ').slice(0, 500)}`);
  for (const name of scenarios) {
    expect(!!s.scenarios[name], `scenario ${name} missing from summary.json`);
    expect(existsSync(join(dir, 'timelines', `${name}.ndjson`)), `timeline of ${name} missing`);
  }
  const met = (sc: string, k: string): M => s.scenarios[sc]?.metrics?.[k] ?? { type: 'missing' };
  const c = (sc: string, k: string) => s.scenarios[sc]?.info?.counters?.[k] ?? 0;
  const stored = (sc: string): Record<string, number> => {
    const p = join(dir, 'histograms', `${sc}.json`);
    if (!existsSync(p)) return {};
    const h = JSON.parse(readFileSync(p, 'utf8')) as Record<string, { count: number; data: string }>;
    return Object.fromEntries(
      Object.entries(h).map(([k, v]) => {
        expect(decodeHist(v.data).totalCount === v.count, `${sc}/${k}: stored count differs from its data`);
        return [k, v.count];
      }),
    );
  };
  const hc = (sc: string, name: string) => stored(sc)[name] ?? 0;
  if (s.scenarios.messages) {
    const sent = met('messages', 'msg_sent').count!;
    const size = s.scenarios.messages.info.channelSize;
    expect(sent > 0, 'messages: nothing sent');
    expect(c('messages', 'msg_setup_connect_errors') === 0, 'messages: some members could not connect');
    expect(
      met('messages', 'msg_receipts').count === sent * size,
      `messages: received ${met('messages', 'msg_receipts').count} ≠ sent ${sent} × ${size} online recipients`,
    );
    expect(met('messages', 'msg_expected_receipts').count === sent * size, 'messages: expected receipts ≠ sent × recipients');
    expect(met('messages', 'msg_receipts_missing').count === 0, 'messages: receipts missing');
    expect(hc('messages', 'msg_send') === sent, `messages: send histogram ${hc('messages', 'msg_send')} ≠ accepted sends ${sent}`);
    expect(hc('messages', 'msg_send_rest') + hc('messages', 'msg_send_ws') === sent, 'messages: per-transport histograms ≠ accepted sends');
    expect(hc('messages', 'msg_e2e') === met('messages', 'msg_receipts').count, 'messages: e2e histogram ≠ receipts');
    expect(met('messages', 'msg_e2e').count === hc('messages', 'msg_e2e'), 'messages: summary count ≠ stored histogram');
    expect(met('messages', 'msg_delivered').count === sent, 'messages: not every accepted message delivered');
  }
  if (s.scenarios.ws) {
    const exp = met('ws', 'ws_msgs_expected').count!;
    const got = met('ws', 'ws_msgs_received').count!;
    expect(met('ws', 'ws_sessions').count! > 0, 'ws: no session');
    expect(
      got + met('ws', 'ws_msgs_recipient_left').count! + met('ws', 'ws_msgs_missing').count! === exp,
      'ws: received + left + missing ≠ expected',
    );
    expect(met('ws', 'ws_msgs_missing').count === 0, 'ws: receipts missing');
    expect(hc('ws', 'ws_connecting') === met('ws', 'ws_sessions').count, 'ws: connect histogram ≠ successful connects');
    expect(hc('ws', 'ws_msg_e2e') === got, 'ws: e2e histogram ≠ receipts');
    expect(hc('ws', 'ws_churn_connecting') === met('ws', 'ws_churn_connects').count, 'ws: churn histogram ≠ churn connects');
    expect(hc('ws', 'ws_reconnecting') === met('ws', 'ws_reconnects').count, 'ws: reconnect histogram ≠ reconnects');
  }
  if (s.scenarios.api) {
    const reqs = met('api', 'api_reqs').count!;
    const errs = met('api', 'api_errors').count!;
    expect(reqs > 0, 'api: no request');
    expect(
      hc('api', 'api_req_duration') === reqs - errs,
      `api: latency samples ${hc('api', 'api_req_duration')} ≠ successful requests ${reqs - errs}`,
    );
    for (const row of s.scenarios.api.tables.endpoints) {
      expect(
        hc('api', `api_req_duration:${row.key}`) === row.requests - row.errors,
        `api: ${row.key} latency samples ≠ successful requests`,
      );
    }
  }
  return { problems, summary: s };
}
