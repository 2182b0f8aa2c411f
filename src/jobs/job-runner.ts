import { type Clock, systemClock } from '../clock.js';
import type { Logger } from '../logger.js';
import { runWithRequestId } from '../logging/request-context.js';
import { InvalidJobPayloadError, type JobKind, type JobPayload, parseJobPayload, toJobKind } from './job-kind.js';
import { backoffMs, type Job } from './job-queue.js';
import type { JobTransport } from './job-transport.js';

/** Runs the jobs of one kind; `P` is the kind's payload, checked before `run` sees it. */
export interface JobHandler<P extends JobPayload = JobPayload> {
  /** Must be idempotent: a job can run more than once (a crash after the work, before `complete`). */
  run(job: Job<P>): Promise<void>;
  /** At most this many jobs of the kind run at once. */
  concurrency: number;
  /** How long a claimed job is leased before another worker may take it. */
  leaseMs: number;
  /**
   * Called once when the job is dead (out of attempts), to record the failure. Not called for a job whose stored
   * payload does not fit the kind: there is no payload to record it with.
   */
  onDead?(job: Job<P>, error: unknown): Promise<void> | void;
  /** Retry delay after `attempt` failed. Default: exponential from 1 s. */
  retryDelayMs?(attempt: number): number;
}

/** A handler with its kind, made by {@link handleJobs} so the two are checked to agree. */
export interface JobRegistration<P extends JobPayload = JobPayload> {
  kind: JobKind<P>;
  handler: JobHandler<P>;
}

/** Pairs a kind with its handler (for services that hand the composition root several to register). */
export const handleJobs = <P extends JobPayload>(kind: JobKind<P>, handler: JobHandler<P>): JobRegistration<P> => ({ kind, handler });

const IDLE_POLL_MS = 1000;

/**
 * Runs queued jobs with bounded concurrency per kind. It polls (so jobs enqueued by another process, or left by
 * a crash, are picked up) and is woken at once by `notify` after a local enqueue. It knows the queue only as a
 * {@link JobTransport}, awaiting each claim; a claimed job whose payload does not fit its kind is dead at once.
 */
export class JobRunner {
  private readonly handlers = new Map<string, { kind: JobKind; handler: JobHandler }>();
  private readonly active = new Map<string, number>();
  /** Each kind's next look for due jobs, as the clock's cancel function. */
  private readonly timers = new Map<string, () => void>();
  private readonly running = new Set<Promise<void>>();
  /** Ids of the jobs whose handlers are running. */
  private readonly inHand = new Set<string>();
  /** Jobs given back on stop: whatever their handler does later is not recorded. */
  private readonly released = new Set<string>();
  /** Kinds whose claiming loop is running (at most one per kind, so concurrency holds across awaits). */
  private readonly pumping = new Map<string, Promise<void>>();
  /** Kinds woken while their loop was running: it goes round once more. */
  private readonly rewake = new Set<string>();
  private stopped = true;
  /** The pending `notifyDue` read, shared by the calls made before it starts. */
  private dueCheck: Promise<void> | undefined;

  constructor(
    private readonly transport: JobTransport,
    private readonly log: Logger,
    /** Reads due times and sleeps until the next; the system clock by default. */
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Runs the jobs of `kind` with `handler`. With a kind defined by `defineJobKind`, each payload is checked against
   * its schema before the handler sees it; with a bare name, only that it is a JSON object.
   */
  register<P extends JobPayload>(kind: JobKind<P>, handler: JobHandler<P>): void;
  register(kind: string, handler: JobHandler): void;
  register(kind: JobKind | string, handler: JobHandler): void {
    const checked = toJobKind(kind);
    this.handlers.set(checked.name, { kind: checked, handler });
    this.active.set(checked.name, 0);
  }

  start(): void {
    this.stopped = false;
    for (const kind of this.handlers.keys()) this.pump(kind);
  }

  /** How many jobs are running now. */
  get runningCount(): number {
    return this.inHand.size;
  }

  /** Something of `kind` was enqueued: look for work now instead of at the next poll. */
  notify(kind: string): void {
    if (!this.stopped) setImmediate(() => this.pump(kind));
  }

  /**
   * Something may have been enqueued (a change committed): one read asks which kinds have due jobs, and only those
   * are claimed. Calls in the same turn of the event loop share that read, so a burst of commits costs one query.
   */
  notifyDue(): void {
    if (this.stopped || this.dueCheck) return;
    this.dueCheck = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => {
        this.dueCheck = undefined;
        return this.transport.dueKinds([...this.handlers.keys()]);
      })
      .then((kinds) => {
        for (const kind of kinds) this.pump(kind);
      })
      .catch((err: unknown) => {
        this.dueCheck = undefined;
        this.log.error({ err }, `Looking for due jobs failed; they run at the next poll (within ${IDLE_POLL_MS} ms)`);
      });
  }

