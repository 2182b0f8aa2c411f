import type { Tx } from '../db/client.js';
import { JobRepo } from '../db/repos/job-repo.js';
import type { Transactor } from '../db/transactor.js';
import { currentRequestId } from '../logging/request-context.js';
import { createObjectId } from '../upload/ids.js';
import { type JobKind, type JobPayload, parseJobPayload, toJobKind } from './job-kind.js';
import type { JobOutbox } from './job-outbox.js';
import type { EnqueueOptions, Job } from './job-queue.js';
import { type JobCount, type JobTransport, QUEUED_JOB_STATES } from './job-transport.js';

/**
 * A stored payload: SQLite hands out its JSON text, PostgreSQL the parsed `jsonb`. Text that is not JSON is handed
 * out as it is, which no payload schema accepts, so the runner marks the job dead naming it instead of the claim
 * failing again at every poll.
 */
const parseStored = (stored: unknown): unknown => {
  if (typeof stored !== 'string') return stored;
  try {
    return JSON.parse(stored);
  } catch {
    return stored;
  }
};

/**
 * The job queue on the application's own database (either dialect, through `JobRepo`): the outbox writes jobs in
 * the caller's transaction (or, without one, on its own); the transport claims and settles them in transactions of
 * its own. Payloads are checked against their kind's schema at enqueue, and by the runner at claim.
 */
export class DatabaseJobQueue implements JobOutbox, JobTransport {
  private readonly repo: JobRepo;

  constructor(
    transactor: Transactor,
    private readonly now: () => number = Date.now,
  ) {
    this.repo = new JobRepo(transactor);
  }

  enqueue<P extends JobPayload>(kind: JobKind<P>, payload: NoInfer<P>, options?: EnqueueOptions, tx?: unknown): Promise<string>;
  enqueue(kind: string, payload: JobPayload, options?: EnqueueOptions, tx?: unknown): Promise<string>;
  async enqueue(kind: JobKind | string, payload: JobPayload, options: EnqueueOptions = {}, tx?: unknown): Promise<string> {
    const checked = toJobKind(kind);
    const parsed = parseJobPayload(checked, payload, 'enqueue');
    const id = createObjectId();
    const at = new Date(this.now());
    const row = {
      id,
      kind: checked.name,
      payload: parsed,
      status: 'pending' as const,
      maxAttempts: options.maxAttempts ?? 5,
      runAt: options.runAt ?? at.getTime(),
      requestId: options.requestId ?? currentRequestId() ?? null,
      createdAt: at,
      updatedAt: at,
    };
    await this.repo.insert(row, tx as Tx | undefined);
    return id;
  }

  enqueueUnlessPending<P extends JobPayload>(kind: JobKind<P>, payload: NoInfer<P>, options?: EnqueueOptions): Promise<string | undefined>;
  enqueueUnlessPending(kind: string, payload: JobPayload, options?: EnqueueOptions): Promise<string | undefined>;
  async enqueueUnlessPending(kind: JobKind | string, payload: JobPayload, options?: EnqueueOptions): Promise<string | undefined> {
    const checked = toJobKind(kind);
    return this.repo.insertUnlessPending(checked.name, (tx) => this.enqueue(checked, payload, options, tx));
  }

  async claim(kind: string, leaseMs: number): Promise<Job<unknown> | undefined> {
    const row = await this.repo.claim(kind, this.now(), leaseMs);
    if (!row) return undefined;
    return { id: row.id, kind: row.kind, payload: parseStored(row.payload), attempt: row.attempts, maxAttempts: row.maxAttempts, requestId: row.requestId };
  }

  async complete(jobId: string): Promise<void> {
    await this.repo.markDone(jobId, this.now());
  }

  async fail(jobId: string, error: string, retryAt: number): Promise<'retrying' | 'dead'> {
    return this.repo.fail(jobId, error.slice(0, 2000), retryAt, this.now());
  }

  async markDead(jobId: string, error: string): Promise<void> {
    await this.repo.markDead(jobId, error.slice(0, 2000), this.now());
  }

  async counts(kinds: readonly string[]): Promise<JobCount[]> {
    if (kinds.length === 0) return [];
    return this.repo.counts(kinds, QUEUED_JOB_STATES);
  }

  async release(jobIds: readonly string[]): Promise<number> {
    if (jobIds.length === 0) return 0;
    return this.repo.release(jobIds, this.now());
  }

  async dueKinds(kinds: readonly string[]): Promise<string[]> {
    return kinds.length === 0 ? [] : this.repo.dueKinds(kinds, this.now());
  }

  async nextDueAt(kind: string): Promise<number | undefined> {
    return this.repo.nextDueAt(kind);
  }
}
