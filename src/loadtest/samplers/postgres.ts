// PostgreSQL collector: pg_stat_database deltas (transactions, cache hits, deadlocks),
// pg_stat_activity by state, lock waits, and pg_stat_statements top/slow queries over the
// run. pg_stat_statements needs shared_preload_libraries; without it the run records why
// it was not collected instead of leaving the section empty.
import pg from 'pg';

export interface PgSample {
  xactPerSec: number;
  rollbackPerSec: number;
  cacheHitRatio: number | null;
  deadlocks: number;
  blksReadPerSec: number;
  tupInsertedPerSec: number;
  tupFetchedPerSec: number;
  active: number;
  idle: number;
  idleInTx: number;
  total: number;
  lockWaits: number;
  locks: number;
  queriesPerSec: number | null;
}

interface DbCounters {
  xact_commit: number;
  xact_rollback: number;
  blks_read: number;
  blks_hit: number;
  deadlocks: number;
  tup_inserted: number;
  tup_fetched: number;
}

export class PostgresSampler {
  private client: pg.Client;
  private prev: DbCounters | null = null;
  private prevCalls: number | null = null;
  private prevAt = 0;
  private first: DbCounters | null = null;
  statementsAvailable = false;
  statementsReason = '';
  private startStatements = new Map<string, { calls: number; total: number }>();
  info: Record<string, unknown> = {};
  /** Server pids of this database's backends plus the shared background processes, from the last sample. */
  pids: number[] = [];

  constructor(readonly url: string) {
    this.client = new pg.Client({ connectionString: url, application_name: 'nchat-loadtest-sampler' });
    this.client.on('error', () => undefined);
  }

  async start(): Promise<void> {
    await this.client.connect();
    const v = await this.client.query<{ server_version: string }>('SHOW server_version');
    const mc = await this.client.query<{ max_connections: string }>('SHOW max_connections');
    const spl = await this.client.query<{ shared_preload_libraries: string }>('SHOW shared_preload_libraries');
    const av = await this.client.query<{ autovacuum: string }>('SHOW autovacuum');
    this.info = {
      version: v.rows[0].server_version,
      maxConnections: Number(mc.rows[0].max_connections),
      sharedPreloadLibraries: spl.rows[0].shared_preload_libraries,
      autovacuum: av.rows[0].autovacuum,
    };
    if (!/pg_stat_statements/.test(spl.rows[0].shared_preload_libraries)) {
      this.statementsReason = 'not collected: pg_stat_statements not in shared_preload_libraries';
    } else {
      try {
        await this.client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
        this.startStatements = await this.statements();
        this.statementsAvailable = true;
      } catch (e) {
        this.statementsReason = `not collected: ${(e as Error).message}`;
      }
    }
    await this.sample();
  }

  /**
   * What about the server makes its figures unlike a production server's. autovacuum off (this
   * machine's CI configuration has it, 2026-12-02): no table of the run is vacuumed or analyzed,
   * so a fresh database has no planner statistics for the whole run and none of its pages become
   * all-visible (no index-only scans).
   */
  notices(): string[] {
    return this.info.autovacuum === 'off'
      ? [
          "postgres: autovacuum is off on this server: no table is vacuumed or analyzed during the run, so the run's fresh database has no planner statistics and no all-visible pages (a production server runs autovacuum); the search scenario's seeded workspace is vacuumed and analyzed once when it is seeded",
        ]
      : [];
  }

  private async statements(): Promise<Map<string, { calls: number; total: number; query?: string }>> {
    const r = await this.client.query<{ queryid: string; query: string; calls: string; total: number }>(
      `SELECT queryid::text AS queryid, query, calls::text AS calls, total_exec_time AS total FROM pg_stat_statements s
       JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database()`,
    );
    return new Map(r.rows.map((x) => [x.queryid, { calls: Number(x.calls), total: Number(x.total), query: x.query }]));
  }

