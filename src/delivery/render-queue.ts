import type { Limiter } from '../analysis/concurrency.js';
import { AppError, isAppError } from '../errors.js';

export interface RenderQueueOptions {
  /** Renders that may wait for a slot; past it a new one is refused at once (503). Default: no cap. */
  maxQueued?: number;
  /** How long a failed render answers with the same error without running again. */
  failureTtlMs?: number;
}

interface Shared {
  inFlight: Map<string, Promise<unknown>>;
  failures: Map<string, { error: unknown; until: number }>;
}

const MAX_REMEMBERED_FAILURES = 1000;

/**
 * Where derivatives are computed: one computation per key at a time (concurrent identical requests share it),
 * at most the limiter's number at once, at most `maxQueued` waiting. A request waits at most `waitMs`; past that
 * it is answered TRANSFORMATION_TIMEOUT (503, retry later) while the computation carries on, so the retry finds
 * the derivative ready in the cache. A render that fails, whatever the reason, is not run again for `failureTtlMs`:
 * replaying a request that breaks the renderer costs nothing. Only a 503 (busy, retry later) is not a failure.
 */
export class RenderQueue {
  constructor(
    private readonly limiter: Limiter,
    private readonly waitMs: number,
    private readonly options: RenderQueueOptions = {},
    private readonly shared: Shared = { inFlight: new Map(), failures: new Map() },
  ) {}

  /** The same queue (same renders, slots and remembered failures), uncapped, for callers that wait longer: background jobs. */
  withWait(waitMs: number): RenderQueue {
    return new RenderQueue(this.limiter, waitMs, { failureTtlMs: this.options.failureTtlMs }, this.shared);
  }

  run<T>(key: string, make: () => Promise<T>): Promise<T> {
    const { inFlight, failures } = this.shared;
    const failed = failures.get(key);
    if (failed && failed.until > Date.now()) return Promise.reject(failed.error);
    let pending = inFlight.get(key) as Promise<T> | undefined;
    if (!pending) {
      if (this.options.maxQueued !== undefined && this.limiter.pendingCount >= this.options.maxQueued) {
        return Promise.reject(
          new AppError('TOO_MANY_TRANSFORMATIONS', `${this.limiter.pendingCount} transformations are already waiting to be computed; retry shortly.`, {
            parameter: 'tr',
            details: { retryAfterSeconds: 5 },
          }),
        );
      }
      pending = this.limiter
        .run(make)
        .catch((error: unknown) => {
          if (this.options.failureTtlMs && !(isAppError(error) && error.status === 503)) this.remember(key, error);
          throw error;
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return this.awaitAtMost(pending);
  }

  /** Keeps `error` as the answer for `key`; an unexpected one as the masked 500 it reached the client as (it was logged once). */
  private remember(key: string, error: unknown): void {
    const { failures } = this.shared;
    failures.delete(key);
    const answer = isAppError(error) ? error : new AppError('INTERNAL_SERVER_ERROR', 'We have experienced an internal error while processing your request.');
    failures.set(key, { error: answer, until: Date.now() + (this.options.failureTtlMs ?? 0) });
    if (failures.size > MAX_REMEMBERED_FAILURES) failures.delete(failures.keys().next().value as string);
  }

  private awaitAtMost<T>(pending: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        pending.catch(() => {}); // the render's own outcome is no longer anyone's to report
        const seconds = Math.max(1, Math.ceil(this.waitMs / 1000));
        reject(
          new AppError('TRANSFORMATION_TIMEOUT', `The transformation is still being computed after ${seconds} s; retry the request shortly.`, {
            parameter: 'tr',
            details: { retryAfterSeconds: Math.min(30, seconds) },
          }),
        );
      }, this.waitMs);
    });
    return Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
  }
}
