/**
 * Time as the scheduling parts see it (job due times and leases, the janitor's runs, the derivative cache's
 * recency): the system clock in production, one a test moves by hand to make a retry or a janitor run due at once.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /**
   * Calls `callback` once `ms` of this clock's time have passed. It never keeps the process alive.
   * @returns a function that cancels the call (harmless once it ran)
   */
  setTimeout(callback: () => void, ms: number): () => void;
}

/** The real time, with Node's timers (unref'd). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const timer = setTimeout(callback, ms).unref();
    return () => clearTimeout(timer);
  },
};
