import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The request being served, carried through every async continuation of its handling (and of the jobs it causes),
 * so log lines and enqueued jobs name it without every function in between passing it along.
 */
const context = new AsyncLocalStorage<{ readonly requestId: string }>();

/**
 * Runs `fn` as part of request `requestId`; without an id, outside any request (jobs that no request caused).
 * @category Logging
 */
export function runWithRequestId<T>(requestId: string | null | undefined, fn: () => T): T {
  return requestId ? context.run({ requestId }, fn) : context.exit(fn);
}

/**
 * The id of the request the caller is running for, or undefined outside one.
 * @category Logging
 */
export const currentRequestId = (): string | undefined => context.getStore()?.requestId;
