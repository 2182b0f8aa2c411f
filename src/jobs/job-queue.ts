import type { JobPayload } from './job-kind.js';
import type { JobOutbox } from './job-outbox.js';
import type { JobTransport } from './job-transport.js';

/**
 * A job as handlers see it. Payloads carry ids, not data: handlers re-read what they need. As the transport hands it
 * out the payload is `unknown`; the runner checks it against the kind's schema before a handler sees it.
 */
export interface Job<P = JobPayload> {
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
 * A durable queue: both halves, as one backend implements them (see `DatabaseJobQueue`). Producers take only the
 * {@link JobOutbox}, the runner only the {@link JobTransport}.
 */
export type JobQueue = JobOutbox & JobTransport;

/** Exponential backoff with a cap: 1 s, 2 s, 4 s … up to `maxMs`. */
export const backoffMs = (attempt: number, baseMs = 1000, maxMs = 10 * 60 * 1000) => Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
