// A search reader thread (search-readers.ts starts them): its own read-only connection to the
// database file and the same SqliteSearch code as the main thread. WAL lets readers run beside
// the writer, and a read sees every transaction committed before it started, so a message is
// searchable here as soon as its send has committed on the main connection — and indexed: the
// main thread indexes every queued message before it hands a search over (search-indexer.ts).
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { AppError } from '../../errors.js';
import { SqliteSearch } from './search.js';

interface Call {
  id: number;
  op: 'search' | 'suggestTerms';
  args: unknown[];
}

const db = new Database((workerData as { file: string }).file, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('cache_size = -32000');
const search = new SqliteSearch(db);

parentPort!.postMessage({ ready: true });
parentPort!.on('message', (m: Call | 'stop') => {
  if (m === 'stop') {
    db.close();
    parentPort!.close();
    return;
  }
  try {
    const value =
      m.op === 'search'
        ? search.searchSync(...(m.args as Parameters<SqliteSearch['searchSync']>))
        : search.suggestTermsSync(...(m.args as Parameters<SqliteSearch['suggestTermsSync']>));
    parentPort!.postMessage({ id: m.id, value });
  } catch (err) {
    const e = err instanceof AppError ? { code: err.code, message: err.message } : { message: String((err as Error)?.message ?? err) };
    parentPort!.postMessage({ id: m.id, error: e });
  }
});
