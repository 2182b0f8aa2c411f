/**
 * The running totals of a bulk upload, shared by every way of showing progress. Bytes are counted as the
 * request takes them from disk; a retried file starts over, and a finished file (uploaded or failed)
 * counts whole, so the overall progress reaches its end exactly when every file is settled.
 */
export class Tally {
  readonly startedAt = Date.now();
  filesSettled = 0;
  /** Bytes sent, retries included: what the rate is computed from. */
  bytesSent = 0;
  private bytesSettled = 0;
  private readonly inFlight = new Map<object, number>();

  constructor(
    readonly totalFiles: number,
    readonly totalBytes: number,
  ) {}

  add(key: object, bytes: number): void {
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + bytes);
    this.bytesSent += bytes;
  }

  /** A new attempt sends the file from its start. */
  restart(key: object): void {
    this.inFlight.delete(key);
  }

  settle(key: object, size: number): void {
    this.inFlight.delete(key);
    this.bytesSettled += size;
    this.filesSettled += 1;
  }

  /** Bytes of the whole job done so far (capped to the total). */
  get bytesDone(): number {
    let done = this.bytesSettled;
    for (const bytes of this.inFlight.values()) done += bytes;
    return Math.min(done, this.totalBytes);
  }

  /** Bytes per second since the start. */
  rate(now = Date.now()): number {
    const seconds = (now - this.startedAt) / 1000;
    return seconds > 0 ? this.bytesSent / seconds : 0;
  }

  /** Milliseconds left at the current rate; undefined before anything was sent. */
  etaMs(now = Date.now()): number | undefined {
    const rate = this.rate(now);
    return rate > 0 ? ((this.totalBytes - this.bytesDone) / rate) * 1000 : undefined;
  }
}
