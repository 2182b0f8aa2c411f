import type { Readable } from 'node:stream';
import { type Clock, systemClock } from '../clock.js';
import { DerivativeRepo } from '../db/repos/derivative-repo.js';
import type { Transactor } from '../db/transactor.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { BlobInfo, BlobStore, ByteRange, PutOptions } from '../storage/blob-store.js';
import { DERIVATIVE_PREFIXES, type DerivativeOwner, derivativeOwner } from '../storage/blob-keys.js';

export interface DerivativeCacheOptions {
  /** Most bytes of derivatives kept; the least recently used go first. */
  maxBytes: number;
  log: Logger;
  /** How often cache hits are written to the ledger, in one transaction. */
  touchEveryMs?: number;
  /** Told about each eviction (see `src/metrics/metrics.ts`). */
  metrics?: DerivativeCacheMetrics;
  /** Stamps stores and uses (the recency eviction goes by); the system clock by default. */
  clock?: Clock;
}

/** Where the cache reports evictions (see `src/metrics/metrics.ts`). */
export interface DerivativeCacheMetrics {
  /** `entries` (a stream package counts as one) holding `bytes` were evicted to stay under the cap. */
  evicted(entries: number, bytes: number): void;
}

/** How long the ledger's total, once read, is trusted (plus this process's own stores) before it is read again. */
const RECOUNT_EVERY_MS = 10_000;

/**
 * The blob store as derivative producers (renders, thumbnails, stream packages) and delivery see it. Other keys
 * pass straight through; a derivative (see `derivativeOwner`) is also kept in the `derivatives` ledger:
 * - storing one records it, then evicts the least recently used entries until the total is under `maxBytes`
 *   (never the entry just stored; a stream package is evicted whole);
 * - finding one (`stat`) counts as a use, written in batches so hits cost no write each;
 * - one finished after its version was deleted is deleted at once, so nothing outlives its file.
 * Eviction only unlinks: on the local store a response already streaming the blob carries on.
 */
export class DerivativeCache implements BlobStore {
  private readonly touched = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly clock: Clock;
  private readonly ledger: DerivativeRepo;
  /** The ledger's total bytes as of the last eviction (read at `at`), plus what this process stored since. */
  private estimate: { used: number; at: number } | undefined;
  readonly localPath?: (key: string) => string;

  constructor(
    transactor: Transactor,
    private readonly store: BlobStore,
    private readonly options: DerivativeCacheOptions,
  ) {
    if (store.localPath) this.localPath = (key) => store.localPath?.(key) as string;
    this.clock = options.clock ?? systemClock;
    this.ledger = new DerivativeRepo(transactor);
  }

  /** Starts writing cache hits every `touchEveryMs` (until then they are written by the next store, sweep or close). */
  start(): void {
    this.timer ??= setInterval(() => {
      this.flushTouches().catch((err: unknown) => this.options.log.error({ err }, 'Derivative cache: writing cache hits failed'));
    }, this.options.touchEveryMs ?? 10_000).unref();
  }

  /** @throws NOT_FOUND when the derivative's version was deleted while it was being made (nothing is left stored). */
  async put(key: string, body: Readable, options?: PutOptions): Promise<{ size: number }> {
    const stored = await this.store.put(key, body, options);
    const owner = derivativeOwner(key);
    if (!owner) return stored;
    // Recorded after the bytes land: a deletion in between has either removed the row's version (seen here) or
    // will list and delete this blob itself.
    if (!(await this.record(key, owner, stored.size, this.clock.now()))) {
      await this.store.delete(key);
      throw new AppError('NOT_FOUND', 'The requested asset does not exist.');
    }
    // The derivative is stored whatever happens to others; a failed eviction is retried after the next store.
    await this.evictAfterStoring(owner.entry, stored.size).catch((err: unknown) => this.options.log.error({ err }, 'Derivative cache eviction failed'));
    return stored;
  }

  get(key: string, range?: ByteRange): Promise<Readable> {
    return this.store.get(key, range);
  }

