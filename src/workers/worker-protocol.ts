/** The messages between a {@link WorkerPool} and its worker threads (`serveWorkerTasks`). */

/** One task, sent to an idle worker; `id` pairs it with its answer. */
export interface WorkerRequest<T> {
  id: number;
  task: T;
}

/** An error as it crosses the thread boundary. */
export interface SerializedError {
  name: string;
  message: string;
}

/** A task's answer: its result, or the error it failed with. */
export type WorkerResponse<R> = { id: number; result: R } | { id: number; error: SerializedError };

/** Name and message of anything thrown (non-errors become an `Error` with their string form). */
export function serializeError(error: unknown): SerializedError {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };
}

/** An error thrown in a worker, rebuilt on this side with its name and message (the class does not cross). */
export function deserializeError(error: SerializedError): Error {
  const rebuilt = new Error(error.message);
  rebuilt.name = error.name;
  return rebuilt;
}
