// Bottlenecks: rules over the run's evidence. Each rule looks at measured figures and, only when
// they show a problem, yields a finding with impact, component, symptoms (the figures), root
// cause, action and priority. Rules that looked and found nothing are listed too, so the reader
// sees what was checked; a rule whose evidence the run lacks says "not evaluated" and why.
import { type Facts, int, num } from './facts.js';
import type { Section } from './results.js';
import { soakSection } from './soak.js';
import { components, gcRows, slowConsumerRows } from './system.js';
import { meets, type Targets, targetText } from './targets.js';
import { nodeSeries } from './timeline.js';

export type Priority = 'CRITICAL' | 'HIGH' | 'MEDIUM';
export interface Finding {
  name: string;
  priority: Priority;
  impact: 'High' | 'Medium' | 'Low';
  component: string;
  symptoms: string;
  rootCause: string;
  action: string;
  /** When the action should happen: immediate (1 week), short-term (1 month), long-term (3 months). */
  horizon: 'immediate' | 'short-term' | 'long-term';
  effort: 'Low' | 'Medium' | 'High';
}

export interface RuleResult {
  findings: Finding[];
  /** Rule → "no finding: …" or "not evaluated: …". */
  checked: string[];
}

export function bottlenecks(f: Facts, t: Targets, sections: Section[]): RuleResult {
  const findings: Finding[] = [];
  const checked: string[] = [];
  const failed = sections.flatMap((s) =>
    s.rows.filter((r) => r.status === 'fail').map((r) => `${s.title.replace(/:.*/, '')} ${r.label} ${r.actual} (target ${r.target})`),
  );
  const latencyFailed = failed.filter((x) => /Latency|Time|Connection \(p|p9/.test(x));

  // 1. Application CPU: the first node to spend ≥ 90% of its core, and when.
  const comps = components(f, t);
  const hot = comps.filter((c) => c.component.startsWith('Application') && c.cpu && (c.cpu.p95 ?? 0) >= 90);
  if (hot.length) {
    const firsts = hot.map((c) => {
      const id = c.component.match(/node\d+/)?.[0] ?? 'node0';
      const proc = f.run.samples.process ?? [];
      const first = proc.find((r) => ((r[id] as { cpu?: number } | undefined)?.cpu ?? 0) >= 90);
      const phase = first
        ? (f.s.phases ?? []).find((p: { from: number; to: number }) => Number(first.ts) >= p.from && Number(first.ts) <= p.to + 1000)
        : null;
      return `${id} p95 ${num(c.cpu!.p95!)}% / max ${num(c.cpu!.max!)}% of one core, first ≥ 90% ${phase ? `during "${phase.name}"` : 'outside the scenarios (setup)'}`;
    });
    findings.push({
      name: 'Application node CPU at its single-core limit',
      priority: latencyFailed.length ? 'CRITICAL' : 'HIGH',
      impact: latencyFailed.length ? 'High' : 'Medium',
      component: 'ɳChat application process',
      symptoms: `${firsts.join('; ')}${latencyFailed.length ? `; latency targets failed: ${latencyFailed.join('; ')}` : ''}`,
      rootCause:
        "Node.js runs the server's JavaScript on one thread: at ~100% of a core every request and delivery queues behind the others",
      action:
        'Run more nodes behind the load balancer with Redis fan-out (--spawn postgres --redis --nodes N measures it); profile the busiest phase with node --cpu-prof before adding hardware',
      horizon: latencyFailed.length ? 'immediate' : 'short-term',
      effort: 'Medium',
    });
  } else
    checked.push(
      `Application CPU: no finding (no node reached 90% of a core at p95: ${comps
        .filter((c) => c.component.startsWith('Application'))
        .map((c) => `${c.component} ${c.cpu?.p95 ?? 'n/a'}%`)
        .join(', ')})`,
    );

  // 2. Event-loop delay.
  const loops = Object.entries(
    (f.s.resources?.eventLoop ?? {}) as Record<string, { delayMs?: { p99?: number | null; max?: number | null } }>,
  );
  const slowLoops = loops.filter(([, l]) => (l.delayMs?.p99 ?? 0) > 100);
  if (slowLoops.length) {
    const worst = slowLoops.map(([n, l]) => `${n} p99 ≤ ${num(l.delayMs!.p99!)} ms, max ${num(l.delayMs!.max ?? 0)} ms`).join('; ');
    const peaks = nodeSeries(f, 'messages').concat(nodeSeries(f, 'ws'));
    const peak = peaks.flatMap((n) => n.loopMaxMs.map((p) => ({ ...p, node: n.node }))).sort((a, b) => b.v - a.v)[0];
    findings.push({
      name: 'Event-loop delay',
      priority: slowLoops.some(([, l]) => (l.delayMs?.p99 ?? 0) > 500) ? 'CRITICAL' : 'HIGH',
      impact: 'High',
      component: 'ɳChat application process (event loop)',
      symptoms: `${worst} (10 ms is idle: the monitor's resolution)${peak ? `; worst 1 s sample ${num(peak.v)} ms on ${peak.node}` : ''}`,
      rootCause:
        'synchronous work (JSON, fan-out writes, SQLite calls on the main thread) holds the loop; every socket on the node waits that long',
      action:
        'find the blocking work with node --cpu-prof in the worst phase; move it off the loop or batch it; add nodes if it is plain volume',
      horizon: 'immediate',
      effort: 'Medium',
    });
  } else if (loops.length)
    checked.push(
      `Event-loop delay: no finding (p99 ≤ 100 ms on every node: ${loops.map(([n, l]) => `${n} ${l.delayMs?.p99 ?? 'n/a'} ms`).join(', ')})`,
    );
  else checked.push('Event-loop delay: not evaluated (no /metrics samples)');

  // 3. Generator / machine saturation (the test's own limit).
  const gen = f.s.generator ?? {};
  const workerHot = (gen.warnings ?? []).some((w: string) => /^GENERATOR SATURATED/.test(w));
  const others = gen.workers?.others ?? { avg: 0 };
  const othersHot = (others.avg ?? 0) >= 25;
  if (gen.saturated || gen.machineSaturated) {
    findings.push({
      name: workerHot
        ? 'Load generator saturated'
        : othersHot
          ? 'Machine shared with other work during the run'
          : 'Generator and server share a saturated machine',
      priority: 'HIGH',
      impact: 'Medium',
      component: 'test setup (load generator and host)',
      symptoms: (gen.warnings ?? []).join('; '),
      rootCause: workerHot
        ? 'generator workers at their core limit: they cannot offer more load and their sends leave late'
        : othersHot
          ? `processes outside the run used ${num(others.avg)}% of a core on average on this ${f.run.environment?.cores ?? '?'}-core machine: generator and server waited for CPU, so latencies include that wait`
          : `generator and server run on the same ${f.run.environment?.cores ?? '?'} cores: the latencies include waiting for CPU, and the generator cannot offer more load`,
      action: othersHot
        ? 'repeat the run on a quiet machine (nothing else running), then with the generator on its own machine (nchat loadtest --target URL)'
        : 'run the generator on its own machine (nchat loadtest --target URL) for figures that are the server’s alone',
      horizon: 'immediate',
      effort: 'Low',
    });
  } else checked.push('Generator saturation: no finding (workers and machine below 90%)');

  // 4. Message loss and backpressure.
  const del = f.ratePct('messages', 'msg_delivery_success');
  const drop = f.count('messages', 'msg_dropped_inflight_cap');
  if ((del.v !== null && del.v < 99) || (drop.v ?? 0) > 0) {
    findings.push({
      name: 'Messages not delivered to every recipient',
      priority: 'CRITICAL',
      impact: 'High',
      component: 'send path and fan-out',
      symptoms: `delivery success ${del.v === null ? 'not measured' : `${num(del.v)}%`}; ${int(drop.v ?? 0)} sends dropped at the in-flight cap; ${int(f.count('messages', 'msg_receipts_missing').v ?? 0)} receipts missing`,
      rootCause: 'the server accepted messages faster than it delivered them (or refused them): deliveries queued past the drain window',
      action: 'find the saturated component above (CPU, event loop, database) and scale it; check slow-consumer closes in the server logs',
      horizon: 'immediate',
      effort: 'Medium',
    });
  } else
    checked.push(
      `Message delivery: ${del.v === null ? `not evaluated (${del.why})` : `no finding (${num(del.v)}% delivered, none dropped)`}`,
    );

  // 5. PostgreSQL: lock waits, slow queries, cache hit ratio.
  const pg = f.s.resources?.postgresStats;
  if (pg) {
    const lw = pg.lockWaits?.max ?? 0;
    if (lw > 0)
      findings.push({
        name: 'PostgreSQL lock waits',
        priority: lw >= 5 ? 'HIGH' : 'MEDIUM',
        impact: lw >= 5 ? 'Medium' : 'Low',
        component: 'PostgreSQL',
        symptoms: `up to ${int(lw)} backends waiting on a lock in one sample (avg ${num(pg.lockWaits.avg ?? 0)})`,
        rootCause: 'concurrent writes to the same rows (channel sequence counters, read markers)',
        action:
          'read the waiting statements in pg_stat_activity during the phase; shorten the transaction or move the counter out of the row',
        horizon: 'short-term',
        effort: 'Medium',
      });
    else checked.push('PostgreSQL lock waits: no finding (0 waiting in every sample)');
    const st = typeof f.s.postgres === 'object' ? f.s.postgres?.statements : null;
    const slow = Array.isArray(st?.slow) ? st.slow : [];
    if (slow.length)
      findings.push({
        name: 'Slow queries (mean > 100 ms)',
        priority: 'HIGH',
        impact: 'Medium',
        component: 'PostgreSQL',
        symptoms: slow
          .slice(0, 3)
          .map((q: { query: string; meanMs: number; calls: number }) => `${q.query.slice(0, 80)} — ${num(q.meanMs)} ms × ${int(q.calls)}`)
          .join('; '),
        rootCause: 'a plan without the right index, or a query waiting on locks (see EXPLAIN ANALYZE)',
        action: 'EXPLAIN (ANALYZE, BUFFERS) each statement on a copy of the data; add the index or rewrite',
        horizon: 'immediate',
        effort: 'Medium',
      });
    else checked.push(`Slow queries: ${typeof st === 'string' ? `not evaluated (${st})` : 'no finding (no statement averaged > 100 ms)'}`);
    const hit = pg.cacheHitRatio?.avg;
    if (typeof hit === 'number' && hit < 0.99)
      findings.push({
        name: 'PostgreSQL buffer cache misses',
        priority: 'MEDIUM',
        impact: 'Low',
        component: 'PostgreSQL',
        symptoms: `cache hit ratio ${num(hit * 100)}% (average of 1 s samples)`,
        rootCause: 'the working set does not fit shared_buffers, or a scan reads cold pages',
        action: 'raise shared_buffers toward 25% of RAM; check for sequential scans in pg_stat_user_tables',
        horizon: 'long-term',
        effort: 'Low',
      });
  } else checked.push(`PostgreSQL rules: not evaluated (${typeof f.s.postgres === 'string' ? f.s.postgres : 'no PostgreSQL samples'})`);

  // 6. Memory.
  const memHot = comps.filter((c) => c.memLevel === 'warning' || c.memLevel === 'critical');
  for (const c of memHot)
    findings.push({
      name: `Memory high: ${c.component}`,
      priority: c.memLevel === 'critical' ? 'CRITICAL' : 'HIGH',
      impact: 'High',
      component: c.component,
      symptoms: `max RSS ${num(c.memMaxGB ?? 0)} GB = ${num(c.memPct ?? 0)}% of the machine`,
      rootCause: 'per-connection and per-message state grows with the load',
      action: 'take a heap snapshot at the peak; cap per-socket queues; add nodes',
      horizon: 'immediate',
      effort: 'Medium',
    });
  if (!memHot.length) checked.push('Memory: no finding (every component below the WARNING threshold)');

  // 7. An endpoint much slower than the rest.
  const eps = (f.s.scenarios?.api?.tables?.endpoints ?? []).filter((e: { p95: number | null }) => typeof e.p95 === 'number') as {
    endpoint: string;
    p95: number;
  }[];
  if (eps.length >= 3) {
    const sorted = [...eps].sort((a, b) => b.p95 - a.p95);
    const rest = sorted.slice(1).map((e) => e.p95);
    const med = rest.sort((a, b) => a - b)[Math.floor((rest.length - 1) / 2)];
    if (sorted[0].p95 >= 2 * med && sorted[0].p95 - med >= 5)
      findings.push({
        name: `Slowest endpoint: ${sorted[0].endpoint}`,
        priority: 'MEDIUM',
        impact: 'Low',
        component: `HTTP API (${sorted[0].endpoint})`,
        symptoms: `p95 ${num(sorted[0].p95)} ms against a median of ${num(med)} ms for the other endpoints`,
        rootCause:
          sorted[0].endpoint === 'Auth Refresh'
            ? 'token refresh hashes and writes a session row per call'
            : 'more work per call than the others (query or payload size)',
        action: 'profile that route alone (bench/ or a --scenarios api run with its weight raised)',
        horizon: 'long-term',
        effort: 'Low',
      });
    else checked.push(`Endpoint spread: no finding (slowest ${sorted[0].endpoint} p95 ${num(sorted[0].p95)} ms vs median ${num(med)} ms)`);
  }

  // 8. Failed targets not explained by a rule above.
  if (failed.length && !findings.some((x) => x.priority === 'CRITICAL'))
    findings.push({
      name: 'Targets missed',
      priority: 'HIGH',
      impact: 'Medium',
      component: 'see the rows',
      symptoms: failed.join('; '),
      rootCause:
        'no resource rule above explains it: most often the run was smaller than the target (scale targets), or latency from a shared machine',
      action: 'rerun at the target scale (--profile full) on a machine of its own before deciding',
      horizon: 'immediate',
      effort: 'Low',
    });
  // 9. GC time (issue 12): a node spending more than the gc_time target of its wall time in GC.
  const gc = gcRows(f, t);
  const gcLimit = targetText(t.byKey.gc_time, '%');
  const gcHot = gc.filter((r) => r.pct !== null && !meets(t.byKey.gc_time, r.pct));
  if (gcHot.length)
    findings.push({
      name: 'Garbage collection takes a large share of the node',
      priority: gcHot.some((r) => (r.pct ?? 0) >= 2 * t.byKey.gc_time.value) ? 'HIGH' : 'MEDIUM',
      impact: 'Medium',
      component: 'ɳChat application process (V8 heap)',
      symptoms: gcHot
        .map(
          (r) =>
            `${r.node} ${num(r.pct!)}% of wall time in GC (${num(r.seconds!)} s; ${Object.entries(r.byKind)
              .map(([k, v]) => `${k} ${num(v)} s`)
              .join(', ')}; worst 1 s interval ${num(r.maxIntervalPct ?? 0)}%) against ${gcLimit}`,
        )
        .join('; '),
      rootCause:
        'allocation rate: per-event objects and strings (JSON per recipient, per-message arrays) promote to the old space; major GCs stop the loop',
      action:
        'take an allocation profile (node --heap-prof) in the busiest phase; encode shared frames once, reuse buffers; raise --max-semi-space-size if minor GCs dominate',
      horizon: 'short-term',
      effort: 'Medium',
    });
  else if (gc.some((r) => r.pct !== null))
    checked.push(
      `GC time: no finding (${gc.map((r) => (r.pct === null ? `${r.node} ${r.why}` : `${r.node} ${num(r.pct)}% of wall time`)).join(', ')}; target ${gcLimit})`,
    );
  else checked.push(`GC time: not evaluated (${gc.map((r) => r.why ?? 'not measured').join('; ')})`);

  // 10. Slow consumers (issue 12): recipients the server closed for a full send buffer.
  const sc = slowConsumerRows(f, t);
  const scHot = sc.filter((r) => r.closes !== null && !meets(t.byKey.slow_consumer_closes, r.closes));
  if (scHot.length)
    findings.push({
      name: 'Slow consumers closed by the server',
      priority: 'HIGH',
      impact: 'Medium',
      component: 'WebSocket fan-out (per-socket send buffer)',
      symptoms: `${scHot.map((r) => `${r.node} closed ${int(r.closes!)} connection(s) for a full send buffer`).join('; ')} (target ${targetText(t.byKey.slow_consumer_closes, 'count')})`,
      rootCause:
        'recipients (or the generator reading for them) did not drain their sockets as fast as the node wrote: the buffer passed NCHAT_WS_MAX_BUFFERED, the socket was closed 4000 and resumed',
      action:
        'check whether the generator was saturated (then it is the test), else batch events per tick and lower per-recipient bytes; raise NCHAT_WS_MAX_BUFFERED only with the memory it costs',
      horizon: 'short-term',
      effort: 'Medium',
    });
  else if (sc.some((r) => r.closes !== null))
    checked.push(
      `Slow-consumer closes: no finding (${sc.map((r) => `${r.node} ${r.closes === null ? r.why : int(r.closes)}`).join(', ')})`,
    );
  else checked.push(`Slow-consumer closes: not evaluated (${sc.map((r) => r.why ?? 'not measured').join('; ')})`);

  // 11. Soak (issue 15): memory that grows or latency that drifts over the hold.
  const sk = soakSection(f, t);
  if (sk) {
    const bad = sk.rows.filter((r) => r.status === 'fail');
    if (bad.length)
      findings.push({
        name: 'Not flat over the soak',
        priority: bad.some((r) => /Server heap|Server RSS/.test(r.label)) ? 'HIGH' : 'MEDIUM',
        impact: 'Medium',
        component: bad.some((r) => /Generator/.test(r.label)) ? 'ɳChat and/or the load generator' : 'ɳChat application process',
        symptoms: bad.map((r) => `${r.label} ${r.actual} (target ${r.target})`).join('; '),
        rootCause:
          'state that grows with time rather than with load (caches, maps keyed per message or per connection never pruned), or GC falling behind',
        action:
          'take two heap snapshots of the growing process some minutes apart (node --heapsnapshot-signal=SIGUSR2) and compare them by constructor; bound what accumulates',
        horizon: 'short-term',
        effort: 'Medium',
      });
    else
      checked.push(
        sk.window
          ? `Soak flatness: no finding (${sk.rows.map((r) => `${r.label} ${r.actual}`).join('; ')})`
          : `Soak flatness: not evaluated (${sk.why})`,
      );
  }
  return { findings, checked };
}
