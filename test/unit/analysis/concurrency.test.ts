import { describe, expect, it } from 'vitest';
import { createLimiter } from '../../../src/analysis/concurrency.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A promise with its resolve function (Promise.withResolvers needs Node 22). */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('createLimiter', () => {
  it('never runs more than n tasks at once, and runs them all', async () => {
    const limiter = createLimiter(2);
    let running = 0;
    let peak = 0;
    const task = (i: number) => async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 5 + (i % 3) * 5));
      running--;
      return i;
    };
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => limiter.run(task(i))));
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peak).toBe(2);
    expect(limiter.activeCount).toBe(0);
    expect(limiter.pendingCount).toBe(0);
  });

  it('reports active and pending tasks, starting them in call order', async () => {
    const limiter = createLimiter(1);
    const started: number[] = [];
    const gates = [0, 1, 2].map(() => deferred());
    const runs = gates.map((gate, i) =>
      limiter.run(async () => {
        started.push(i);
        await gate.promise;
      }),
    );
    await tick();
    expect([limiter.activeCount, limiter.pendingCount]).toEqual([1, 2]);
    gates[0]?.resolve();
    await tick();
    expect(started).toEqual([0, 1]);
    gates[1]?.resolve();
    gates[2]?.resolve();
    await Promise.all(runs);
    expect(started).toEqual([0, 1, 2]);
  });

  it('frees the slot when a task fails', async () => {
    const limiter = createLimiter(1);
    await expect(limiter.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(
      limiter.run(() => {
        throw new Error('sync boom');
      }),
    ).rejects.toThrow('sync boom');
    await expect(limiter.run(async () => 'after')).resolves.toBe('after');
    expect(limiter.activeCount).toBe(0);
  });

  it('does not let a newcomer take a slot being handed to a waiter', async () => {
    const limiter = createLimiter(1);
    let running = 0;
    let peak = 0;
    const tracked = () =>
      limiter.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await tick();
        running--;
      });
    const gate = deferred();
    const firstWork = gate.promise.then(() => 'first');
    const first = limiter.run(() => firstWork);
    const waiter = tracked();
    // This callback runs right after the first task's slot is released, before the waiter resumes.
    const late = firstWork.then(() => tracked());
    gate.resolve();
    await Promise.all([first, waiter, late]);
    expect(peak).toBe(1);
  });

  it('refuses a size that is not a positive integer', () => {
    for (const n of [0, -1, 1.5, Number.NaN]) expect(() => createLimiter(n)).toThrow(RangeError);
  });
});