  /**
   * Stops claiming and waits for the jobs in hand (their leases protect them if this never returns). When `grace`
   * aborts first, the jobs still running are released (due again at once, for another worker or the next start)
   * and their handlers' outcome is ignored. Resolves with the ids released.
   */
  async stop(grace?: AbortSignal): Promise<string[]> {
    this.stopped = true;
    for (const cancel of this.timers.values()) cancel();
    // A claim in progress ends first, so every job claimed is in `running` (or already given back).
    await Promise.all(this.pumping.values());
    const settled = Promise.allSettled([...this.running]).then(() => true);
    const finished = grace ? await Promise.race([settled, abortedOf(grace)]) : await settled;
    if (finished || this.inHand.size === 0) return [];
    const ids = [...this.inHand];
    for (const id of ids) this.released.add(id);
    await this.transport.release(ids);
    return ids;
  }

  private schedule(kind: string, delayMs: number): void {
    if (this.stopped) return;
    this.timers.get(kind)?.();
    this.timers.set(kind, this.clock.setTimeout(() => this.pump(kind), Math.max(10, delayMs)));
  }

  /** Claims and starts jobs of `kind` while it has free slots; a wake-up during a claim makes it look again after. */
  private pump(kind: string): void {
    if (!this.handlers.has(kind) || this.stopped) return;
    if (this.pumping.has(kind)) {
      this.rewake.add(kind);
      return;
    }
    const pumped = this.claimDue(kind)
      .catch((err: unknown) => {
        this.log.error({ err, job: kind }, `Claiming ${kind} jobs failed; trying again in ${IDLE_POLL_MS} ms`);
        this.schedule(kind, IDLE_POLL_MS);
      })
      .finally(() => {
        this.pumping.delete(kind);
        if (this.rewake.delete(kind)) this.pump(kind);
      });
    this.pumping.set(kind, pumped);
  }

  private async claimDue(kind: string): Promise<void> {
    const { kind: definition, handler } = this.handlers.get(kind) as { kind: JobKind; handler: JobHandler };
    while (!this.stopped && (this.active.get(kind) ?? 0) < handler.concurrency) {
      const claimed = await this.transport.claim(kind, handler.leaseMs);
      if (!claimed) break;
      if (this.stopped) {
        // Claimed while stopping: given back unrun, for another worker or the next start.
        await this.transport.release([claimed.id]);
        break;
      }
      const job = await this.checked(definition, claimed);
      if (!job) continue;
      this.active.set(kind, (this.active.get(kind) ?? 0) + 1);
      // As part of the request that caused it: its log lines, and the jobs it enqueues, carry that request's id.
      const done = runWithRequestId(job.requestId, () => this.execute(handler, job)).finally(() => {
        this.active.set(kind, (this.active.get(kind) ?? 1) - 1);
        this.running.delete(done);
        this.pump(kind);
      });
      this.running.add(done);
    }
    const due = await this.transport.nextDueAt(kind);
    this.schedule(kind, due === undefined ? IDLE_POLL_MS : Math.min(IDLE_POLL_MS, due - this.clock.now()));
  }

  /**
   * The job with its payload parsed by the kind's schema; undefined when it does not fit (stored by an older version,
   * or damaged): then the job is dead at once, its handler never runs, and running it again could not help.
   */
  private async checked(kind: JobKind, claimed: Job<unknown>): Promise<Job | undefined> {
    try {
      return { ...claimed, payload: parseJobPayload(kind, claimed.payload, 'claim') };
    } catch (error) {
      if (!(error instanceof InvalidJobPayloadError)) throw error;
      await this.transport.markDead(claimed.id, error.message);
      const fields = { job: claimed.kind, jobId: claimed.id, requestId: claimed.requestId ?? undefined, attempt: claimed.attempt, err: error, outcome: 'dead' };
      this.log.error(fields, `Job ${claimed.kind} has an invalid payload; dead without running: ${error.message}`);
      return undefined;
    }
  }

  private async execute(handler: JobHandler, job: Job): Promise<void> {
    this.inHand.add(job.id);
    const fields = { job: job.kind, jobId: job.id, requestId: job.requestId ?? undefined, attempt: job.attempt };
    const started = performance.now();
    this.log.debug(fields, `Job ${job.kind} started`);
    try {
      await handler.run(job);
      if (!this.released.has(job.id)) await this.transport.complete(job.id);
      this.log.info({ ...fields, durationMs: Math.round(performance.now() - started) }, `Job ${job.kind} done`);
    } catch (error) {
      if (this.released.has(job.id)) return;
      const delay = (handler.retryDelayMs ?? backoffMs)(job.attempt);
      const outcome = await this.transport.fail(job.id, error instanceof Error ? error.message : String(error), this.clock.now() + delay);
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
