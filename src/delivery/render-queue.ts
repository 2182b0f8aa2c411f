import type { Limiter } from '../analysis/concurrency.js';
import { AppError } from '../errors.js';

/**
 * Where derivatives are computed: one computation per key at a time (concurrent identical requests share it),
 * at most the limiter's number at once, the rest queued. A request waits at most `waitMs`; past that it is
 * answered TRANSFORMATION_TIMEOUT (503, retry later) while the computation carries on, so the retry finds the
 * derivative ready in the cache.
 */
export class RenderQueue {
  constructor(
    private readonly limiter: Limiter,
    private readonly waitMs: number,
    private readonly inFlight = new Map<string, Promise<unknown>>(),
  ) {}

  /** The same queue (same renders, same slots) for callers that wait longer, e.g. background jobs. */
  withWait(waitMs: number): RenderQueue {
    return new RenderQueue(this.limiter, waitMs, this.inFlight);
  }

  run<T>(key: string, make: () => Promise<T>): Promise<T> {
    let pending = this.inFlight.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = this.limiter.run(make).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return this.awaitAtMost(pending);
  }

  /** Renders not yet finished (running or queued). */
  get size(): number {
    return this.inFlight.size;
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
