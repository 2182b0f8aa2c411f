import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/db/client.js';
import { createSqliteTransactor } from '../../../src/db/transactor.js';
import { JobRunner } from '../../../src/jobs/job-runner.js';
import { DatabaseJobQueue } from '../../../src/jobs/database-job-queue.js';
import { createLogger } from '../../../src/logger.js';

const opened: { close: () => void; dir: string }[] = [];
afterEach(() => {
  for (const o of opened.splice(0)) {
    o.close();
    fs.rmSync(o.dir, { recursive: true, force: true });
  }
});

function open(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stowage-jobs-'))) {
  const database = openDatabase(path.join(dir, 'stowage.db'));
  const transactor = createSqliteTransactor(database.db);
  const close = () => {
    transactor.close();
    database.close();
  };
  opened.push({ close, dir });
  return { transactor, dir, close };
}

describe('DatabaseJobQueue', () => {
  it('claims due jobs once, leases them, and lets another worker take a job whose lease ran out', async () => {
    let now = 1_000_000;
    const { transactor } = open();
    const queue = new DatabaseJobQueue(transactor, () => now);
    const id = await queue.enqueue('k', { n: 1 });
    await queue.enqueue('k', { n: 2 }, { runAt: now + 10_000 });
    expect(await queue.claim('k', 5000)).toMatchObject({ id, payload: { n: 1 }, attempt: 1 });
    expect(await queue.claim('k', 5000)).toBeUndefined();
    now += 6000;
    expect(await queue.claim('k', 5000)).toMatchObject({ id, attempt: 2 });
    now += 20_000;
    await queue.complete(id);
    expect((await queue.claim('k', 5000))?.payload).toEqual({ n: 2 });
    expect(await queue.claim('other', 5000)).toBeUndefined();
  });

  it('retries failures at the given time and marks a job dead after maxAttempts', async () => {
    let now = 0;
    const { transactor } = open();
    const queue = new DatabaseJobQueue(transactor, () => now);
    const id = await queue.enqueue('k', {}, { maxAttempts: 2 });
    await queue.claim('k', 1000);
    expect(await queue.fail(id, 'boom', now + 500)).toBe('retrying');
    expect(await queue.claim('k', 1000)).toBeUndefined();
    now = 500;
    expect((await queue.claim('k', 1000))?.attempt).toBe(2);
    expect(await queue.fail(id, 'boom again', now + 500)).toBe('dead');
    now = 10_000;
    expect(await queue.claim('k', 1000)).toBeUndefined();
  });

  it('survives a restart: a job claimed by a crashed process runs again in the next one', async () => {
    const first = open();
    const queue = new DatabaseJobQueue(first.transactor);
    await queue.enqueue('work', { value: 42 });
    expect(await queue.claim('work', 200)).toBeDefined();
    first.close();
    opened.pop();
    await new Promise((r) => setTimeout(r, 250));

    const second = open(first.dir);
    const done: unknown[] = [];
    const runner = new JobRunner(new DatabaseJobQueue(second.transactor), createLogger({ level: 'silent', format: 'json' }));
    runner.register('work', { concurrency: 1, leaseMs: 1000, run: async (job) => void done.push(job.payload) });
    runner.start();
    await expect.poll(() => done, { timeout: 5000 }).toEqual([{ value: 42 }]);
    await runner.stop();
  });

  it('runs at most `concurrency` jobs of a kind at once and retries failing ones with backoff', async () => {
    const { transactor } = open();
    const queue = new DatabaseJobQueue(transactor);
    const runner = new JobRunner(queue, createLogger({ level: 'silent', format: 'json' }));
    let running = 0;
    let peak = 0;
    let flaky = 0;
    const finished: number[] = [];
    runner.register('slow', {
      concurrency: 2,
      leaseMs: 5000,
      run: async (job) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 30));
        running--;
        finished.push(job.payload.n as number);
      },
    });
    runner.register('flaky', { concurrency: 1, leaseMs: 5000, retryDelayMs: () => 20, run: async () => {
        if (flaky++ < 2) throw new Error('not yet');
      },
    });
    for (let n = 0; n < 6; n++) await queue.enqueue('slow', { n });
    await queue.enqueue('flaky', {});
    runner.start();
    await expect.poll(() => finished.length, { timeout: 5000 }).toBe(6);
    await expect.poll(() => flaky, { timeout: 5000 }).toBe(3);
    expect(peak).toBe(2);
    await runner.stop();
  });
});
