import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { createPubSub, createYoga, type Plugin } from 'graphql-yoga';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_WAITING_RESULTS, SHARED_EXECUTION, SharedSubscriptions } from '../../src/http/shared-subscriptions.js';

// Shared subscriptions requested over SSE are sent by Stowage's own processor (src/http/shared-sse.ts); these tests
// hold it to what yoga's own SSE processor sends, on real sockets.

type Tick = { word: string };

function schemaWith(bus: ReturnType<typeof createPubSub<{ tick: [Tick] }>>, opened: Promise<void>) {
  const Tick = new GraphQLObjectType({
    name: 'Tick',
    fields: {
      word: { type: GraphQLString },
      size: { type: GraphQLInt, resolve: (e: Tick) => e.word.length },
      broken: { type: GraphQLString, resolve: () => { throw new Error('secret detail'); } },
    },
  });
  const ticks = async function* (_root: unknown, args: { prefix?: string | null; count?: number | null }) {
    let left = args.count ?? Infinity;
    if (left <= 0) return;
    for await (const event of bus.subscribe('tick')) {
      if (args.prefix && !event.word.startsWith(args.prefix)) continue;
      yield event;
      if (--left === 0) return;
    }
  };
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        tick: {
          type: Tick,
          args: { prefix: { type: GraphQLString }, count: { type: GraphQLInt } },
          extensions: { [SHARED_EXECUTION]: true },
          subscribe: ticks,
          resolve: (event: unknown) => event,
        },
        /** Like `tick`, once `opened` resolves. */
        late: {
          type: Tick,
          extensions: { [SHARED_EXECUTION]: true },
          subscribe: async (root: unknown, args: Record<string, never>) => {
            await opened;
            return ticks(root, args);
          },
          resolve: (event: unknown) => event,
        },
      },
    }),
  });
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

/** Counts the results that pass through subscribers' streams (the ones not written directly). */
function streamCounter() {
  const counter = { passed: 0, plugin: undefined as unknown as Plugin };
  counter.plugin = { onSubscribe: () => ({ onSubscribeResult: () => ({ onNext: () => void counter.passed++ }) }) };
  return counter;
}

/** Two servers on one bus: yoga with its own SSE processor, and yoga with shared subscriptions. */
async function setup(ssePingMs = 60_000) {
  const bus = createPubSub<{ tick: [Tick] }>();
  let open = () => {};
  const schema = schemaWith(bus, new Promise((resolve) => (open = resolve)));
  const shared = new SharedSubscriptions({ ssePingMs });
  const counter = streamCounter();
  const plainUrl = await serve(createYoga({ schema, logging: false }));
  const sharedUrl = await serve(createYoga({ schema, logging: false, context: { apiKey: 'k' }, plugins: [shared.plugin, counter.plugin] }));
  return { bus, shared, counter, plainUrl, sharedUrl, open };
}

interface SseClient {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body received so far. */
  readonly text: string;
  readonly ended: boolean;
  /** Events received (`next` data parsed), pings left out. */
  events(): { event: string; data: unknown }[];
  response: http.IncomingMessage;
}

/** A GraphQL-over-SSE subscription as graphql-sse's distinct-connections client sends it; resolves once the stream is open. */
function sse(url: string, query: string, variables?: Record<string, unknown>): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { accept: 'text/event-stream', 'content-type': 'application/json' } }, (response) => {
      let text = '';
      let ended = false;
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => (ended = true));
      const client: SseClient = {
        status: response.statusCode ?? 0,
        headers: response.headers,
        get text() {
          return text;
        },
        get ended() {
          return ended;
        },
        events: () =>
          withoutPings(text)
            .split('\n\n')
            .filter(Boolean)
            .map((message) => {
              const [eventLine = '', dataLine = ''] = message.split('\n');
              const data = dataLine.slice('data:'.length).trim();
              return { event: eventLine.slice('event: '.length), data: data ? JSON.parse(data) : null };
            }),
        response,
      };
      const opened = () => (text.startsWith(':\n\n') ? resolve(client) : response.once('data', opened));
      opened();
    });
    req.on('error', reject);
    req.end(JSON.stringify({ query, variables }));
  });
}

const withoutPings = (text: string) => text.replaceAll(/^:\n\n/gm, '');

