// The message generator on its own thread, so that generating text and writing rows use both
// cores: the main thread writes batch k while this thread builds batch k+1. The worker rebuilds
// the plan and relevance set from the params (deterministic: the same as the main thread's) and
// posts batches of BulkMessage, then the BulkFinish rows. Flow control: it posts a batch only
// against a credit from the main thread, so at most `credits` batches wait in memory.
import { parentPort, workerData } from 'node:worker_threads';
import { MessageStream } from './generate.js';
import { buildPlan, type SeedParams } from './plan.js';
import { plantRelevance } from './relevance.js';

export interface GenWorkerData {
  params: SeedParams;
  passwordHash: string;
  batchSize: number;
}

export type GenWorkerMessage =
  | { kind: 'batch'; batch: import('../server/store/bulk.js').BulkMessage[] }
  | { kind: 'end'; finish: import('../server/store/bulk.js').BulkFinish };

const port = parentPort!;
const data = workerData as GenWorkerData;
let credits = 0;
let wake: (() => void) | undefined;
port.on('message', (n: number) => {
  credits += n;
  wake?.();
});
const credit = () =>
  credits > 0
    ? Promise.resolve()
    : new Promise<void>((r) => {
        wake = r;
      });

const plan = buildPlan(data.params, data.passwordHash);
const stream = new MessageStream(plan, plantRelevance(plan).planted);
for (const batch of stream.batches(data.batchSize)) {
  await credit();
  credits--;
  port.postMessage({ kind: 'batch', batch } satisfies GenWorkerMessage);
}
port.postMessage({ kind: 'end', finish: stream.finishRows() } satisfies GenWorkerMessage);
