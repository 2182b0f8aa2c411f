import { parentPort } from 'node:worker_threads';
import { serializeError, type WorkerRequest, type WorkerResponse } from './worker-protocol.js';

/**
 * The worker side of a {@link WorkerPool}: answers each task with `perform`'s result, or its error (name and
 * message). The pool sends a worker one task at a time.
 *
 * @throws Error when called outside a worker thread.
 */
export function serveWorkerTasks<T, R>(perform: (task: T) => Promise<R>): void {
  const port = parentPort;
  if (!port) throw new Error('serveWorkerTasks must run in a worker thread');
  port.on('message', (request: WorkerRequest<T>) => {
    perform(request.task).then(
      (result) => port.postMessage({ id: request.id, result } satisfies WorkerResponse<R>),
      (error: unknown) => port.postMessage({ id: request.id, error: serializeError(error) } satisfies WorkerResponse<R>),
    );
  });
}
