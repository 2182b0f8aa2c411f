import { and, asc, eq, inArray, lt, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { jobs } from '../db/schema.js';
import { createObjectId } from '../upload/ids.js';
import type { EnqueueOptions, Job, JobQueue } from './job-queue.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

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
      .values({ id, kind, payload, status: 'pending', maxAttempts: options.maxAttempts ?? 5, runAt: options.runAt ?? at.getTime(), createdAt: at, updatedAt: at })
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
        return { id: row.id, kind: row.kind, payload: row.payload, attempt: row.attempts, maxAttempts: row.maxAttempts };
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

  nextDueAt(kind: string): number | undefined {
    const row = this.db
      .select({ runAt: sql<number>`min(case when ${jobs.status} = 'pending' then ${jobs.runAt} else ${jobs.leaseUntil} end)` })
      .from(jobs)
      .where(and(eq(jobs.kind, kind), inArray(jobs.status, ['pending', 'running'])))
      .get();
    return row?.runAt ?? undefined;
  }
}
