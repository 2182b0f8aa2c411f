import { type DocumentNode, type ExecutionArgs, type ExecutionResult, getOperationAST, Kind, print } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { type DirectSink, isPlainResult, shareSerialisation } from './shared-results.js';
import { sharedSseResponse } from './shared-sse.js';

/**
 * The field extension that lets subscribers share one execution: set it (`extensions: { [SHARED_EXECUTION]: true }`)
 * on a subscription field whose results depend only on its arguments and the events it hears, never on who
 * subscribed or when (no state read per subscriber when it starts, nothing from the context but the services).
 */
export const SHARED_EXECUTION = 'stowageSharedExecution';

/**
 * How many results a subscriber may have waiting; one that falls further behind (a stuck client) has its
 * subscription ended with an error rather than holding results in memory without bound.
 */
export const MAX_WAITING_RESULTS = 1024;

type Results = AsyncIterator<ExecutionResult>;
type SubscribeResult = Results | ExecutionResult;

const isResults = (value: unknown): value is Results & AsyncIterable<ExecutionResult> =>
  typeof value === 'object' && value !== null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';

const printed = new WeakMap<DocumentNode, string>();
const textOf = (document: DocumentNode): string => {
  let text = printed.get(document);
  if (text === undefined) printed.set(document, (text = print(document)));
  return text;
};

/**
 * The sharing key of a subscription operation, or `undefined` when it may not share: its one root field must carry
 * {@link SHARED_EXECUTION}. Operations share when their document, operation name, variables and private key match:
 * one execution per event then serves them all, with exactly the selection and filters each of them asked for.
 */
export function sharingKeyOf(args: ExecutionArgs): string | undefined {
  const operation = getOperationAST(args.document, args.operationName);
  if (operation?.operation !== 'subscription') return undefined;
  const [root, ...more] = operation.selectionSet.selections;
  if (!root || more.length > 0 || root.kind !== Kind.FIELD || root.directives?.length) return undefined;
  const field = args.schema.getSubscriptionType()?.getFields()[root.name.value];
  if (field?.extensions?.[SHARED_EXECUTION] !== true) return undefined;
  const apiKey = (args.contextValue as { apiKey?: unknown } | undefined)?.apiKey;
  if (typeof apiKey !== 'string') return undefined;
  return JSON.stringify([apiKey, args.operationName ?? null, args.variableValues ?? null, textOf(args.document)]);
}

const sinks = new WeakMap<object, DirectSink>();

/**
 * Lets the shared stream write the results of the operation executed with `contextValue` straight to its
 * connection, skipping the per-subscriber stream between them (its promises are most of a fan-out's cost).
 * May be called after subscribing (SSE's sink exists once its response does). Only plain results are written so,
 * and only while the transport waits for the next result: anything else (errors to mask, the end, a shutdown's
 * last result, results behind a backed-up connection) still flows through the stream, in order.
 */
export function writeDirectly(contextValue: object, sink: DirectSink): void {
  sinks.set(contextValue, sink);
}

/** A subscriber's own view of a shared stream: the results published while it is a member, in order. */
class Member implements AsyncIterableIterator<ExecutionResult> {
  private readonly waiting: ExecutionResult[] = [];
  private reader: { resolve(result: IteratorResult<ExecutionResult>): void; reject(error: unknown): void } | undefined;
  private end: { error: unknown } | 'done' | undefined;
  /** Its transport's direct sink, once registered. */
  private sink: DirectSink | undefined;

  constructor(
    private readonly leave: (member: Member) => void,
    /** The subscription's context, under which its transport registers its direct sink. */
    private readonly context: object,
  ) {}

  push(result: ExecutionResult): void {
    if (this.end) return;
    // The transport is waiting (everything before was sent) and there is nothing to mask: write it now.
    if (this.reader && isPlainResult(result) && (this.sink ??= sinks.get(this.context))?.(result)) return;
    if (this.reader) {
      const reader = this.reader;
      this.reader = undefined;
      reader.resolve({ done: false, value: result });
    } else if (this.waiting.length < MAX_WAITING_RESULTS) {
      this.waiting.push(result);
    } else {
      this.leave(this);
      this.finish({ error: new Error(`The subscriber fell more than ${MAX_WAITING_RESULTS} results behind.`) });
    }
  }

  /** The stream ended: `done`, or failed with `error` (after the results already waiting). */
  finish(end: { error: unknown } | 'done'): void {
    if (this.end) return;
    this.end = end;
    const reader = this.reader;
    this.reader = undefined;
    if (!reader) return;
    if (end === 'done') reader.resolve({ done: true, value: undefined });
    else reader.reject(end.error);
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    const value = this.waiting.shift();
    if (value) return Promise.resolve({ done: false, value });
    const end = this.end;
    if (end === 'done') return Promise.resolve({ done: true, value: undefined });
    if (end) {
      this.end = 'done';
      return Promise.reject(end.error);
    }
    return new Promise((resolve, reject) => (this.reader = { resolve, reject }));
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.leave(this);
    this.waiting.length = 0;
    this.finish('done');
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}

/** One execution of a subscription, its results handed to every member. Ends when its source does or it has no member left. */
class SharedStream {
  readonly members = new Set<Member>();
  private started = false;
  private ended = false;

