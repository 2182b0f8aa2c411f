/** Starts timing; the returned function gives the seconds elapsed since (monotonic clock). */
export function startStopwatch(): () => number {
  const started = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - started) / 1e9;
}

/** Runs `work` and reports how long it took and whether it threw; settles as `work` settles. */
export async function timed<T>(work: () => Promise<T>, report: (seconds: number, failed: boolean) => void): Promise<T> {
  const elapsed = startStopwatch();
  try {
    const result = await work();
    report(elapsed(), false);
    return result;
  } catch (error) {
    report(elapsed(), true);
    throw error;
  }
}
