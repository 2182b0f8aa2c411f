import type { Job } from './job-queue.js';

/** The states a job waits or fails in (finished jobs are kept but are no longer queued). */
export const QUEUED_JOB_STATES = ['pending', 'running', 'dead'] as const;

/** A state a queued job can be in. */
export type QueuedJobState = (typeof QUEUED_JOB_STATES)[number];

/** How many jobs of `kind` are in `state`. */
export interface JobCount {
  kind: string;
  state: QueuedJobState;
  count: number;
}

/**
 * The runner's half of the job queue: claims due jobs and records how they ended, asynchronously, so the queue may
 * live in another process or server (PostgreSQL, Redis) as well as in the application's SQLite file. Jobs survive
 * restarts; a claimed job is leased, so a job whose worker died is claimed again when the lease runs out. Every
 * implementation keeps the same guarantees: at-least-once, leases, backoff, dead after `maxAttempts`.
 * Jobs are written through the {@link JobOutbox}.
 * @category Jobs
 */
export interface JobTransport {
  /**
   * Takes the next due job of `kind` (or one whose lease expired) and leases it for `leaseMs`. The payload is as
   * stored, unchecked (`unknown`: it may be from another version, or not even JSON); the runner checks it.
   */
  claim(kind: string, leaseMs: number): Promise<Job<unknown> | undefined>;
  /** The job finished: it is never run again. */
  complete(jobId: string): Promise<void>;
  /** The job failed: retried at `retryAt`, or dead when out of attempts. */
  fail(jobId: string, error: string, retryAt: number): Promise<'retrying' | 'dead'>;
  /** The job can never succeed (its payload is invalid): dead at once, whatever attempts it had left. */
  markDead(jobId: string, error: string): Promise<void>;
  /** Which of `kinds` have a job due now: what the runner claims after being told that something was enqueued. */
  dueKinds(kinds: readonly string[]): Promise<string[]>;
  /** When the next job of `kind` is due (epoch ms), for the runner's sleep. */
  nextDueAt(kind: string): Promise<number | undefined>;
  /**
   * Gives back jobs this worker claimed but will not finish (it is shutting down): each is due again at once, for
   * another worker or the next start, instead of after its lease. The interrupted run does not count as an attempt.
   * Jobs no longer running (finished meanwhile) are left alone. Resolves with how many were released.
   */
  release(jobIds: readonly string[]): Promise<number>;
  /** How many jobs of each of `kinds` are pending, running or dead; combinations with none are left out. */
  counts(kinds: readonly string[]): Promise<JobCount[]>;
}
