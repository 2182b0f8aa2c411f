/** A worker for the worker-pool tests: echoes, waits, throws, or dies on request; answers with its thread id. */
import { threadId } from 'node:worker_threads';
import { serveWorkerTasks } from '../../src/workers/serve-worker-tasks.js';

export type PoolTestTask = { kind: 'echo'; value: string } | { kind: 'wait'; ms: number } | { kind: 'throw'; message: string } | { kind: 'exit' } | { kind: 'uncaught' };

serveWorkerTasks(async (task: PoolTestTask) => {
  switch (task.kind) {
    case 'echo':
      return { threadId, value: task.value };
    case 'wait':
      await new Promise((resolve) => setTimeout(resolve, task.ms));
      return { threadId, value: 'waited' };
    case 'throw':
      throw new RangeError(task.message);
    case 'exit':
      process.exit(3);
    case 'uncaught':
      setImmediate(() => {
        throw new Error('boom outside any task promise');
      });
      return new Promise<never>(() => {});
  }
});