  async sample(): Promise<PgSample | null> {
    const now = performance.now();
    const db = await this.client.query<Record<keyof DbCounters, string>>(
      `SELECT xact_commit, xact_rollback, blks_read, blks_hit, deadlocks, tup_inserted, tup_fetched FROM pg_stat_database WHERE datname = current_database()`,
    );
    const cur = Object.fromEntries(Object.entries(db.rows[0]).map(([k, v]) => [k, Number(v)])) as unknown as DbCounters;
    const act = await this.client.query<{ state: string | null; n: string }>(
      `SELECT state, count(*)::text AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() GROUP BY state`,
    );
    const pids = await this.client.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() OR backend_type <> 'client backend'`,
    );
    this.pids = pids.rows.map((r) => Number(r.pid));
    const locks = await this.client.query<{ waiting: string; total: string }>(
      `SELECT count(*) FILTER (WHERE NOT granted)::text AS waiting, count(*)::text AS total FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE d.datname = current_database()`,
    );
    let calls: number | null = null;
    if (this.statementsAvailable) {
      const r = await this.client.query<{ c: string }>(
        `SELECT coalesce(sum(calls),0)::text AS c FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database()`,
      );
      calls = Number(r.rows[0].c);
    }
    const prev = this.prev;
    const dt = (now - this.prevAt) / 1000;
    this.prev = cur;
    this.prevAt = now;
    if (!this.first) this.first = cur;
    const prevCalls = this.prevCalls;
    this.prevCalls = calls;
    if (!prev || dt <= 0) return null;
    const st = (s: string) => Number(act.rows.find((r) => r.state === s)?.n ?? 0);
    const hits = cur.blks_hit - prev.blks_hit;
    const reads = cur.blks_read - prev.blks_read;
    return {
      xactPerSec: (cur.xact_commit - prev.xact_commit) / dt,
      rollbackPerSec: (cur.xact_rollback - prev.xact_rollback) / dt,
      cacheHitRatio: hits + reads > 0 ? hits / (hits + reads) : null,
      deadlocks: cur.deadlocks - prev.deadlocks,
      blksReadPerSec: reads / dt,
      tupInsertedPerSec: (cur.tup_inserted - prev.tup_inserted) / dt,
      tupFetchedPerSec: (cur.tup_fetched - prev.tup_fetched) / dt,
      active: st('active'),
      idle: st('idle'),
      idleInTx: st('idle in transaction'),
      total: act.rows.reduce((s, r) => s + Number(r.n), 0),
      lockWaits: Number(locks.rows[0].waiting),
      locks: Number(locks.rows[0].total),
      queriesPerSec: calls !== null && prevCalls !== null ? (calls - prevCalls) / dt : null,
    };
  }

  /** Totals over the run and pg_stat_statements top (by total time) and slow (mean > 100 ms) queries. */
  async finish(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = { ...this.info };
    try {
      const db = await this.client.query<Record<keyof DbCounters, string>>(
        `SELECT xact_commit, xact_rollback, blks_read, blks_hit, deadlocks, tup_inserted, tup_fetched FROM pg_stat_database WHERE datname = current_database()`,
      );
      const end = Object.fromEntries(Object.entries(db.rows[0]).map(([k, v]) => [k, Number(v)])) as unknown as DbCounters;
      if (this.first) {
        const hits = end.blks_hit - this.first.blks_hit;
        const reads = end.blks_read - this.first.blks_read;
        out.run = {
          commits: end.xact_commit - this.first.xact_commit,
          rollbacks: end.xact_rollback - this.first.xact_rollback,
          deadlocks: end.deadlocks - this.first.deadlocks,
          cacheHitRatio: hits + reads > 0 ? hits / (hits + reads) : null,
        };
      }
      if (this.statementsAvailable) {
        const now = await this.statements();
        const rows = [...now]
          .map(([id, s]) => {
            const b = this.startStatements.get(id);
            const calls = s.calls - (b?.calls ?? 0);
            const total = s.total - (b?.total ?? 0);
            return {
              queryid: id,
              query: (s.query ?? '').replace(/\s+/g, ' ').slice(0, 300),
              calls,
              totalMs: Math.round(total * 100) / 100,
              meanMs: calls ? Math.round((total / calls) * 1000) / 1000 : null,
            };
          })
          .filter((r) => r.calls > 0);
        out.statements = {
          top: [...rows].sort((a, b) => b.totalMs - a.totalMs).slice(0, 10),
          slow: rows
            .filter((r) => (r.meanMs ?? 0) > 100)
            .sort((a, b) => (b.meanMs ?? 0) - (a.meanMs ?? 0))
            .slice(0, 10),
          totalCalls: rows.reduce((s, r) => s + r.calls, 0),
        };
      } else {
        out.statements = this.statementsReason;
      }
    } catch (e) {
      out.error = (e as Error).message;
    }
    await this.client.end().catch(() => undefined);
    return out;
  }
}
