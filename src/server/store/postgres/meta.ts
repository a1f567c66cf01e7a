import type pg from 'pg';
import type { MetaStore } from '../store.js';

export class PostgresMeta implements MetaStore {
  constructor(private readonly pool: pg.Pool) {}

  async get(key: string): Promise<string | undefined> {
    const r = await this.pool.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key]);
    return r.rows[0]?.value;
  }

  /**
   * First writer wins across nodes. Two statements on purpose: when the insert loses to a
   * concurrent one, ON CONFLICT waits for it to commit, and only a new statement's snapshot
   * (READ COMMITTED) can see the winner's value.
   */
  async setIfAbsent(key: string, value: string): Promise<string> {
    const ins = await this.pool.query<{ value: string }>(
      'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING value',
      [key, value],
    );
    if (ins.rows[0]) return ins.rows[0].value;
    const cur = await this.get(key);
    if (cur === undefined) throw new Error(`meta key ${key} vanished during setIfAbsent`);
    return cur;
  }
}
