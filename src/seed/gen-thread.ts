// Main-thread side of gen-worker.ts: an async iterator over the worker's batches.
import { Worker } from 'node:worker_threads';
import type { BulkFinish, BulkMessage } from '../server/store/bulk.js';
import type { GenWorkerData, GenWorkerMessage } from './gen-worker.js';

/** Batches generated ahead of the writer (memory: ~2 × batch size messages). */
const AHEAD = 2;

export interface GenThread {
  batches(): AsyncGenerator<BulkMessage[]>;
  /** The finish rows, available once batches() is exhausted. */
  finish(): BulkFinish;
}

export function startGenThread(data: GenWorkerData): GenThread {
  const worker = new Worker(new URL('./gen-boot.mjs', import.meta.url), { workerData: data });
  const queue: GenWorkerMessage[] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let finish: BulkFinish | undefined;
  worker.on('message', (m: GenWorkerMessage) => {
    queue.push(m);
    wake?.();
  });
  worker.on('error', (e) => {
    failure = e;
    wake?.();
  });
  worker.on('exit', (code) => {
    if (code !== 0 && !finish) failure ??= new Error(`generator thread exited with code ${code}`);
    wake?.();
  });
  const next = async (): Promise<GenWorkerMessage> => {
    for (;;) {
      const m = queue.shift();
      if (m) return m;
      if (failure) throw failure;
      await new Promise<void>((r) => {
        wake = r;
      });
      wake = undefined;
    }
  };
  return {
    async *batches() {
      worker.postMessage(AHEAD);
      try {
        for (;;) {
          const m = await next();
          if (m.kind === 'end') {
            finish = m.finish;
            return;
          }
          worker.postMessage(1);
          yield m.batch;
        }
      } finally {
        // Done or abandoned (the writer threw): the thread has nothing more to do either way.
        await worker.terminate();
      }
    },
    finish() {
      if (!finish) throw new Error('generator thread has not finished');
      return finish;
    },
  };
}
