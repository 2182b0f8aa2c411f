import { z } from 'zod';
import { type Clock, systemClock } from '../clock.js';
import type { DerivativeCache } from '../delivery/derivative-cache.js';
import type { Logger } from '../logger.js';
import { ORIGINALS_PREFIX } from '../storage/blob-keys.js';
import type { BlobStore } from '../storage/blob-store.js';
import { defineJobKind, type PayloadOf } from './job-kind.js';
import type { JobOutbox } from './job-outbox.js';
import type { JobHandler } from './job-runner.js';

/** The janitor's job: one pending at a time, which schedules the next run when it ends. It carries nothing. */
export const janitorJob = defineJobKind('janitor', z.object({}).strict());

/** How long a run is leased: past it (its process died), another process runs it again. */
const LEASE_MS = 10 * 60_000;

/** The first run on a new queue comes this long after the start (or one interval, when shorter). */
const FIRST_RUN_DELAY_MS = 60_000;

/** What one collection deleted, by kind (the `kind` label of `stowage_janitor_collected_total`). */
export interface Collected {
  /** Temp objects of writes interrupted (a crash) or stalled for longer than the grace period. */
  temp: number;
  /** Blobs under `files/` that no version row points to (a crash between storing the bytes and committing the row). */
  orphan: number;
  /** Derivatives and thumbnails of versions that no longer exist. */
  derivative: number;
}

/** Where the janitor reports what it collected (see `src/metrics/metrics.ts`). */
export interface JanitorMetrics {
  collected(kind: keyof Collected, count: number): void;
}

export interface JanitorOptions {
  store: BlobStore;
  /** Whether a version row points to a blob key. */
  files: { hasBlobKey(blobKey: string): boolean | Promise<boolean> };
  derived: Pick<DerivativeCache, 'sweep'>;
  /** Where runs are scheduled: one job pending at a time, however many processes schedule it. */
  queue: Pick<JobOutbox, 'enqueueUnlessPending'>;
  log: Logger;
  metrics?: JanitorMetrics;
  /** Only objects last written longer ago than this are collected. */
  graceMs: number;
  /** Time from the end of one run to the next. */
  intervalMs: number;
  /** What "older than the grace period" and "an interval later" are measured by; the system clock by default. */
  clock?: Clock;
}

/**
 * Collects what crashes leave behind (temp objects, blobs with no version row, derivatives of deleted versions).
 * It runs as a leased job, so with several processes on one store a single one collects at a time, and it only
 * touches objects older than the grace period: an upload in flight in any process writes its temp object and
 * commits its row well within it, so nothing in use is ever collected. Nothing is deleted at a process start.
 */
export class Janitor {
  private readonly clock: Clock;

  constructor(private readonly options: JanitorOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Deletes the orphans last written before `at` minus the grace period; logs and counts them. */
  async collect(at = this.clock.now()): Promise<Collected> {
    const { store, files, derived, log, metrics, graceMs } = this.options;
    const olderThan = new Date(at - graceMs);
    const temp = await store.sweepIncomplete(olderThan);
    let orphan = 0;
    for await (const blob of store.list(ORIGINALS_PREFIX)) {
      if (blob.modifiedAt < olderThan && !(await files.hasBlobKey(blob.key))) {
        await store.delete(blob.key);
        orphan++;
      }
    }
    const { orphans: derivative } = await derived.sweep(olderThan);
    const collected: Collected = { temp, orphan, derivative };
    for (const [kind, count] of Object.entries(collected)) metrics?.collected(kind as keyof Collected, count);
    log.info({ collected, graceMs }, `Janitor collected ${temp} temp objects, ${orphan} orphaned blobs and ${derivative} derivatives of deleted versions`);
    return collected;
  }

  /**
   * Schedules the first run unless one is pending (another process, or an earlier start, scheduled it): a restart
   * neither brings the next run forward nor adds one. The delay is not for safety (the grace period applies to
   * each object, whenever the janitor runs) but keeps a new installation's first start, or a short-lived process,
   * from walking the store while it starts; leftovers from before the janitor existed go within a minute.
   */
  async schedule(): Promise<void> {
    await this.enqueueNext(this.clock.now() + Math.min(FIRST_RUN_DELAY_MS, this.options.intervalMs));
  }

  /** The job handler: collects, then schedules the next run an interval later, even when this one failed. */
  handler(): JobHandler<PayloadOf<typeof janitorJob>> {
    return {
      concurrency: 1,
      leaseMs: LEASE_MS,
      run: async () => {
        try {
          await this.collect();
        } finally {
          await this.enqueueNext(this.clock.now() + this.options.intervalMs);
        }
      },
    };
  }

  // One attempt: a failed run is not retried, the next scheduled one takes over.
  private async enqueueNext(runAt: number): Promise<void> {
    await this.options.queue.enqueueUnlessPending(janitorJob, {}, { runAt, maxAttempts: 1 });
  }
}
