import { afterEach, describe, expect, it } from 'vitest';
import { WorkerCrashedError, WorkerPoolClosedError } from '../../../src/workers/errors.js';
import { WorkerPool } from '../../../src/workers/worker-pool.js';
import type { PoolTestTask } from '../../helpers/pool-test-worker.js';

type Answer = { threadId: number; value: string };

const pools: WorkerPool<PoolTestTask, Answer>[] = [];
const createPool = (size: number) => {
  const pool = new WorkerPool<PoolTestTask, Answer>({ name: 'test', entry: new URL('../../helpers/pool-test-worker.ts', import.meta.url), size });
  pools.push(pool);
  return pool;
};
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

describe('WorkerPool', () => {
  it('starts no worker before the first task, then reuses the same worker for tasks one after another', async () => {
    const pool = createPool(2);
    expect(pool.threadCount).toBe(0);
    const answers: Answer[] = [];
    for (const value of ['a', 'b', 'c', 'd']) answers.push(await pool.run({ kind: 'echo', value }));
    expect(answers.map((a) => a.value)).toEqual(['a', 'b', 'c', 'd']);
    expect(new Set(answers.map((a) => a.threadId)).size).toBe(1);
    expect(answers[0]?.threadId).not.toBe(0);
    expect(pool.threadCount).toBe(1);
  });

  it('runs at most `size` tasks at once, the rest wait their turn', async () => {
    const pool = createPool(2);
    const answers = await Promise.all(Array.from({ length: 6 }, () => pool.run({ kind: 'wait', ms: 30 })));
    expect(answers.every((a) => a.value === 'waited')).toBe(true);
    expect(new Set(answers.map((a) => a.threadId)).size).toBe(2);
    expect(pool.threadCount).toBe(2);
  });

  it('passes a task error on with its name and message, and keeps the worker', async () => {
    const pool = createPool(1);
    const first = await pool.run({ kind: 'echo', value: 'x' });
    await expect(pool.run({ kind: 'throw', message: 'bad input' })).rejects.toMatchObject({ name: 'RangeError', message: 'bad input' });
    expect((await pool.run({ kind: 'echo', value: 'y' })).threadId).toBe(first.threadId);
  });

  it.each([
    ['exits', { kind: 'exit' } as const, /exited with code 3/],
    ['throws outside the task', { kind: 'uncaught' } as const, /boom outside any task promise/],
  ])('fails only the task whose worker %s, and replaces the worker', async (_, crash, message) => {
    const pool = createPool(2);
    const crashed = pool.run(crash);
    const other = pool.run({ kind: 'wait', ms: 100 });
    const error = await crashed.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as Error).message).toMatch(message);
    const survivor = await other;
    expect(survivor.value).toBe('waited');
    // The pool starts a new worker for the next tasks; the one that did not crash goes on.
    const next = await Promise.all([pool.run({ kind: 'wait', ms: 20 }), pool.run({ kind: 'wait', ms: 20 })]);
    expect(next.map((a) => a.value)).toEqual(['waited', 'waited']);
    expect(next.map((a) => a.threadId)).toContain(survivor.threadId);
    expect(pool.threadCount).toBe(2);
  });

  it('close terminates every worker and fails what was waiting or running; later tasks are refused', async () => {
    const pool = createPool(1);
    await pool.run({ kind: 'echo', value: 'warm' });
    const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
    const running = failure(pool.run({ kind: 'wait', ms: 5_000 }));
    const waiting = failure(pool.run({ kind: 'echo', value: 'never' }));
    await pool.close();
    expect(pool.threadCount).toBe(0);
    expect(await running).toBeInstanceOf(WorkerPoolClosedError);
    expect(await waiting).toBeInstanceOf(WorkerPoolClosedError);
    await expect(pool.run({ kind: 'echo', value: 'late' })).rejects.toBeInstanceOf(WorkerPoolClosedError);
  });

  it('rejects a size that is not a positive integer', () => {
    expect(() => createPool(0)).toThrow(RangeError);
  });
});
