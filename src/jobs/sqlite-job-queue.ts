import { and, asc, eq, inArray, lt, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { jobs } from '../db/schema.js';
import { currentRequestId } from '../logging/request-context.js';
import { createObjectId } from '../upload/ids.js';
import type { EnqueueOptions, Job, JobQueue } from './job-queue.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** The states a job waits or fails in (finished jobs are kept but are no longer queued). */
export const QUEUED_JOB_STATES = ['pending', 'running', 'dead'] as const;

/** A state a queued job can be in. */
export type QueuedJobState = (typeof QUEUED_JOB_STATES)[number];

/** How many jobs of `kind` are in `state`. */
export interface JobCount {
  kind: string;
  state: QueuedJobState;
  count: number;
}

/** The job queue on the application's own database. */
export class SqliteJobQueue implements JobQueue {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  enqueue(kind: string, payload: Record<string, unknown>, options: EnqueueOptions = {}, tx?: unknown): string {
    const id = createObjectId();
    const at = new Date(this.now());
    ((tx as Tx | undefined) ?? this.db)
      .insert(jobs)
      .values({
        id,
        kind,
        payload,
        status: 'pending',
        maxAttempts: options.maxAttempts ?? 5,
        runAt: options.runAt ?? at.getTime(),
        requestId: options.requestId ?? currentRequestId() ?? null,
        createdAt: at,
        updatedAt: at,
      })
      .run();
    return id;
  }

  claim(kind: string, leaseMs: number): Job | undefined {
    const now = this.now();
    return this.db.transaction(
      (tx) => {
        const due = tx
          .select({ id: jobs.id })
          .from(jobs)
          .where(
            and(
              eq(jobs.kind, kind),
              or(and(eq(jobs.status, 'pending'), lte(jobs.runAt, now)), and(eq(jobs.status, 'running'), lt(jobs.leaseUntil, now))),
            ),
          )
          .orderBy(asc(jobs.runAt))
          .limit(1)
          .get();
        if (!due) return undefined;
        const row = tx
          .update(jobs)
          .set({ status: 'running', leaseUntil: now + leaseMs, attempts: sql`${jobs.attempts} + 1`, updatedAt: new Date(now) })
          .where(eq(jobs.id, due.id))
          .returning()
          .get();
        return { id: row.id, kind: row.kind, payload: row.payload, attempt: row.attempts, maxAttempts: row.maxAttempts, requestId: row.requestId };
      },
      { behavior: 'immediate' },
    );
  }

  complete(jobId: string): void {
    this.db.update(jobs).set({ status: 'done', leaseUntil: null, updatedAt: new Date(this.now()) }).where(eq(jobs.id, jobId)).run();
  }

  fail(jobId: string, error: string, retryAt: number): 'retrying' | 'dead' {
    return this.db.transaction((tx) => {
      const row = tx.select().from(jobs).where(eq(jobs.id, jobId)).get();
      if (!row) return 'dead';
      const dead = row.attempts >= row.maxAttempts;
      tx.update(jobs)
        .set({ status: dead ? 'dead' : 'pending', runAt: retryAt, leaseUntil: null, lastError: error.slice(0, 2000), updatedAt: new Date(this.now()) })
        .where(eq(jobs.id, jobId))
        .run();
      return dead ? 'dead' : 'retrying';
    });
  }

  /** How many jobs of each of `kinds` are pending, running or dead; combinations with none are left out. */
  counts(kinds: readonly string[]): JobCount[] {
    if (kinds.length === 0) return [];
    // Filtered by kind first so the (kind, status) index is used and the ever-growing done jobs are not read.
    return this.db
      .select({ kind: jobs.kind, state: jobs.status, count: sql<number>`count(*)` })
      .from(jobs)
      .where(and(inArray(jobs.kind, [...kinds]), inArray(jobs.status, [...QUEUED_JOB_STATES])))
      .groupBy(jobs.kind, jobs.status)
      .all() as JobCount[];
  }

  release(jobIds: readonly string[]): number {
    if (jobIds.length === 0) return 0;
    const now = this.now();
    return this.db
      .update(jobs)
      .set({ status: 'pending', runAt: now, leaseUntil: null, attempts: sql`max(0, ${jobs.attempts} - 1)`, updatedAt: new Date(now) })
      .where(and(inArray(jobs.id, [...jobIds]), eq(jobs.status, 'running')))
      .run().changes;
  }

  nextDueAt(kind: string): number | undefined {
    const row = this.db
      .select({ runAt: sql<number>`min(case when ${jobs.status} = 'pending' then ${jobs.runAt} else ${jobs.leaseUntil} end)` })
      .from(jobs)
      .where(and(eq(jobs.kind, kind), inArray(jobs.status, ['pending', 'running'])))
      .get();
    return row?.runAt ?? undefined;
  }
}
