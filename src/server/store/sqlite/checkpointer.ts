// WAL checkpoints on a worker thread.
//
// Why: a checkpoint copies WAL pages into the database file and fsyncs it. Run by SQLite's
// auto-checkpoint, that happens inside whichever commit crosses the threshold, i.e. on the event
// loop, which then stalls on the disk. Measured on the 2-core dev machine, the send path ran
// about twice as fast with checkpoints moved off the loop. The worker opens its own connection
// and runs PASSIVE checkpoints (never blocks writers or readers) on an interval; the main
// connection keeps a high auto-checkpoint threshold as a safety net in case the worker falls
// behind or dies.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Plain CommonJS evaluated in the worker, so it needs neither tsx nor a build step.
const workerSource = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => {
  try { checkpoint.get(); } catch { /* busy or closing: the next tick retries */ }
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  try { db.close(); } catch {}
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Stops the worker and waits for it to close its connection. */
  stop(): Promise<void>;
}

export function startCheckpointer(file: string, intervalMs: number): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(workerSource, { eval: true, workerData: { file, driver, intervalMs } });
  // An unhandled 'error' event would crash the process; the main connection's auto-checkpoint
  // keeps the WAL bounded without the worker.
  worker.on('error', () => {});
  worker.unref();
  let stopped: Promise<void> | undefined;
  return {
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        const timeout = setTimeout(() => void worker.terminate().finally(resolve), 2000);
        worker.once('exit', () => {
          clearTimeout(timeout);
          resolve();
        });
        worker.postMessage('stop');
      })),
  };
}
