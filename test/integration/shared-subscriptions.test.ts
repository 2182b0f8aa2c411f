import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { basicAuth, startTestApp, type TestApp } from '../helpers/test-app.js';

// Subscribers of the same operation share one execution per event (src/http/shared-subscriptions.ts); these tests
// check that each subscriber still gets exactly its own selection and filters, on either transport.

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

type Sink<T> = { next: (v: T) => void; error: (e: unknown) => void; complete: () => void };
interface Subscriber {
  values: any[];
  dispose(): void;
}

const wsClients: ReturnType<typeof createWsClient>[] = [];
function overWs(query: string, variables?: Record<string, unknown>): Subscriber {
  const client = createWsClient({ url: `${t.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: basicAuth() }, retryAttempts: 0 });
  wsClients.push(client);
  return collect((sink) => client.subscribe({ query, variables }, sink));
}

function overSse(query: string, variables?: Record<string, unknown>): Subscriber {
  const client = createSseClient({ url: `${t.url}/graphql`, headers: { authorization: basicAuth() }, retryAttempts: 0 });
  const sub = collect((sink) => client.subscribe({ query, variables }, sink));
  return { values: sub.values, dispose: () => (sub.dispose(), client.dispose()) };
}

function collect(subscribe: (sink: Sink<any>) => () => void): Subscriber {
  const values: any[] = [];
  const dispose = subscribe({ next: (v) => values.push(v), error: (e) => values.push({ failed: e }), complete: () => {} });
  return { values, dispose };
}

const put = async (folder: string, name = 'e.txt') => {
  const res = await t.gql('mutation($f: Upload!, $folder: String, $name: String!) { uploadFile(file: $f, fileName: $name, folder: $folder) { fileId filePath } }', {
    f: Buffer.from('x').toString('base64'),
    folder,
    name,
  });
  return res.data?.uploadFile as { fileId: string; filePath: string };
};

describe('shared subscription execution', () => {
  it('gives each subscriber exactly its own selection, filters and variables, over graphql-ws and SSE', async () => {
    const inA = 'subscription($path: String) { fileEvents(path: $path) { type filePath } }';
    const a1 = overWs(inA, { path: '/a' });
    const a2 = overWs(inA, { path: '/a' });
    const aSse = overSse(inA, { path: '/a' });
    const b = overWs(inA, { path: '/b' });
    const everything = overWs('subscription { fileEvents { fileId type } }');
    const deletions = overSse('subscription { fileEvents(types: ["file.deleted"]) { type fileId } }');
    const all = [a1, a2, aSse, b, everything, deletions];
    // Warm-up events land in /warm-up, which only the unfiltered subscribers hear; a folder each makes the rest hear one.
    await expect
      .poll(async () => {
        const up = await put('/a');
        await put('/b');
        await t.gql('mutation($id: ID!) { deleteFile(fileId: $id) }', { id: up.fileId });
        return all.every((s) => s.values.length > 0);
      }, { timeout: 10_000, interval: 100 })
      .toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    for (const s of all) s.values.length = 0;

    const inAFile = await put('/a/deep');
    const inBFile = await put('/b');
    await t.gql('mutation($id: ID!) { deleteFile(fileId: $id) }', { id: inAFile.fileId });
    await expect.poll(() => everything.values.length).toBe(3);
    await expect.poll(() => deletions.values.length).toBe(1);
    await expect.poll(() => [a1, a2, aSse].map((s) => s.values.length)).toEqual([2, 2, 2]);
    await expect.poll(() => b.values.length).toBe(1);
    await new Promise((r) => setTimeout(r, 200));

    const inAEvents = [
      { data: { fileEvents: { type: 'file.created', filePath: inAFile.filePath } } },
      { data: { fileEvents: { type: 'file.deleted', filePath: inAFile.filePath } } },
    ];
    for (const s of [a1, a2, aSse]) expect(s.values).toEqual(inAEvents);
    expect(b.values).toEqual([{ data: { fileEvents: { type: 'file.created', filePath: inBFile.filePath } } }]);
    expect(everything.values).toEqual([
      { data: { fileEvents: { fileId: inAFile.fileId, type: 'file.created' } } },
      { data: { fileEvents: { fileId: inBFile.fileId, type: 'file.created' } } },
      { data: { fileEvents: { fileId: inAFile.fileId, type: 'file.deleted' } } },
    ]);
    expect(deletions.values).toEqual([{ data: { fileEvents: { type: 'file.deleted', fileId: inAFile.fileId } } }]);
    for (const s of all) s.dispose();
  });

  it('delivers every event, in order, to each of many subscribers of the same operation', async () => {
    const query = 'subscription { fileEvents(path: "/many", types: ["file.created"]) { filePath } }';
    const subscribers = [...Array.from({ length: 40 }, () => overWs(query)), ...Array.from({ length: 10 }, () => overSse(query))];
    await expect
      .poll(async () => {
        await put('/many', 'warm.txt');
        return subscribers.every((s) => s.values.length > 0);
      }, { timeout: 10_000, interval: 100 })
      .toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    for (const s of subscribers) s.values.length = 0;

    const paths: string[] = [];
    for (let i = 0; i < 5; i++) paths.push((await put('/many', `n${i}.txt`)).filePath);
    const expected = paths.map((filePath) => ({ data: { fileEvents: { filePath } } }));
    await expect.poll(() => subscribers.filter((s) => s.values.length === paths.length).length).toBe(subscribers.length);
    for (const s of subscribers) expect(s.values).toEqual(expected);
    for (const s of subscribers) s.dispose();
  });

  it('keeps serving the others when one subscriber of a shared operation leaves', async () => {
    const query = 'subscription { fileEvents(path: "/leave") { type } }';
    const staying = overWs(query);
    const leaving = overWs(query);
    const late = overSse(query);
    await expect
      .poll(async () => {
        await put('/leave', 'warm.txt');
        return [staying, leaving, late].every((s) => s.values.length > 0);
      }, { timeout: 10_000, interval: 100 })
      .toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    leaving.dispose();
    await new Promise((r) => setTimeout(r, 100));
    for (const s of [staying, leaving, late]) s.values.length = 0;
    await put('/leave', 'after.txt');
    await expect.poll(() => [staying.values.length, late.values.length]).toEqual([1, 1]);
    expect(leaving.values).toEqual([]);
    staying.dispose();
    late.dispose();
  });
});

afterAll(async () => {
  await Promise.all(wsClients.map((c) => c.dispose()));
});