  constructor(
    readonly opened: Promise<SubscribeResult>,
    private readonly release: () => void,
  ) {}

  /** A new member's stream, or `undefined` when this execution has ended meanwhile. */
  join(source: Results, context: object): Member | undefined {
    if (this.ended) return undefined;
    const member = new Member((m) => this.leave(m), context);
    this.members.add(member);
    if (!this.started) {
      this.started = true;
      void this.pump(source);
    }
    return member;
  }

  private async pump(source: Results): Promise<void> {
    try {
      for (;;) {
        const next = await source.next();
        if (next.done || this.ended) break;
        const result = shareSerialisation(next.value);
        for (const member of this.members) member.push(result);
      }
      this.close('done');
    } catch (error) {
      this.close({ error });
    }
  }

  private leave(member: Member): void {
    if (!this.members.delete(member) || this.members.size > 0 || this.ended) return;
    this.close('done');
    // Not awaited: a generator waiting for its next event returns only once that event comes.
    this.opened.then((source) => (isResults(source) ? source.return?.() : undefined)).catch(() => {});
  }

  private close(end: { error: unknown } | 'done'): void {
    if (this.ended) return;
    this.ended = true;
    this.release();
    for (const member of this.members) member.finish(end);
    this.members.clear();
  }
}

/**
 * Serves subscribers of the same operation from one execution: per event, the subscription's selection is
 * executed once per distinct (document, operation name, variables, private key), and its result is serialised
 * once, whatever the number of subscribers and whichever transport (graphql-ws, SSE) each uses. Each subscriber
 * still gets its own stream, wrapped by the other plugins as before (error masking, shutdown).
 * Only fields marked {@link SHARED_EXECUTION} share; every other subscription executes on its own.
 * @category HTTP
 */
export class SharedSubscriptions {
  private readonly streams = new Map<string, SharedStream>();
  /** The context of each shared subscription requested over HTTP, by its request. */
  private readonly overHttp = new WeakMap<object, object>();

  constructor(private readonly options: { ssePingMs?: number } = {}) {}

  /**
   * The yoga plugin that routes shareable subscriptions through their shared stream, and sends those requested
   * over HTTP with Stowage's SSE processor (src/http/shared-sse.ts), which takes their results directly.
   */
  readonly plugin: Plugin = {
    onSubscribe: ({ args, subscribeFn, setSubscribeFn }) => {
      const key = sharingKeyOf(args);
      if (key === undefined) return;
      const context = args.contextValue as { request?: object };
      if (context.request) this.overHttp.set(context.request, context);
      setSubscribeFn((own: ExecutionArgs) => this.subscribe(key, () => subscribeFn(own), context));
    },
    onResultProcess: ({ request, result, resultProcessor, setResultProcessor }) => {
      const context = this.overHttp.get(request);
      if (!context || !isAsyncIterable(result)) return;
      // Nothing the client accepts can carry a stream (yoga answers 406): leave the shared stream now.
      if (!resultProcessor) {
        Promise.resolve(result[Symbol.asyncIterator]().return?.()).catch(() => {});
        return;
      }
      // For a subscription's stream, the only processor yoga may have chosen is its SSE one: replace it.
      const options = { attach: (sink: DirectSink) => writeDirectly(context, sink), signal: request.signal, pingMs: this.options.ssePingMs };
      setResultProcessor((results, fetchAPI) => sharedSseResponse(results as AsyncIterable<ExecutionResult>, fetchAPI, options), 'text/event-stream');
    },
  };

  /** How many shared executions are running (for tests and metrics). */
  get executions(): number {
    return this.streams.size;
  }

  private async subscribe(key: string, open: () => unknown, context: object): Promise<SubscribeResult> {
    let stream = this.streams.get(key);
    if (!stream) {
      const created: SharedStream = new SharedStream(Promise.resolve().then(open) as Promise<SubscribeResult>, () => {
        if (this.streams.get(key) === created) this.streams.delete(key);
      });
      this.streams.set(key, created);
      stream = created;
    }
    let source: SubscribeResult;
    try {
      source = await stream.opened;
    } catch (error) {
      if (this.streams.get(key) === stream) this.streams.delete(key);
      throw error;
    }
    // An error result (bad arguments, say) is every joiner's answer; the next subscriber tries afresh.
    if (!isResults(source)) {
      if (this.streams.get(key) === stream) this.streams.delete(key);
      return source;
    }
    return stream.join(source, context) ?? this.subscribe(key, open, context);
  }
}
