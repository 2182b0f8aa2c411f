import type { Transferable, Worker } from 'node:worker_threads';
import { WorkerCrashedError, WorkerPoolClosedError } from './errors.js';
import { startWorker } from './start-worker.js';
import { deserializeError, type WorkerRequest, type WorkerResponse } from './worker-protocol.js';

export interface WorkerPoolOptions {
  /** Names the pool in errors. */
  name: string;
  /** The worker script; it calls `serveWorkerTasks`. */
  entry: URL;
  /** Most worker threads at once, so most tasks running at once. */
  size: number;
}

interface Queued<T> {
  task: T;
  transfer: readonly Transferable[];
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Slot<T> {
  worker: Worker;
  running?: Queued<T> & { id: number };
}

/**
 * A bounded pool of worker threads for CPU work that would otherwise hold the event loop: workers start on demand
 * (none before the first task), each runs one task at a time and is kept for the next, and tasks beyond `size`
 * wait in order. A worker that dies (an uncaught exception, out of memory, `process.exit`) fails only the task it
 * was running, with {@link WorkerCrashedError}; the next task starts a new worker. Idle workers never keep the
 * process alive; `close` terminates them all.
 *
 * Tasks and results cross as structured clones: keep them small, or pass ArrayBuffers in `transfer`.
 */
export class WorkerPool<T, R> {
  private readonly slots: Slot<T>[] = [];
  private readonly queue: Queued<T>[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: WorkerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError(`Worker pool size must be a positive integer, got ${options.size}`);
  }

  /** Worker threads alive now. */
  get threadCount(): number {
    return this.slots.length;
  }

  /**
   * Runs `task` on a worker; settles with its result or error.
   * @throws WorkerCrashedError when the worker died while running it.
   * @throws WorkerPoolClosedError when the pool was closed before it finished.
   */
  run(task: T, transfer: readonly Transferable[] = []): Promise<R> {
    if (this.closed) return Promise.reject(new WorkerPoolClosedError(`The ${this.options.name} worker pool is closed`));
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ task, transfer, resolve: resolve as (value: unknown) => void, reject });
      this.dispatch();
    });
  }

  /** Terminates every worker; tasks waiting or running fail with {@link WorkerPoolClosedError}. */
  async close(): Promise<void> {
    this.closed = true;
    for (const queued of this.queue.splice(0)) queued.reject(new WorkerPoolClosedError(`The ${this.options.name} worker pool is closed`));
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find((s) => !s.running) ?? (this.slots.length < this.options.size ? this.spawn() : undefined);
      if (!slot) return;
      const queued = this.queue.shift() as Queued<T>;
      const id = this.nextId++;
      slot.running = { ...queued, id };
      slot.worker.ref();
      try {
        slot.worker.postMessage({ id, task: queued.task } satisfies WorkerRequest<T>, queued.transfer);
      } catch (error) {
        // The task cannot be cloned: it fails alone, the worker stays.
        slot.running = undefined;
        slot.worker.unref();
        queued.reject(error as Error);
      }
    }
  }

  private spawn(): Slot<T> {
    const slot: Slot<T> = { worker: startWorker(this.options.entry) };
    this.slots.push(slot);
    slot.worker.on('message', (response: WorkerResponse<R>) => {
      const running = slot.running;
      if (!running || running.id !== response.id) return;
      slot.running = undefined;
      slot.worker.unref();
      if ('error' in response) running.reject(deserializeError(response.error));
      else running.resolve(response.result);
      this.dispatch();
    });
    let reason: string | undefined;
    slot.worker.on('error', (error) => {
      reason ??= `failed: ${error.message}`;
    });
    slot.worker.once('exit', (code) => {
      const at = this.slots.indexOf(slot);
      if (at >= 0) this.slots.splice(at, 1);
      const running = slot.running;
      slot.running = undefined;
      if (running) {
        running.reject(
          this.closed
            ? new WorkerPoolClosedError(`The ${this.options.name} worker pool was closed while the task ran`)
            : new WorkerCrashedError(`The ${this.options.name} worker ${reason ?? `exited with code ${code}`} before answering`),
        );
      }
      if (!this.closed) this.dispatch();
    });
    return slot;
  }
}
