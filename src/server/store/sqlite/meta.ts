import type { MetaStore } from '../store.js';
import { lazy, SqliteModule } from './db.js';

export class SqliteMeta extends SqliteModule implements MetaStore {
  private readonly q = lazy(() => ({
    get: this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
    insert: this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING'),
  }));

  async get(key: string): Promise<string | undefined> {
    return this.q().get.get(key) as string | undefined;
  }

  async setIfAbsent(key: string, value: string): Promise<string> {
    // Insert-or-keep then read, in one transaction: the value returned is the one stored.
    return this.db
      .transaction(() => {
        this.q().insert.run(key, value);
        return this.q().get.get(key) as string;
      })
      .immediate();
  }
}
