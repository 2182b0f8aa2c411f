import type { Logger } from '../logger.js';
import { backoffMs, type Job, type JobQueue } from './job-queue.js';

export interface JobHandler {
  /** Must be idempotent: a job can run more than once (a crash after the work, before `complete`). */
  run(job: Job): Promise<void>;
  /** At most this many jobs of the kind run at once. */
  concurrency: number;
  /** How long a claimed job is leased before another worker may take it. */
  leaseMs: number;
  /** Called once when the job is dead (out of attempts), to record the failure. */
  onDead?(job: Job, error: unknown): Promise<void> | void;
  /** Retry delay after `attempt` failed. Default: exponential from 1 s. */
  retryDelayMs?(attempt: number): number;
}

const IDLE_POLL_MS = 1000;

/**
 * Runs queued jobs with bounded concurrency per kind. It polls (so jobs enqueued by another process, or left by
 * a crash, are picked up) and is woken at once by `notify` after a local enqueue.
 */
export class JobRunner {
  private readonly handlers = new Map<string, JobHandler>();
  private readonly active = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private stopped = true;

  constructor(
    private readonly queue: JobQueue,
    private readonly log: Logger,
  ) {}

  register(kind: string, handler: JobHandler): void {
    this.handlers.set(kind, handler);
    this.active.set(kind, 0);
  }

  start(): void {
    this.stopped = false;
    for (const kind of this.handlers.keys()) this.pump(kind);
  }

  /** Something was enqueued: look for work now instead of at the next poll. */
  notify(kind: string): void {
    if (!this.stopped) setImmediate(() => this.pump(kind));
  }

  /** Stops claiming and waits for the jobs in hand (their leases protect them if this never returns). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    await Promise.allSettled([...this.running]);
  }

  private schedule(kind: string, delayMs: number): void {
    clearTimeout(this.timers.get(kind));
    this.timers.set(kind, setTimeout(() => this.pump(kind), Math.max(10, delayMs)).unref());
  }

  private pump(kind: string): void {
    const handler = this.handlers.get(kind);
    if (!handler || this.stopped) return;
    while ((this.active.get(kind) ?? 0) < handler.concurrency) {
      const job = this.queue.claim(kind, handler.leaseMs);
      if (!job) break;
      this.active.set(kind, (this.active.get(kind) ?? 0) + 1);
      const done = this.execute(handler, job).finally(() => {
        this.active.set(kind, (this.active.get(kind) ?? 1) - 1);
        this.running.delete(done);
        this.pump(kind);
      });
      this.running.add(done);
    }
    const due = this.queue.nextDueAt(kind);
    this.schedule(kind, due === undefined ? IDLE_POLL_MS : Math.min(IDLE_POLL_MS, due - Date.now()));
  }

  private async execute(handler: JobHandler, job: Job): Promise<void> {
    try {
      await handler.run(job);
      this.queue.complete(job.id);
    } catch (error) {
      const delay = (handler.retryDelayMs ?? backoffMs)(job.attempt);
      const outcome = this.queue.fail(job.id, error instanceof Error ? error.message : String(error), Date.now() + delay);
      this.log.debug(`Job ${job.kind} ${job.id} attempt ${job.attempt} failed (${outcome}): ${String(error)}`);
      if (outcome === 'dead') await Promise.resolve(handler.onDead?.(job, error)).catch((e) => this.log.error(`onDead of ${job.kind} failed`, e));
    }
  }
}
