/** A job as handlers see it. Payloads carry ids, not data: handlers re-read what they need. */
export interface Job<P = Record<string, unknown>> {
  id: string;
  kind: string;
  payload: P;
  /** 1 on the first run. */
  attempt: number;
  maxAttempts: number;
  /** The HTTP request that caused the job, directly or through earlier jobs; null when none did. */
  requestId: string | null;
}

export interface EnqueueOptions {
  /** Run no sooner than this (epoch ms). Default: now. */
  runAt?: number;
  /** Tries before the job is dead. Default 5. */
  maxAttempts?: number;
  /** The request that caused the job. Default: the request (or request-caused job) the caller runs for, if any. */
  requestId?: string;
}

/**
 * A durable queue. Jobs survive restarts; a claimed job is leased, so a job whose worker died is claimed again
 * when the lease runs out. The SQLite implementation lives beside this file; a Redis or PostgreSQL one must
 * keep the same guarantees (at-least-once, leases, backoff, dead after `maxAttempts`).
 */
export interface JobQueue {
  /** Adds a job; with `tx`, inside the caller's transaction so it exists only if the transaction commits. */
  enqueue(kind: string, payload: Record<string, unknown>, options?: EnqueueOptions, tx?: unknown): string;
  /** Takes the next due job of `kind` (or one whose lease expired) and leases it for `leaseMs`. */
  claim(kind: string, leaseMs: number): Job | undefined;
  /** The job finished: it is never run again. */
  complete(jobId: string): void;
  /** The job failed: retried at `retryAt`, or dead when out of attempts. */
  fail(jobId: string, error: string, retryAt: number): 'retrying' | 'dead';
  /** When the next job of `kind` is due (epoch ms), for the runner's sleep. */
  nextDueAt(kind: string): number | undefined;
  /**
   * Gives back jobs this worker claimed but will not finish (it is shutting down): each is due again at once, for
   * another worker or the next start, instead of after its lease. The interrupted run does not count as an attempt.
   * Jobs no longer running (finished meanwhile) are left alone. Returns how many were released.
   */
  release(jobIds: readonly string[]): number;
}

/** Exponential backoff with a cap: 1 s, 2 s, 4 s … up to `maxMs`. */
export const backoffMs = (attempt: number, baseMs = 1000, maxMs = 10 * 60 * 1000) => Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
