import { describe, expect, it } from 'vitest';
import { createLimiter } from '../../src/analysis/concurrency.js';
import { RenderQueue } from '../../src/delivery/render-queue.js';
import { AppError } from '../../src/errors.js';
import { ManualClock } from '../helpers/manual-clock.js';

const deferred = <T>() => {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
};

describe('render queue', () => {
  it('computes a key once for concurrent callers', async () => {
    const queue = new RenderQueue(createLimiter(1), 10_000);
    let runs = 0;
    const gate = deferred<string>();
    const make = () => {
      runs++;
      return gate.promise;
    };
    const both = Promise.all([queue.run('k', make), queue.run('k', make)]);
    gate.resolve('done');
    expect(await both).toEqual(['done', 'done']);
    expect(runs).toBe(1);
  });

  it('frees the slot before finishing (storing) a render; callers share the finished result and its failure', async () => {
    const queue = new RenderQueue(createLimiter(1), 10_000, { failureTtlMs: 60_000 });
    const stored = deferred<void>();
    let finishes = 0;
    const finish = async (made: string) => {
      finishes++;
      await stored.promise;
      return `${made} stored`;
    };
    const first = Promise.all([queue.run('a', async () => 'a', finish), queue.run('a', async () => 'again', finish)]);
    // The only slot is free while `a` is still being stored.
    expect(await queue.run('b', async () => 'b')).toBe('b');
    stored.resolve();
    expect(await first).toEqual(['a stored', 'a stored']);
    expect(finishes).toBe(1);
    let renders = 0;
    const failing = () => queue.run('c', async () => `render ${++renders}`, () => Promise.reject(new AppError('NOT_FOUND', 'gone')));
    await expect(failing()).rejects.toThrow('gone');
    await expect(failing()).rejects.toThrow('gone');
    expect(renders).toBe(1);
  });

  it('refuses new work once too many renders wait, but joins one already queued', async () => {
    const queue = new RenderQueue(createLimiter(1), 10_000, { maxQueued: 1 });
    const gate = deferred<string>();
    const first = queue.run('a', () => gate.promise);
    const second = queue.run('b', async () => 'b');
    await expect(queue.run('c', async () => 'c')).rejects.toMatchObject({ code: 'TOO_MANY_TRANSFORMATIONS', status: 503 });
    const again = queue.run('b', async () => 'not run');
    gate.resolve('a');
    expect(await Promise.all([first, second, again])).toEqual(['a', 'b', 'b']);
  });

  it('answers TRANSFORMATION_TIMEOUT past the wait, and the render still lands', async () => {
    const queue = new RenderQueue(createLimiter(1), 20);
    const gate = deferred<string>();
    let finished = false;
    await expect(queue.run('slow', () => gate.promise.then((v) => ((finished = true), v)))).rejects.toMatchObject({ code: 'TRANSFORMATION_TIMEOUT', details: { retryAfterSeconds: 1 } });
    gate.resolve('late');
    await new Promise((r) => setTimeout(r, 5));
    expect(finished).toBe(true);
  });

  it('remembers a failed render, whatever failed, and answers with the same error', async () => {
    const queue = new RenderQueue(createLimiter(1), 10_000, { failureTtlMs: 60_000 });
    let runs = 0;
    const bad = () => {
      runs++;
      return Promise.reject(new AppError('BAD_REQUEST', 'cannot encode'));
    };
    await expect(queue.run('x', bad)).rejects.toThrow('cannot encode');
    await expect(queue.run('x', bad)).rejects.toThrow('cannot encode');
    expect(runs).toBe(1);
    let broken = 0;
    const crash = () => {
      broken++;
      return Promise.reject(new Error('vips: out of memory at /data/blobs/files/x'));
    };
    await expect(queue.run('y', crash)).rejects.toThrow('out of memory');
    // Replayed as the masked 500 the client saw, without the details (they were logged the first time).
    await expect(queue.run('y', crash)).rejects.toMatchObject({ code: 'INTERNAL_SERVER_ERROR', status: 500, message: 'We have experienced an internal error while processing your request.' });
    expect(broken).toBe(1);
  });

  it('forgets a failure once its time has passed on the clock, and renders again', async () => {
    const clock = new ManualClock();
    const queue = new RenderQueue(createLimiter(1), 10_000, { failureTtlMs: 60_000, clock });
    let runs = 0;
    const flaky = () => {
      runs++;
      return runs === 1 ? Promise.reject(new AppError('BAD_REQUEST', 'cannot encode')) : Promise.resolve('rendered');
    };
    await expect(queue.run('x', flaky)).rejects.toThrow('cannot encode');
    clock.advance(59_999);
    await expect(queue.run('x', flaky)).rejects.toThrow('cannot encode');
    expect(runs).toBe(1);
    clock.advance(1);
    await expect(queue.run('x', flaky)).resolves.toBe('rendered');
    expect(runs).toBe(2);
  });

  it('does not remember a 503 (busy is not a failure)', async () => {
    const queue = new RenderQueue(createLimiter(1), 10_000, { failureTtlMs: 60_000 });
    let runs = 0;
    const busy = () => {
      runs++;
      return Promise.reject(new AppError('TRANSFORMATION_TIMEOUT', 'still busy'));
    };
    await expect(queue.run('z', busy)).rejects.toThrow('still busy');
    await expect(queue.run('z', busy)).rejects.toThrow('still busy');
    expect(runs).toBe(2);
  });
});
