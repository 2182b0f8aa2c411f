import type { Logger } from '../logger.js';
import { runWithRequestId } from '../logging/request-context.js';
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
  /** Ids of the jobs whose handlers are running. */
  private readonly inHand = new Set<string>();
  /** Jobs given back on stop: whatever their handler does later is not recorded. */
  private readonly released = new Set<string>();
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

  /** How many jobs are running now. */
  get runningCount(): number {
    return this.inHand.size;
  }

  /** Something was enqueued: look for work now instead of at the next poll. */
  notify(kind: string): void {
    if (!this.stopped) setImmediate(() => this.pump(kind));
  }

  /**
   * Stops claiming and waits for the jobs in hand (their leases protect them if this never returns). When `grace`
   * aborts first, the jobs still running are released (due again at once, for another worker or the next start)
   * and their handlers' outcome is ignored. Resolves with the ids released.
   */
  async stop(grace?: AbortSignal): Promise<string[]> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    const settled = Promise.allSettled([...this.running]).then(() => true);
    const finished = grace ? await Promise.race([settled, abortedOf(grace)]) : await settled;
    if (finished || this.inHand.size === 0) return [];
    const ids = [...this.inHand];
    for (const id of ids) this.released.add(id);
    this.queue.release(ids);
    return ids;
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
      // As part of the request that caused it: its log lines, and the jobs it enqueues, carry that request's id.
      const done = runWithRequestId(job.requestId, () => this.execute(handler, job)).finally(() => {
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
    this.inHand.add(job.id);
    const fields = { job: job.kind, jobId: job.id, requestId: job.requestId ?? undefined, attempt: job.attempt };
    const started = performance.now();
    this.log.debug(fields, `Job ${job.kind} started`);
    try {
      await handler.run(job);
      if (!this.released.has(job.id)) this.queue.complete(job.id);
      this.log.info({ ...fields, durationMs: Math.round(performance.now() - started) }, `Job ${job.kind} done`);
    } catch (error) {
      if (this.released.has(job.id)) return;
      const delay = (handler.retryDelayMs ?? backoffMs)(job.attempt);
      const outcome = this.queue.fail(job.id, error instanceof Error ? error.message : String(error), Date.now() + delay);
      if (outcome === 'retrying') {
        this.log.warn({ ...fields, err: error, outcome, retryInMs: delay }, `Job ${job.kind} failed; retrying in ${delay} ms`);
        return;
      }
      this.log.error({ ...fields, err: error, outcome }, `Job ${job.kind} failed for the last time (attempt ${job.attempt} of ${job.maxAttempts})`);
      await Promise.resolve(handler.onDead?.(job, error)).catch((err: unknown) => this.log.error({ ...fields, err }, `onDead of ${job.kind} failed`));
    } finally {
      this.inHand.delete(job.id);
    }
  }
}

/** Resolves false once `signal` aborts (at once when it already has). */
const abortedOf = (signal: AbortSignal) =>
  new Promise<false>((resolve) => {
    if (signal.aborted) resolve(false);
    else signal.addEventListener('abort', () => resolve(false), { once: true });
  });
