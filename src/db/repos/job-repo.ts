import { and, asc, count, eq, inArray, lt, lte, or, sql } from 'drizzle-orm';
import type { Db, Tx } from '../client.js';
import type { JobRow } from '../schema.js';
import type { Tables } from '../tables.js';
import type { Transactor } from '../transactor.js';

/** A job's row as the outbox writes it. */
export type NewJobRow = Omit<JobRow, 'attempts' | 'leaseUntil' | 'lastError'>;

/** A claimed job's row: the payload as the driver returns it (JSON text on SQLite, parsed `jsonb` on PostgreSQL). */
export interface ClaimedJobRow {
  id: string;
  kind: string;
  payload: unknown;
  attempts: number;
  maxAttempts: number;
  requestId: string | null;
}

/** The statuses `counts` reports, as the `jobs` table holds them. */
export type QueuedJobStatus = 'pending' | 'running' | 'dead';

/** The lock `claim` and the singleton check take on PostgreSQL, so two processes never act on one kind's queue at once. */
const queueLock = (kind: string) => [`jobs:${kind}`];

/** The `jobs` table: the job queue's outbox rows, leases and outcomes. */
export class JobRepo {
  constructor(private readonly transactor: Transactor) {}

  private get jobs(): Tables['jobs'] {
    return this.transactor.tables.jobs;
  }

  /** Adds a job, in the caller's transaction `tx` or on its own. */
  async insert(row: NewJobRow, tx?: Tx): Promise<void> {
    const insert = (db: Db) => db.insert(this.jobs).values(row);
    if (tx) await insert(tx);
    else await this.transactor.write(insert);
  }

  /**
   * Runs `insert` in a transaction unless a job of `kind` is pending; serialised with every other such check and
   * claim of that kind, so two processes scheduling at once never both see none pending.
   * @returns what `insert` returned, or undefined when one was pending
   */
  async insertUnlessPending<T>(kind: string, insert: (tx: Tx) => Promise<T>): Promise<T | undefined> {
    const jobs = this.jobs;
    return this.transactor.transaction(
      async (tx) => {
        const [pending] = await tx.select({ id: jobs.id }).from(jobs).where(and(eq(jobs.kind, kind), eq(jobs.status, 'pending'))).limit(1);
        return pending ? undefined : insert(tx);
      },
      { behavior: 'immediate', locks: queueLock(kind) },
    );
  }

  /** Leases the longest-due job of `kind` (pending and due, or running with an expired lease) until `now + leaseMs`. */
  async claim(kind: string, now: number, leaseMs: number): Promise<ClaimedJobRow | undefined> {
    const jobs = this.jobs;
    return this.transactor.transaction(
      async (tx) => {
        const [due] = await tx
          .select({ id: jobs.id })
          .from(jobs)
          .where(and(eq(jobs.kind, kind), or(and(eq(jobs.status, 'pending'), lte(jobs.runAt, now)), and(eq(jobs.status, 'running'), lt(jobs.leaseUntil, now)))))
          .orderBy(asc(jobs.runAt))
          .limit(1);
        if (!due) return undefined;
        const [row] = await tx
          .update(jobs)
          .set({ status: 'running', leaseUntil: now + leaseMs, attempts: sql`${jobs.attempts} + 1`, updatedAt: new Date(now) })
          .where(eq(jobs.id, due.id))
          .returning({ id: jobs.id, kind: jobs.kind, payload: sql<unknown>`${jobs.payload}`, attempts: jobs.attempts, maxAttempts: jobs.maxAttempts, requestId: jobs.requestId });
        return row;
      },
      { behavior: 'immediate', locks: queueLock(kind) },
    );
  }

  async markDone(jobId: string, now: number): Promise<void> {
    const jobs = this.jobs;
    await this.transactor.write((db) => db.update(jobs).set({ status: 'done', leaseUntil: null, updatedAt: new Date(now) }).where(eq(jobs.id, jobId)));
  }

  /** Records a failed attempt: pending again at `retryAt`, or dead once its attempts are spent (or it is gone). */
  async fail(jobId: string, error: string, retryAt: number, now: number): Promise<'retrying' | 'dead'> {
    const jobs = this.jobs;
    return this.transactor.transaction(async (tx) => {
      const [row] = await tx.select().from(jobs).where(eq(jobs.id, jobId)).limit(1);
      if (!row) return 'dead';
      const dead = row.attempts >= row.maxAttempts;
      await tx
        .update(jobs)
        .set({ status: dead ? 'dead' : 'pending', runAt: retryAt, leaseUntil: null, lastError: error, updatedAt: new Date(now) })
        .where(eq(jobs.id, jobId));
      return dead ? 'dead' : 'retrying';
    });
  }

  async markDead(jobId: string, error: string, now: number): Promise<void> {
    const jobs = this.jobs;
    await this.transactor.write((db) => db.update(jobs).set({ status: 'dead', leaseUntil: null, lastError: error, updatedAt: new Date(now) }).where(eq(jobs.id, jobId)));
  }

  /** How many jobs of each of `kinds` are in each of `statuses`; combinations with none are left out. */
  async counts(kinds: readonly string[], statuses: readonly QueuedJobStatus[]): Promise<{ kind: string; state: QueuedJobStatus; count: number }[]> {
    const jobs = this.jobs;
    // Filtered by kind first so the (kind, status) index is used and the ever-growing done jobs are not read.
    return (await this.transactor.reader
      .select({ kind: jobs.kind, state: jobs.status, count: count() })
      .from(jobs)
      .where(and(inArray(jobs.kind, [...kinds]), inArray(jobs.status, [...statuses])))
      .groupBy(jobs.kind, jobs.status)) as { kind: string; state: QueuedJobStatus; count: number }[];
  }

  /** Puts running jobs back to pending, due `now`, their attempt not counted. @returns how many were running */
  async release(jobIds: readonly string[], now: number): Promise<number> {
    const jobs = this.jobs;
    const released = await this.transactor.write((db) =>
      db
        .update(jobs)
        .set({ status: 'pending', runAt: now, leaseUntil: null, attempts: sql`CASE WHEN ${jobs.attempts} > 0 THEN ${jobs.attempts} - 1 ELSE 0 END`, updatedAt: new Date(now) })
        .where(and(inArray(jobs.id, [...jobIds]), eq(jobs.status, 'running')))
        .returning({ id: jobs.id }),
    );
    return released.length;
  }

  /** Which of `kinds` have a job due at `now` (pending and due, or running with an expired lease): one read, no lock. */
  async dueKinds(kinds: readonly string[], now: number): Promise<string[]> {
    const jobs = this.jobs;
    const rows = await this.transactor.reader
      .selectDistinct({ kind: jobs.kind })
      .from(jobs)
      .where(and(inArray(jobs.kind, [...kinds]), or(and(eq(jobs.status, 'pending'), lte(jobs.runAt, now)), and(eq(jobs.status, 'running'), lt(jobs.leaseUntil, now)))));
    return rows.map((row) => row.kind);
  }

  /** When the next job of `kind` is due: the earliest pending run time or running lease end. */
  async nextDueAt(kind: string): Promise<number | undefined> {
    const jobs = this.jobs;
    // PostgreSQL returns bigint aggregates as text.
    const [row] = await this.transactor.reader
      .select({ runAt: sql<number>`min(case when ${jobs.status} = 'pending' then ${jobs.runAt} else ${jobs.leaseUntil} end)`.mapWith(Number) })
      .from(jobs)
      .where(and(eq(jobs.kind, kind), inArray(jobs.status, ['pending', 'running'])));
    return row?.runAt ?? undefined;
  }
}