describe('shared subscriptions over SSE', () => {
  it('speak GraphQL over SSE exactly as yoga does: headers, events, masked errors, completion', async () => {
    const { bus, plainUrl, sharedUrl } = await setup();
    const operations: [string, Record<string, unknown>?][] = [
      ['subscription { tick { word } }'],
      ['subscription($p: String) { tick(prefix: $p) { word broken } }', { p: 'h' }],
      ['subscription { tick(count: 2) { size } }'],
      ['subscription { tick(count: 0) { size } }'],
    ];
    const open = (url: string) => Promise.all(operations.flatMap(([query, variables]) => [sse(url, query, variables), sse(url, query, variables)]));
    const plain = await open(plainUrl);
    const ours = await open(sharedUrl);
    for (const word of ['hello', 'world', 'hi']) {
      bus.publish('tick', { word });
      await new Promise((r) => setTimeout(r, 20));
    }
    const expected = [3, 3, 2, 2, 2, 2, 0, 0];
    await expect.poll(() => plain.map((c) => c.events().filter((e) => e.event === 'next').length)).toEqual(expected);
    await expect.poll(() => ours.map((c) => c.events().filter((e) => e.event === 'next').length)).toEqual(expected);
    await expect.poll(() => ours.map((c) => c.ended)).toEqual(plain.map((c) => c.ended));
    expect(ours.map((c) => c.ended)).toEqual([false, false, false, false, true, true, true, true]);

    for (const [i, client] of ours.entries()) {
      const yogas = plain[i] as SseClient;
      expect(client.status).toBe(yogas.status);
      for (const header of ['content-type', 'cache-control', 'connection', 'content-encoding', 'transfer-encoding']) expect(client.headers[header]).toBe(yogas.headers[header]);
      expect(withoutPings(client.text)).toBe(withoutPings(yogas.text));
    }
    expect(ours[2]?.events()[0]).toEqual({ event: 'next', data: { data: { tick: { word: 'hello', broken: null } }, errors: [expect.objectContaining({ message: 'Unexpected error.' })] } });
    expect(ours[2]?.text).not.toContain('secret detail');
    expect(ours[4]?.events().at(-1)).toEqual({ event: 'complete', data: null });
  });

  it('write plain results straight to each response, and the rest through the subscriber’s stream', async () => {
    const { bus, shared, counter, sharedUrl } = await setup();
    const plain = await Promise.all(Array.from({ length: 5 }, () => sse(sharedUrl, 'subscription { tick { word } }')));
    const failing = await sse(sharedUrl, 'subscription { tick { broken } }');
    expect(shared.executions).toBe(2);
    for (const word of ['a', 'b', 'c']) {
      bus.publish('tick', { word });
      await new Promise((r) => setTimeout(r, 20));
    }
    await expect.poll(() => [...plain, failing].map((c) => c.events().length)).toEqual([3, 3, 3, 3, 3, 3]);
    for (const client of plain) expect(client.events().map((e) => e.data)).toEqual(['a', 'b', 'c'].map((word) => ({ data: { tick: { word } } })));
    // Only the failing subscriber's results (errors to mask) went through a stream.
    expect(counter.passed).toBe(3);
  });

  it('ping an idle stream', async () => {
    const { sharedUrl } = await setup(20);
    const client = await sse(sharedUrl, 'subscription { tick { word } }');
    await expect.poll(() => client.text.split(':\n\n').length - 1).toBeGreaterThanOrEqual(3);
    expect(withoutPings(client.text)).toBe('');
  });

  it('end the stream of a subscriber that stops reading once it falls too far behind, and keep serving the others', async () => {
    const { bus, shared, sharedUrl } = await setup();
    const stuck = await sse(sharedUrl, 'subscription { tick { word } }');
    const reading = await sse(sharedUrl, 'subscription { tick { size } }');
    stuck.response.pause();
    expect(shared.executions).toBe(2);
    // Large events fill the stuck connection's buffers; then its results wait, up to the limit.
    const word = 'x'.repeat(16 * 1024);
    let published = 0;
    while (shared.executions === 2 && published < 20 * MAX_WAITING_RESULTS) {
      for (let i = 0; i < 50; i++, published++) bus.publish('tick', { word });
      await new Promise((r) => setImmediate(r));
    }
    expect(shared.executions).toBe(1);
    expect(published).toBeGreaterThan(MAX_WAITING_RESULTS);
    await expect.poll(() => reading.events().length, { timeout: 10_000 }).toBe(published);

    stuck.response.resume();
    await expect.poll(() => stuck.ended, { timeout: 10_000 }).toBe(true);
    const events = stuck.events();
    expect(events.at(-1)).toEqual({ event: 'complete', data: null });
    expect(events.at(-2)).toEqual({ event: 'next', data: { errors: [expect.objectContaining({ message: 'Unexpected error.' })] } });
    const delivered = events.slice(0, -2);
    expect(delivered.length).toBeLessThan(published);
    for (const e of delivered) expect(e.data).toEqual({ data: { tick: { word } } });
  });

  it('end a stream whose client left before its response was sent', async () => {
    const { shared, sharedUrl, open } = await setup();
    const req = http.request(sharedUrl, { method: 'POST', headers: { accept: 'text/event-stream', 'content-type': 'application/json' } });
    req.on('error', () => {});
    req.end(JSON.stringify({ query: 'subscription { late { word } }' }));
    await expect.poll(() => shared.executions).toBe(1);
    req.destroy();
    await new Promise((r) => setTimeout(r, 50));
    open();
    await expect.poll(() => shared.executions).toBe(0);
  });

  it('leave the shared stream of a subscription asked for in a type that cannot carry it (406)', async () => {
    const { shared, sharedUrl } = await setup();
    const res = await fetch(sharedUrl, { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify({ query: 'subscription { tick { word } }' }) });
    expect(res.status).toBe(406);
    await expect.poll(() => shared.executions).toBe(0);
  });
});
