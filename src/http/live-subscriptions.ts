import { setMaxListeners } from 'node:events';
import { type ExecutionResult, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { errorExtensions } from './error-format.js';
import { shuttingDown } from './shutdown.js';

type Results = AsyncIterableIterator<ExecutionResult> | AsyncGenerator<ExecutionResult>;

const isResultStream = (value: unknown): value is Results =>
  typeof value === 'object' && value !== null && typeof (value as Results)[Symbol.asyncIterator] === 'function';

/**
 * Keeps track of the subscriptions being served (over SSE and graphql-ws alike) so a shutdown can end them: each
 * then sends one last result, a `SHUTTING_DOWN` error, and completes, so an SSE client sees its stream finish
 * (`event: complete`, then the end of the response) rather than a dropped connection, and knows why.
 * @category HTTP
 */
export class LiveSubscriptions {
  private readonly ending = new AbortController();
  private active = 0;

  constructor() {
    // Every subscription served listens for the end: Node's leak warning (at 10) does not apply.
    setMaxListeners(0, this.ending.signal);
  }

  /** The yoga plugin that wraps every subscription's results. */
  readonly plugin: Plugin = {
    onSubscribe: () => ({
      onSubscribeResult: ({ result, setResult }) => {
        if (isResultStream(result)) setResult(this.track(result));
      },
    }),
  };

  /** Ends every subscription, and refuses none (new ones end at once). Returns how many were open. */
  end(): number {
    const open = this.active;
    this.ending.abort();
    return open;
  }

  private track(source: Results): AsyncIterableIterator<ExecutionResult> {
    const signal = this.ending.signal;
    const ended = new Promise<'ended'>((resolve) => {
      if (signal.aborted) resolve('ended');
      else signal.addEventListener('abort', () => resolve('ended'), { once: true });
    });
    this.active++;
    let finished = false;
    const finish = () => {
      if (!finished) this.active--;
      finished = true;
    };
    const results: AsyncIterableIterator<ExecutionResult> = {
      next: async () => {
        if (finished) return { done: true, value: undefined };
        const next = source.next();
        // A result that arrives after the end is dropped, as is its failure.
        next.catch(() => {});
        const first = await Promise.race([next, ended]);
        if (first !== 'ended') {
          if (first.done) finish();
          return first;
        }
        finish();
        // Not awaited: a generator waiting for its next event returns only once that event comes.
        source.return?.(undefined).catch(() => {});
        const error = shuttingDown();
        return { done: false, value: { errors: [new GraphQLError(error.message, { extensions: errorExtensions(error) })] } };
      },
      return: async (value?: unknown) => {
        finish();
        return (await source.return?.(value as never)) ?? { done: true, value: undefined };
      },
      throw: async (error?: unknown) => {
        finish();
        if (source.throw) return source.throw(error);
        throw error;
      },
      [Symbol.asyncIterator]() {
        return results;
      },
    };
    return results;
  }
}
