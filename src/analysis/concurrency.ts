/** Runs async tasks with at most a fixed number in flight. */
export interface Limiter {
  /** Runs `fn` once fewer than the limit are running; settles as `fn` settles. Tasks start in call order. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Tasks running now. */
  readonly activeCount: number;
  /** Tasks waiting for a slot. */
  readonly pendingCount: number;
}

/**
 * A counting semaphore, e.g. to bound how many ffprobe/ffmpeg processes run at once. A task that throws
 * (or returns a rejected promise) frees its slot like one that succeeds.
 *
 * @throws RangeError unless `limit` is a positive integer.
 */
export function createLimiter(limit: number): Limiter {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`Limiter size must be a positive integer, got ${limit}`);
  let active = 0;
  const waiting: Array<() => void> = [];

  // A finishing task hands its slot straight to the next waiter (active stays the same), so a task that
  // arrives in between cannot take the slot as well.
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };

  const run = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active < limit) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await fn();
    } finally {
      release();
    }
  };

  return {
    run,
    get activeCount() {
      return active;
    },
    get pendingCount() {
      return waiting.length;
    },
  };
}
