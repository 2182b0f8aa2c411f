import type { Limiter } from '../analysis/concurrency.js';
import { AppError, isAppError } from '../errors.js';
import { type Clock, systemClock } from '../clock.js';
import { timed } from '../metrics/stopwatch.js';
import { THUMBNAILS_PREFIX } from '../storage/blob-keys.js';

/** What a render makes: a delivered image or video, or a library thumbnail (rendered in the image slots). */
export type RenderKind = 'image' | 'video' | 'thumbnail';

/** Why a request got a 503 instead of its derivative. */
export type RenderRefusal = 'TOO_MANY_TRANSFORMATIONS' | 'TRANSFORMATION_TIMEOUT';

/** Where a render queue reports what it does (see `src/metrics/metrics.ts`). */
export interface RenderMetrics {
  /** A render ran for `seconds` in its slot (not counting the wait for one); `failed` when it threw. */
  rendered(kind: RenderKind, seconds: number, failed: boolean): void;
  refused(kind: RenderKind, reason: RenderRefusal): void;
}

export interface RenderQueueOptions {
  /** Renders that may wait for a slot; past it a new one is refused at once (503). Default: no cap. */
  maxQueued?: number;
  /** How long a failed render answers with the same error without running again. */
  failureTtlMs?: number;
  /** What this queue's slots render, for metrics (default `image`). */
  kind?: 'image' | 'video';
  metrics?: RenderMetrics;
  /** What failures' remembering is timed by (the system clock by default). */
  clock?: Clock;
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
    const { failureTtlMs, kind, metrics, clock } = this.options;
    return new RenderQueue(this.limiter, waitMs, { failureTtlMs, kind, metrics, clock }, this.shared);
  }

  /** Renders waiting for a slot and running now (shared by every queue made with `withWait`). */
  depth(): { waiting: number; running: number } {
    return { waiting: this.limiter.pendingCount, running: this.limiter.activeCount };
  }

  private now(): number {
    return (this.options.clock ?? systemClock).now();
  }

  /**
   * Computes `key` with `make` in a slot, then, when given, `finish` (e.g. storing what `make` returned) once the slot
   * is free for the next render: identical requests still share both, and a failure of either is remembered.
   */
  run<T>(key: string, make: () => Promise<T>): Promise<T>;
  run<M, T>(key: string, make: () => Promise<M>, finish: (made: M) => Promise<T>): Promise<T>;
  run<T>(key: string, make: () => Promise<unknown>, finish?: (made: unknown) => Promise<T>): Promise<T> {
    // Thumbnails share the image slots; their keys tell them apart.
    const kind: RenderKind = key.startsWith(THUMBNAILS_PREFIX) ? 'thumbnail' : (this.options.kind ?? 'image');
    const { inFlight, failures } = this.shared;
    const failed = failures.get(key);
    if (failed && failed.until > this.now()) return Promise.reject(failed.error);
    let pending = inFlight.get(key) as Promise<T> | undefined;
    if (!pending) {
      if (this.options.maxQueued !== undefined && this.limiter.pendingCount >= this.options.maxQueued) {
        this.options.metrics?.refused(kind, 'TOO_MANY_TRANSFORMATIONS');
        return Promise.reject(
          new AppError('TOO_MANY_TRANSFORMATIONS', `${this.limiter.pendingCount} transformations are already waiting to be computed; retry shortly.`, {
            parameter: 'tr',
            details: { retryAfterSeconds: 5 },
          }),
        );
      }
      const made = this.limiter.run(() => this.measured(kind, make));
      pending = (finish ? made.then(finish) : (made as Promise<T>))
        .catch((error: unknown) => {
          if (this.options.failureTtlMs && !(isAppError(error) && error.status === 503)) this.remember(key, error);
          throw error;
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return this.awaitAtMost(pending, kind);
  }

  private measured<T>(kind: RenderKind, make: () => Promise<T>): Promise<T> {
    const { metrics } = this.options;
    return metrics ? timed(make, (seconds, failed) => metrics.rendered(kind, seconds, failed)) : make();
  }

  /** Keeps `error` as the answer for `key`; an unexpected one as the masked 500 it reached the client as (it was logged once). */
  private remember(key: string, error: unknown): void {
    const { failures } = this.shared;
    failures.delete(key);
    const answer = isAppError(error) ? error : new AppError('INTERNAL_SERVER_ERROR', 'We have experienced an internal error while processing your request.');
    failures.set(key, { error: answer, until: this.now() + (this.options.failureTtlMs ?? 0) });
    if (failures.size > MAX_REMEMBERED_FAILURES) failures.delete(failures.keys().next().value as string);
  }

  private awaitAtMost<T>(pending: Promise<T>, kind: RenderKind): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        pending.catch(() => {}); // the render's own outcome is no longer anyone's to report
        const seconds = Math.max(1, Math.ceil(this.waitMs / 1000));
        this.options.metrics?.refused(kind, 'TRANSFORMATION_TIMEOUT');
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
