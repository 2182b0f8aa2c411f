import type { EnqueueOptions } from './job-queue.js';
import type { JobKind, JobPayload } from './job-kind.js';

/**
 * The producers' half of the job queue: jobs are written inside the transaction that makes the change they follow
 * from, so a job exists exactly when the change committed (never lost to a crash between the two, never run for a
 * change that rolled back). The runner takes them from the {@link JobTransport}.
 * @category Jobs
 */
export interface JobOutbox {
  /**
   * Adds a job of `kind`, with `tx` inside the caller's transaction (the transaction object its database hands the
   * callback), otherwise on its own. The payload is checked against the kind's schema first and stored as parsed.
   * @returns the job's id
   * @throws (rejects with) InvalidJobPayloadError (a plain `Error`: a producer's bug) naming the kind and the offending fields
   */
  enqueue<P extends JobPayload>(kind: JobKind<P>, payload: NoInfer<P>, options?: EnqueueOptions, tx?: unknown): Promise<string>;
  /** A kind named by a bare string, without a schema of its own: its payload need only be a JSON object. */
  enqueue(kind: string, payload: JobPayload, options?: EnqueueOptions, tx?: unknown): Promise<string>;
  /**
   * Adds a job of `kind` unless one of that kind is already pending (due or not, but not yet claimed), as one atomic
   * step in a transaction of its own: for singletons, such as a periodic job that every process schedules at start
   * and each run schedules again before it ends. Checked like {@link JobOutbox.enqueue}.
   * @returns the new job's id, or undefined when one was pending already
   */
  enqueueUnlessPending<P extends JobPayload>(kind: JobKind<P>, payload: NoInfer<P>, options?: EnqueueOptions): Promise<string | undefined>;
  enqueueUnlessPending(kind: string, payload: JobPayload, options?: EnqueueOptions): Promise<string | undefined>;
}
