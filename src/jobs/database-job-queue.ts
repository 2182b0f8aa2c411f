import { and, asc, count, eq, inArray, lt, lte, or, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import type { Transactor } from '../db/transactor.js';
import { currentRequestId } from '../logging/request-context.js';
import { createObjectId } from '../upload/ids.js';
import { type JobKind, type JobPayload, parseJobPayload, toJobKind } from './job-kind.js';
import type { JobOutbox } from './job-outbox.js';
import type { EnqueueOptions, Job } from './job-queue.js';
import { type JobCount, type JobTransport, QUEUED_JOB_STATES } from './job-transport.js';

/**
 * A stored payload: SQLite hands out its JSON text, PostgreSQL the parsed `jsonb`. Text that is not JSON is handed
 * out as it is, which no payload schema accepts, so the runner marks the job dead naming it instead of the claim
 * failing again at every poll.
 */
const parseStored = (stored: unknown): unknown => {
  if (typeof stored !== 'string') return stored;
  try {
    return JSON.parse(stored);
  } catch {
    return stored;
  }
};

/** The lock `enqueueUnlessPending` and `claim` take on PostgreSQL, so two processes never both act on one kind's queue at once. */
const queueLock = (kind: string) => [`jobs:${kind}`];

/**
 * The job queue on the application's own database (either dialect): the outbox writes jobs in the caller's transaction (or, without
 * one, through the transactor); the transport claims and settles them in transactions of its own.
 */
export class DatabaseJobQueue implements JobOutbox, JobTransport {
  constructor(
    private readonly transactor: Transactor,
    private readonly now: () => number = Date.now,
  ) {}

  private get jobs() {
    return this.transactor.tables.jobs;
  }

  enqueue<P extends JobPayload>(kind: JobKind<P>, payload: NoInfer<P>, options?: EnqueueOptions, tx?: unknown): Promise<string>;
  enqueue(kind: string, payload: JobPayload, options?: EnqueueOptions, tx?: unknown): Promise<string>;
  async enqueue(kind: JobKind | string, payload: JobPayload, options: EnqueueOptions = {}, tx?: unknown): Promise<string> {
    const checked = toJobKind(kind);
    const parsed = parseJobPayload(checked, payload, 'enqueue');
    const id = createObjectId();
    const at = new Date(this.now());
    const insert = (db: Tx) =>
      db
        .insert(this.jobs)
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
        });
    if (tx) await insert(tx as Tx);
    else await this.transactor.write(insert);
    return id;
  }

  enqueueUnlessPending<P extends JobPayload>(kind: JobKind<P>, payload: NoInfer<P>, options?: EnqueueOptions): Promise<string | undefined>;
  enqueueUnlessPending(kind: string, payload: JobPayload, options?: EnqueueOptions): Promise<string | undefined>;
  async enqueueUnlessPending(kind: JobKind | string, payload: JobPayload, options?: EnqueueOptions): Promise<string | undefined> {
    const name = typeof kind === 'string' ? kind : kind.name;
    const jobs = this.jobs;
    // IMMEDIATE: two processes scheduling at once must not both see none pending.
    return this.transactor.transaction(
      async (tx) => {
        const [pending] = await tx.select({ id: jobs.id }).from(jobs).where(and(eq(jobs.kind, name), eq(jobs.status, 'pending'))).limit(1);
        return pending ? undefined : this.enqueue(toJobKind(kind), payload, options, tx);
      },
      { behavior: 'immediate', locks: queueLock(name) },
    );
  }

  async claim(kind: string, leaseMs: number): Promise<Job<unknown> | undefined> {
    const now = this.now();
    const jobs = this.jobs;
    return this.transactor.transaction(
      async (tx) => {
        const [due] = await tx
          .select({ id: jobs.id })
          .from(jobs)
          .where(
            and(
              eq(jobs.kind, kind),
              or(and(eq(jobs.status, 'pending'), lte(jobs.runAt, now)), and(eq(jobs.status, 'running'), lt(jobs.leaseUntil, now))),
            ),
          )
          .orderBy(asc(jobs.runAt))
          .limit(1);
        if (!due) return undefined;
        const [row] = await tx
          .update(jobs)
          .set({ status: 'running', leaseUntil: now + leaseMs, attempts: sql`${jobs.attempts} + 1`, updatedAt: new Date(now) })
          .where(eq(jobs.id, due.id))
          .returning({ id: jobs.id, kind: jobs.kind, payload: sql<string>`${jobs.payload}`, attempts: jobs.attempts, maxAttempts: jobs.maxAttempts, requestId: jobs.requestId });
        if (!row) return undefined;
        return { id: row.id, kind: row.kind, payload: parseStored(row.payload), attempt: row.attempts, maxAttempts: row.maxAttempts, requestId: row.requestId };
      },
      { behavior: 'immediate', locks: queueLock(kind) },
    );
  }

  async complete(jobId: string): Promise<void> {
    const jobs = this.jobs;
    await this.transactor.write((db) => db.update(jobs).set({ status: 'done', leaseUntil: null, updatedAt: new Date(this.now()) }).where(eq(jobs.id, jobId)));
  }

  async fail(jobId: string, error: string, retryAt: number): Promise<'retrying' | 'dead'> {
    const jobs = this.jobs;
    return this.transactor.transaction(async (tx) => {
      const [row] = await tx.select().from(jobs).where(eq(jobs.id, jobId)).limit(1);
      if (!row) return 'dead';
      const dead = row.attempts >= row.maxAttempts;
      await tx
        .update(jobs)
        .set({ status: dead ? 'dead' : 'pending', runAt: retryAt, leaseUntil: null, lastError: error.slice(0, 2000), updatedAt: new Date(this.now()) })
        .where(eq(jobs.id, jobId));
      return dead ? 'dead' : 'retrying';
    });
  }

  async markDead(jobId: string, error: string): Promise<void> {
    const jobs = this.jobs;
    await this.transactor.write((db) =>
      db.update(jobs).set({ status: 'dead', leaseUntil: null, lastError: error.slice(0, 2000), updatedAt: new Date(this.now()) }).where(eq(jobs.id, jobId)),
    );
  }

  async counts(kinds: readonly string[]): Promise<JobCount[]> {
    if (kinds.length === 0) return [];
    const jobs = this.jobs;
    // Filtered by kind first so the (kind, status) index is used and the ever-growing done jobs are not read.
    return (await this.transactor.reader
      .select({ kind: jobs.kind, state: jobs.status, count: count() })
      .from(jobs)
      .where(and(inArray(jobs.kind, [...kinds]), inArray(jobs.status, [...QUEUED_JOB_STATES])))
      .groupBy(jobs.kind, jobs.status)) as JobCount[];
  }

  async release(jobIds: readonly string[]): Promise<number> {
    if (jobIds.length === 0) return 0;
    const now = this.now();
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
