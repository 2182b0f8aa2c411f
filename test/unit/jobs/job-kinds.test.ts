import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openDatabase } from '../../../src/db/client.js';
import { createSqliteTransactor } from '../../../src/db/transactor.js';
import { isAppError } from '../../../src/errors.js';
import { defineJobKind, InvalidJobPayloadError } from '../../../src/jobs/job-kind.js';
import type { Job } from '../../../src/jobs/job-queue.js';
import { JobRunner } from '../../../src/jobs/job-runner.js';
import { DatabaseJobQueue } from '../../../src/jobs/database-job-queue.js';
import { createLogger } from '../../../src/logger.js';

const opened: { close: () => void; dir: string }[] = [];
const runners: JobRunner[] = [];
afterEach(async () => {
  for (const runner of runners.splice(0)) await runner.stop();
  for (const o of opened.splice(0)) {
    o.close();
    fs.rmSync(o.dir, { recursive: true, force: true });
  }
});

function open() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stowage-job-kinds-'));
  const { db, close } = openDatabase(path.join(dir, 'stowage.db'));
  const transactor = createSqliteTransactor(db);
  opened.push({ close: () => (transactor.close(), close()), dir });
  const queue = new DatabaseJobQueue(transactor);
  const runner = new JobRunner(queue, createLogger({ level: 'silent', format: 'json' }));
  runners.push(runner);
  return { db, queue, runner };
}

const deliverJob = defineJobKind('test.deliver', z.object({ deliveryId: z.string(), tries: z.number().int() }));

const rejectionOf = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
};

describe('job kinds', () => {
  it('refuses a bad payload at enqueue with a plain Error naming the kind and the field, and stores nothing', async () => {
    const { queue } = open();
    const error = await rejectionOf(queue.enqueue(deliverJob, { deliveryId: 'd1', tries: 'two' } as never));
    expect(error).toBeInstanceOf(InvalidJobPayloadError);
    expect(isAppError(error)).toBe(false);
    expect((error as Error).message).toMatch(/job kind "test\.deliver" at enqueue: tries: .*expected number/);
    await expect(queue.enqueue(deliverJob, { tries: 1 } as never)).rejects.toThrow(/"test\.deliver".*deliveryId/);
    expect(await queue.counts([deliverJob.name])).toEqual([]);
  });

  it('runs a good job with its payload as the schema parsed it', async () => {
    const { queue, runner } = open();
    const seen: Job<{ deliveryId: string; tries: number }>[] = [];
    runner.register(deliverJob, { concurrency: 1, leaseMs: 5000, run: async (job) => void seen.push(job) });
    const id = await queue.enqueue(deliverJob, { deliveryId: 'd1', tries: 3 });
    runner.start();
    await expect.poll(() => seen.length).toBe(1);
    expect(seen[0]).toMatchObject({ id, kind: 'test.deliver', payload: { deliveryId: 'd1', tries: 3 }, attempt: 1 });
    await expect.poll(async () => queue.counts([deliverJob.name])).toEqual([]);
  });

  it.each([
    ['a payload of the wrong shape', '{"deliveryId":42,"tries":1}', /job kind "test\.deliver" at claim: deliveryId: .*expected string/],
    ['text that is not JSON', 'not json', /job kind "test\.deliver" at claim: \(payload\): .*expected object/],
  ])('makes a job whose stored payload is %s dead at claim, without running its handler or retrying it', async (_, stored, reason) => {
    const { db, queue, runner } = open();
    const ran: unknown[] = [];
    const dead: unknown[] = [];
    runner.register(deliverJob, { concurrency: 1, leaseMs: 5000, run: async (job) => void ran.push(job.payload), onDead: (job) => void dead.push(job) });
    const bad = await queue.enqueue(deliverJob, { deliveryId: 'old', tries: 1 }, { maxAttempts: 5 });
    // As an older version (or a damaged row) left it.
    db.run(sql`UPDATE jobs SET payload = ${stored} WHERE id = ${bad}`);
    const good = await queue.enqueue(deliverJob, { deliveryId: 'new', tries: 1 });
    runner.start();

    await expect.poll(() => ran).toEqual([{ deliveryId: 'new', tries: 1 }]);
    await expect.poll(async () => queue.counts([deliverJob.name])).toEqual([{ kind: 'test.deliver', state: 'dead', count: 1 }]);
    const row = db.get<{ status: string; attempts: number; lastError: string }>(sql`SELECT status, attempts, last_error AS lastError FROM jobs WHERE id = ${bad}`);
    expect(row).toMatchObject({ status: 'dead', attempts: 1 });
    expect(row.lastError).toMatch(reason);
    expect(dead).toEqual([]);
    expect(good).not.toBe(bad);
  });

  it('still runs a kind named by a bare string, with no schema of its own', async () => {
    const { queue, runner } = open();
    const seen: unknown[] = [];
    runner.register('test.untyped', { concurrency: 1, leaseMs: 5000, run: async (job) => void seen.push(job.payload) });
    await queue.enqueue('test.untyped', { anything: [1, 2] });
    expect(await queue.enqueueUnlessPending('test.untyped', {})).toBeUndefined();
    runner.start();
    await expect.poll(() => seen).toEqual([{ anything: [1, 2] }]);
    expect(await queue.enqueueUnlessPending('test.untyped', { again: true })).toEqual(expect.any(String));
    runner.notify('test.untyped');
    await expect.poll(() => seen).toEqual([{ anything: [1, 2] }, { again: true }]);
  });
});
