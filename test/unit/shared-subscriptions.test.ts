import { type ExecutionResult, GraphQLObjectType, GraphQLSchema, GraphQLString, parse } from 'graphql';
import { createPubSub, createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { type DirectSink, jsonOf } from '../../src/http/shared-results.js';
import { MAX_WAITING_RESULTS, SHARED_EXECUTION, SharedSubscriptions, writeDirectly } from '../../src/http/shared-subscriptions.js';

/** A schema with one shared and one unshared subscription field; `executions` counts the per-event executions. */
function setup() {
  const bus = createPubSub<{ tick: [payload: { word: string }] }>();
  const counts = { shared: 0, own: 0 };
  const field = (kind: 'shared' | 'own') => ({
    type: new GraphQLObjectType({
      name: `Tick_${kind}`,
      fields: {
        word: { type: GraphQLString },
        upper: { type: GraphQLString, resolve: (e: { word: string }) => e.word.toUpperCase() },
        broken: { type: GraphQLString, resolve: () => { throw new Error('secret detail'); } },
      },
    }),
    args: { prefix: { type: GraphQLString } },
    extensions: kind === 'shared' ? { [SHARED_EXECUTION]: true } : {},
    subscribe: async function* (_root: unknown, args: { prefix?: string }) {
      for await (const event of bus.subscribe('tick')) if (!args.prefix || event.word.startsWith(args.prefix)) yield event;
    },
    resolve: (event: { word: string }) => {
      counts[kind]++;
      return event;
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({ name: 'Subscription', fields: { shared: field('shared'), own: field('own') } }),
  });
  const shared = new SharedSubscriptions();
  const yoga = createYoga({ schema, plugins: [shared.plugin], logging: false });
  const subscribe = async (query: string, variables?: Record<string, unknown>, apiKey = 'k', sink?: DirectSink, { pull = true } = {}) => {
    const { subscribe: run, contextFactory } = yoga.getEnveloped({ apiKey });
    const contextValue = await contextFactory();
    if (sink) writeDirectly(contextValue, sink);
    const stream = (await run({ schema, document: parse(query), variableValues: variables, contextValue })) as AsyncIterableIterator<ExecutionResult>;
    const values: unknown[] = [];
    const pulling = pull
      ? (async () => {
          for await (const value of stream) values.push(JSON.parse(JSON.stringify(value)));
        })()
      : undefined;
    return { values, stream, pulling };
  };
  const publish = async (word: string) => {
    bus.publish('tick', { word });
    await new Promise((r) => setTimeout(r, 20));
  };
  return { shared, counts, subscribe, publish, bus };
}

describe('SharedSubscriptions', () => {
  it('executes a shared field once per event for every subscriber of the same operation', async () => {
    const { shared, counts, subscribe, publish } = setup();
    const subscribers = await Promise.all(Array.from({ length: 25 }, () => subscribe('subscription { shared { word upper } }')));
    expect(shared.executions).toBe(1);
    await publish('hello');
    await publish('world');
    expect(counts.shared).toBe(2);
    for (const s of subscribers) expect(s.values).toEqual([{ data: { shared: { word: 'hello', upper: 'HELLO' } } }, { data: { shared: { word: 'world', upper: 'WORLD' } } }]);
    for (const s of subscribers) await s.stream.return?.();
    expect(shared.executions).toBe(0);
  });

  it('executes separately per document, variables and key, and never shares unmarked fields', async () => {
    const { shared, counts, subscribe, publish } = setup();
    const h = await subscribe('subscription($p: String) { shared(prefix: $p) { word } }', { p: 'h' });
    const w = await subscribe('subscription($p: String) { shared(prefix: $p) { word } }', { p: 'w' });
    const upper = await subscribe('subscription { shared { upper } }');
    const otherKey = await subscribe('subscription { shared { upper } }', undefined, 'other');
    const own = await Promise.all([subscribe('subscription { own { word } }'), subscribe('subscription { own { word } }')]);
    expect(shared.executions).toBe(4);
    await publish('hello');
    expect(h.values).toEqual([{ data: { shared: { word: 'hello' } } }]);
    expect(w.values).toEqual([]);
    expect(upper.values).toEqual([{ data: { shared: { upper: 'HELLO' } } }]);
    expect(otherKey.values).toEqual(upper.values);
    for (const s of own) expect(s.values).toEqual([{ data: { own: { word: 'hello' } } }]);
    expect(counts).toEqual({ shared: 3, own: 2 });
  });

  it('masks errors for each subscriber, and writes only clean results straight to a direct sink', async () => {
    const { subscribe, publish } = setup();
    const written: string[] = [];
    const sink: DirectSink = (result) => written.push(jsonOf(result)) > 0;
    const direct = await subscribe('subscription { shared { word } }', undefined, 'k', sink);
    const streamed = await subscribe('subscription { shared { word } }');
    const failing = await Promise.all([subscribe('subscription { shared { broken } }'), subscribe('subscription { shared { broken } }', undefined, 'k', sink)]);
    await publish('hello');
    expect(written).toEqual([JSON.stringify({ data: { shared: { word: 'hello' } } })]);
    expect(direct.values).toEqual([]);
    expect(streamed.values).toEqual([{ data: { shared: { word: 'hello' } } }]);
    for (const s of failing) {
      expect(s.values).toHaveLength(1);
      expect(s.values[0]).toMatchObject({ data: { shared: { broken: null } }, errors: [{ message: 'Unexpected error.' }] });
      expect(JSON.stringify(s.values[0])).not.toContain('secret detail');
    }
  });

  it('sends results through the stream while the direct sink is backed up, and ends a subscriber too far behind', async () => {
    const { shared, subscribe, publish, bus } = setup();
    const written: string[] = [];
    let backedUp = false;
    const direct = await subscribe('subscription { shared { word } }', undefined, 'k', (result) => !backedUp && written.push(jsonOf(result)) > 0);
    await publish('a');
    backedUp = true;
    await publish('b');
    backedUp = false;
    await publish('c');
    expect(written).toEqual(['a', 'c'].map((word) => JSON.stringify({ data: { shared: { word } } })));
    expect(direct.values).toEqual([{ data: { shared: { word: 'b' } } }]);

    // A subscriber that takes nothing (a stuck connection): its results wait, up to the limit, then it is ended.
    const stuck = await subscribe('subscription($p: String) { shared(prefix: $p) { word } }', { p: 'n' }, 'k', () => false, { pull: false });
    expect(shared.executions).toBe(2);
    for (let i = 0; i <= MAX_WAITING_RESULTS; i++) bus.publish('tick', { word: `n${i}` });
    await expect.poll(() => shared.executions).toBe(1);
    const received: unknown[] = [];
    await expect(
      (async () => {
        for await (const value of stuck.stream) received.push(value);
      })(),
    ).rejects.toThrow('Unexpected error.');
    expect(received).toHaveLength(MAX_WAITING_RESULTS);
    expect(received.at(-1)).toEqual({ data: { shared: { word: `n${MAX_WAITING_RESULTS - 1}` } } });
    // The others go on.
    await publish('d');
    expect(direct.values).toEqual([{ data: { shared: { word: 'b' } } }]);
    expect(written.at(-1)).toBe(JSON.stringify({ data: { shared: { word: 'd' } } }));
  });
});