  async stat(key: string): Promise<BlobInfo | null> {
    const info = await this.store.stat(key);
    if (info && derivativeOwner(key)) this.touched.set(key, this.clock.now());
    return info;
  }

  async delete(key: string): Promise<void> {
    await this.store.delete(key);
    await this.ledger.forget([key]);
  }

  list(prefix: string): AsyncIterable<BlobInfo> {
    return this.store.list(prefix);
  }

  sweepIncomplete(olderThan: Date): Promise<number> {
    return this.store.sweepIncomplete(olderThan);
  }

  /**
   * Run by the janitor, so safe while other processes store derivatives: only blobs last written before
   * `olderThan` are looked at. Deletes those whose version no longer exists (finished after a delete, then a
   * crash), records those the ledger lacks (made before it existed, or a crash between storing and recording),
   * forgets rows whose blob is gone and that were not used since `olderThan`, then evicts down to the cap.
   */
  async sweep(olderThan: Date): Promise<{ orphans: number; adopted: number }> {
    let orphans = 0;
    let adopted = 0;
    const seen = new Set<string>();
    for (const prefix of DERIVATIVE_PREFIXES) {
      for await (const blob of this.store.list(prefix)) {
        seen.add(blob.key);
        const owner = derivativeOwner(blob.key);
        if (!owner || blob.modifiedAt >= olderThan) continue;
        if (await this.ledger.has(blob.key)) continue;
        if (await this.record(blob.key, owner, blob.size, blob.modifiedAt.getTime())) adopted++;
        else {
          await this.store.delete(blob.key);
          orphans++;
        }
      }
    }
    const uses = await this.ledger.listUses();
    await this.ledger.forget(uses.filter((row) => !seen.has(row.key) && row.lastUsedAt < olderThan.getTime()).map((row) => row.key));
    await this.evict(undefined);
    return { orphans, adopted };
  }

  /** Writes the pending cache hits; a package's files share their folder's recency. */
  async flushTouches(): Promise<void> {
    if (this.touched.size === 0) return;
    const touched = [...this.touched];
    this.touched.clear();
    await this.ledger.touch(touched.map(([key, at]) => ({ entry: (derivativeOwner(key) as DerivativeOwner).entry, at })));
  }

  /** Bytes of derivatives the ledger holds now. */
  async totalBytes(): Promise<number> {
    return this.ledger.usedBytes();
  }

  /** Stops the batching timer and writes what it holds. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flushTouches();
  }

  /** Records a stored derivative unless its version is gone. */
  private record(key: string, owner: DerivativeOwner, bytes: number, at: number): Promise<boolean> {
    return this.ledger.record({ key, entry: owner.entry, versionId: owner.versionId, bytes }, at);
  }

  /**
   * Evicts after a store of `bytes`, unless the ledger's total as last read plus what this process stored since is
   * still under the cap and was read less than {@link RECOUNT_EVERY_MS} ago: most renders then cost no count of the
   * whole ledger. What other processes store is counted at the next recount (theirs or this one's), so with several
   * instances the cap can be passed by what they store in that time.
   */
  private async evictAfterStoring(keep: string, bytes: number): Promise<void> {
    const estimate = this.estimate;
    if (estimate) {
      estimate.used += bytes;
      if (estimate.used <= this.options.maxBytes && this.clock.now() - estimate.at < RECOUNT_EVERY_MS) return;
    }
    await this.evict(keep);
  }

  /** Deletes least recently used entries (except `keep`) until the total is under the cap. */
  private async evict(keep: string | undefined): Promise<void> {
    await this.flushTouches();
    const { maxBytes } = this.options;
    const { keys, entries, freed, used } = await this.ledger.evictOldest(maxBytes, keep);
    this.estimate = { used, at: this.clock.now() };
    if (entries === 0) return;
    this.options.metrics?.evicted(entries, freed);
    for (const key of keys) await this.store.delete(key);
    this.options.log.info({ evicted: entries, freedBytes: freed, usedBytes: used, maxBytes }, `Derivative cache: evicted ${entries} (${freed} bytes), now ${used} bytes of ${maxBytes}`);
  }
}
