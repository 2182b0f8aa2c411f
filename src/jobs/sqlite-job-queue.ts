import { and, asc, eq, inArray, lt, lte, or, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import type { Transactor } from '../db/transactor.js';
import { jobs } from '../db/schema.js';
import { currentRequestId } from '../logging/request-context.js';
import { createObjectId } from '../upload/ids.js';
import { type JobKind, type JobPayload, parseJobPayload, toJobKind } from './job-kind.js';
import type { JobOutbox } from './job-outbox.js';
import type { EnqueueOptions, Job } from './job-queue.js';
import { type JobCount, type JobTransport, QUEUED_JOB_STATES } from './job-transport.js';

/**
 * A stored payload as JSON; text that is not JSON is handed out as it is, which no payload schema accepts, so the
 * runner marks the job dead naming it instead of the claim failing again at every poll.
 */
const parseStored = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/**
 * The job queue on the application's own database: the outbox writes jobs in the caller's transaction (or, without
 * one, through the transactor); the transport claims and settles them in transactions of its own.
 */
export class SqliteJobQueue implements JobOutbox, JobTransport {
  constructor(
    private readonly transactor: Transactor,
    private readonly now: () => number = Date.now,
  ) {}

  enqueue<P extends JobPayload>(kind: JobKind<P>, payload: NoInfer<P>, options?: EnqueueOptions, tx?: unknown): Promise<string>;
  enqueue(kind: string, payload: JobPayload, options?: EnqueueOptions, tx?: unknown): Promise<string>;
  async enqueue(kind: JobKind | string, payload: JobPayload, options: EnqueueOptions = {}, tx?: unknown): Promise<string> {
    const checked = toJobKind(kind);
    const parsed = parseJobPayload(checked, payload, 'enqueue');
    const id = createObjectId();
    const at = new Date(this.now());
    const insert = (db: Tx) =>
      db
        .insert(jobs)
        .values({
          id,
          kind: checked.name,
          payload: parsed,
          status: 'pending',
          maxAttempts: options.maxAttempts ?? 5,
          runAt: options.runAt ?? at.getTime(),
          requestId: options.requestId ?? currentRequestId() ?? null,
          createdAt: at,
          updatedAt: at,
        })
        .run();
    if (tx) insert(tx as Tx);
    else await this.transactor.write(insert);
    return id;
  }

  enqueueUnlessPending<P extends JobPayload>(kind: JobKind<P>, payload: NoInfer<P>, options?: EnqueueOptions): Promise<string | undefined>;
  enqueueUnlessPending(kind: string, payload: JobPayload, options?: EnqueueOptions): Promise<string | undefined>;
  async enqueueUnlessPending(kind: JobKind | string, payload: JobPayload, options?: EnqueueOptions): Promise<string | undefined> {
    const name = typeof kind === 'string' ? kind : kind.name;
    // IMMEDIATE: two processes scheduling at once must not both see none pending.
    return this.transactor.transaction(
      async (tx) => {
        const pending = tx.select({ id: jobs.id }).from(jobs).where(and(eq(jobs.kind, name), eq(jobs.status, 'pending'))).limit(1).get();
        return pending ? undefined : this.enqueue(toJobKind(kind), payload, options, tx);
      },
      { behavior: 'immediate' },
    );
  }

  async claim(kind: string, leaseMs: number): Promise<Job<unknown> | undefined> {
    const now = this.now();
    return this.transactor.transaction(
      async (tx) => {
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
          .returning({ id: jobs.id, kind: jobs.kind, payload: sql<string>`${jobs.payload}`, attempts: jobs.attempts, maxAttempts: jobs.maxAttempts, requestId: jobs.requestId })
          .get();
        if (!row) return undefined;
        return { id: row.id, kind: row.kind, payload: parseStored(row.payload), attempt: row.attempts, maxAttempts: row.maxAttempts, requestId: row.requestId };
      },
      { behavior: 'immediate' },
    );
  }

  async complete(jobId: string): Promise<void> {
    await this.transactor.write((db) => db.update(jobs).set({ status: 'done', leaseUntil: null, updatedAt: new Date(this.now()) }).where(eq(jobs.id, jobId)).run());
  }

  async fail(jobId: string, error: string, retryAt: number): Promise<'retrying' | 'dead'> {
    return this.transactor.transaction(async (tx) => {
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

  async markDead(jobId: string, error: string): Promise<void> {
    await this.transactor.write((db) =>
      db.update(jobs).set({ status: 'dead', leaseUntil: null, lastError: error.slice(0, 2000), updatedAt: new Date(this.now()) }).where(eq(jobs.id, jobId)).run(),
    );
  }

  async counts(kinds: readonly string[]): Promise<JobCount[]> {
    if (kinds.length === 0) return [];
    // Filtered by kind first so the (kind, status) index is used and the ever-growing done jobs are not read.
    return this.transactor.reader
      .select({ kind: jobs.kind, state: jobs.status, count: sql<number>`count(*)` })
      .from(jobs)
      .where(and(inArray(jobs.kind, [...kinds]), inArray(jobs.status, [...QUEUED_JOB_STATES])))
      .groupBy(jobs.kind, jobs.status)
      .all() as JobCount[];
  }

  async release(jobIds: readonly string[]): Promise<number> {
    if (jobIds.length === 0) return 0;
    const now = this.now();
    return this.transactor.write(
      (db) =>
        db
          .update(jobs)
          .set({ status: 'pending', runAt: now, leaseUntil: null, attempts: sql`max(0, ${jobs.attempts} - 1)`, updatedAt: new Date(now) })
          .where(and(inArray(jobs.id, [...jobIds]), eq(jobs.status, 'running')))
          .run().changes,
    );
  }

  async nextDueAt(kind: string): Promise<number | undefined> {
    const row = this.transactor.reader
      .select({ runAt: sql<number>`min(case when ${jobs.status} = 'pending' then ${jobs.runAt} else ${jobs.leaseUntil} end)` })
      .from(jobs)
      .where(and(eq(jobs.kind, kind), inArray(jobs.status, ['pending', 'running'])))
      .get();
    return row?.runAt ?? undefined;
  }
}
