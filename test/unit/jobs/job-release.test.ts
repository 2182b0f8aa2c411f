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

function openQueue(now?: () => number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stowage-release-'));
  const { db, close } = openDatabase(path.join(dir, 'stowage.db'));
  const transactor = createSqliteTransactor(db);
  opened.push({ close: () => (transactor.close(), close()), dir });
  return new DatabaseJobQueue(transactor, now);
}

const silent = () => createLogger({ level: 'silent', format: 'json' });

describe('releasing jobs on shutdown', () => {
  it('makes a claimed job due again at once, without counting the interrupted attempt, and leaves finished jobs alone', async () => {
    const now = 1_000_000;
    const queue = openQueue(() => now);
    const id = await queue.enqueue('k', {});
    const done = await queue.enqueue('k', {});
    expect(await queue.claim('k', 60_000)).toMatchObject({ id, attempt: 1 });
    expect(await queue.claim('k', 60_000)).toMatchObject({ id: done });
    await queue.complete(done);
    // Without the release, nothing is claimable until the lease ends a minute later.
    expect(await queue.claim('k', 60_000)).toBeUndefined();
    expect(await queue.release([id, done])).toBe(1);
    expect(await queue.claim('k', 60_000)).toMatchObject({ id, attempt: 1 });
    expect(await queue.claim('k', 60_000)).toBeUndefined();
    expect(await queue.release([])).toBe(0);
  });

  it('stop waits for handlers within the grace period and then releases those still running, ignoring their outcome', async () => {
    const queue = openQueue();
    const runner = new JobRunner(queue, silent());
    let finishQuick: () => void = () => {};
    let failHung: (error: Error) => void = () => {};
    const started: string[] = [];
    runner.register('quick', { concurrency: 1, leaseMs: 60_000, run: (job) => new Promise<void>((resolve) => ((finishQuick = resolve), started.push(job.id))) });
    runner.register('hung', { concurrency: 1, leaseMs: 60_000, run: (job) => new Promise<void>((_, reject) => ((failHung = reject), started.push(job.id))) });
    await queue.enqueue('quick', {});
    const hung = await queue.enqueue('hung', {});
    runner.start();
    await expect.poll(() => started.length).toBe(2);
    expect(runner.runningCount).toBe(2);

    const grace = new AbortController();
    const stopped = runner.stop(grace.signal);
    finishQuick();
    await expect.poll(() => runner.runningCount).toBe(1);
    grace.abort();
    expect(await stopped).toEqual([hung]);

    // The released job is claimable now although its lease has a minute to run; the finished one is done.
    expect(await queue.claim('hung', 1000)).toMatchObject({ id: hung, attempt: 1 });
    expect(await queue.claim('quick', 1000)).toBeUndefined();
    await queue.release([hung]);
    // The hung handler failing later records nothing: the job stays due, not retried with backoff.
    failHung(new Error('cut by the shutdown'));
    await new Promise((r) => setImmediate(r));
    expect(await queue.nextDueAt('hung')).toBeLessThanOrEqual(Date.now());
    expect(await queue.claim('hung', 1000)).toMatchObject({ id: hung, attempt: 1 });
  });

  it('stop with nothing running returns at once, releasing nothing', async () => {
    const runner = new JobRunner(openQueue(), silent());
    runner.register('k', { concurrency: 1, leaseMs: 1000, run: async () => {} });
    runner.start();
    expect(await runner.stop(new AbortController().signal)).toEqual([]);
  });
});
