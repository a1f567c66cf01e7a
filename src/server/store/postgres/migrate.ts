// Migration runner. Safe on every start and from several nodes at once:
// each migration runs in its own transaction that first takes a transaction-scoped advisory
// lock, then re-reads schema_migrations, so a node that waited sees what the winner applied.
// (CREATE TABLE IF NOT EXISTS is itself not safe under concurrency, hence also under the lock.)
import type pg from 'pg';
import { tx } from './db.js';
import { migrations } from './migrations.js';

/** Advisory lock key for migrations (any constant shared by every node). */
const MIGRATE_LOCK = 0x6e636800;

export async function migrate(pool: pg.Pool): Promise<string[]> {
  const applied: string[] = [];
  for (;;) {
    const id = await tx(pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATE_LOCK]);
      await c.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        id text COLLATE "C" PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
      const done = new Set((await c.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id));
      const next = migrations.find((m) => !done.has(m.id));
      if (!next) return undefined;
      await c.query(next.sql);
      await c.query('INSERT INTO schema_migrations (id) VALUES ($1)', [next.id]);
      return next.id;
    });
    if (!id) return applied;
    applied.push(id);
  }
}
