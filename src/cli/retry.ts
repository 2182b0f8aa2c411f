import { isTransient } from './cli-error.js';

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /** The wait before the second attempt; each later wait doubles. */
  firstDelayMs: number;
  /** Told before each new attempt (2, 3…) why the previous one failed. */
  onRetry?: (attempt: number, error: unknown) => void;
  /** Which failures are worth another attempt. */
  shouldRetry?: (error: unknown) => boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` until it succeeds, fails for good, or `attempts` are spent; then throws the last failure.
 * By default only transient failures (network errors, 429, 5xx, the server's load codes) are retried:
 * a request the server refused as invalid would be refused again.
 */
export async function withRetry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const shouldRetry = options.shouldRetry ?? isTransient;
  for (let n = 1; ; n += 1) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= options.attempts || !shouldRetry(error)) throw error;
      options.onRetry?.(n + 1, error);
      await sleep(options.firstDelayMs * 2 ** (n - 1));
    }
  }
}
