/** Errors of the worker pools (`src/workers/*`): plain `Error` subclasses, mapped by the callers. */

/** The worker thread running a task died (uncaught exception, out of memory, `process.exit`) before answering. */
export class WorkerCrashedError extends Error {
  override readonly name = 'WorkerCrashedError';
}

/** The pool was closed: the task was never run, or its worker was terminated. */
export class WorkerPoolClosedError extends Error {
  override readonly name = 'WorkerPoolClosedError';
}
