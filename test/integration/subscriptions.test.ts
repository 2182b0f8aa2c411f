import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { makeJpeg, randomBytesOf } from '../helpers/fixtures.js';
import { basicAuth, startTestApp, type TestApp } from '../helpers/test-app.js';
import { createTestModels } from '../helpers/test-models.js';

let t: TestApp;
const models = createTestModels();

beforeAll(async () => {
  t = await startTestApp({ STOWAGE_AUTO_TAG_SYNC_MS: '100' }, { models: models.models });
});
afterAll(() => t.close());

const wsClient = (connectionParams: Record<string, unknown> = { authorization: basicAuth() }) =>
  createWsClient({ url: `${t.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });

/** Collects a subscription's results until it completes (or errors). */
function collect<T>(subscribe: (sink: { next: (v: T) => void; error: (e: unknown) => void; complete: () => void }) => () => void) {
  const values: T[] = [];
  let dispose: () => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    dispose = subscribe({ next: (v) => values.push(v), error: reject, complete: () => resolve() });
  });
  return { values, done, dispose: () => dispose() };
}

describe('subscriptions', () => {
  it('graphql-ws: extensionStatus streams each change and completes when nothing is pending', async () => {
    models.hold();
    const up = await t.upload(
      'mutation($file: Upload!) { uploadFile(file: $file, fileName: "s.jpg", extensions: [{ googleAutoTagging: { maxTags: 2, minConfidence: 0 } }]) { fileId extensionStatus } }',
      { file: null },
      { path: 'variables.file', data: await makeJpeg(30, 30), filename: 's.jpg' },
    );
    const fileId = up.data?.uploadFile.fileId;
    expect(up.data?.uploadFile.extensionStatus).toEqual({ 'google-auto-tagging': 'pending' });
    const client = wsClient();
    const sub = collect<any>((sink) => client.subscribe({ query: 'subscription($id: ID!) { extensionStatus(fileId: $id) { fileId status done } }', variables: { id: fileId } }, sink));
    await expect.poll(() => sub.values.length).toBe(1);
    models.release();
    await sub.done;
    expect(sub.values.map((v) => v.data.extensionStatus)).toEqual([
      { fileId, status: { 'google-auto-tagging': 'pending' }, done: false },
      { fileId, status: { 'google-auto-tagging': 'success' }, done: true },
    ]);
    await client.dispose();
  });

  it('graphql-ws: fileEvents delivers library events under a folder, of the chosen types', async () => {
    const client = wsClient();
    const sub = collect<any>((sink) =>
      client.subscribe({ query: 'subscription { fileEvents(path: "/watched", types: ["file.created", "file.deleted"]) { type filePath fileId data } }' }, sink),
    );
    await new Promise((r) => setTimeout(r, 200));
    const put = (folder: string) =>
      t.upload('mutation($file: Upload!, $folder: String) { uploadFile(file: $file, fileName: "e.txt", folder: $folder) { fileId } }', { file: null, folder }, { path: 'variables.file', data: Buffer.from('x'), filename: 'e.txt' });
    const watched = (await put('/watched/deep')).data?.uploadFile.fileId;
    await put('/elsewhere');
    await t.gql('mutation($id: ID!) { deleteFile(fileId: $id) }', { id: watched });
    await expect.poll(() => sub.values.length).toBe(2);
    expect(sub.values.map((v) => v.data.fileEvents.type)).toEqual(['file.created', 'file.deleted']);
    expect(sub.values[0].data.fileEvents.data).toMatchObject({ fileId: watched, type: 'file', fileType: 'non-image' });
    expect(sub.values[1].data.fileEvents.data).toEqual({ fileId: watched });
    sub.dispose();
    await client.dispose();
  });

  it('graphql-ws refuses a connection without the private key', async () => {
    const client = wsClient({});
    const sub = collect<any>((sink) => client.subscribe({ query: 'subscription { fileEvents { type } }' }, sink));
    await expect(sub.done).rejects.toMatchObject({ code: 4403 });
    await client.dispose();
  });

  it('graphql-sse: uploadProgress follows an upload by its uploadId', async () => {
    const client = createSseClient({ url: `${t.url}/graphql`, headers: { authorization: basicAuth() }, retryAttempts: 0 });
    const sub = collect<any>((sink) => client.subscribe({ query: 'subscription { uploadProgress(uploadId: "u-1") { bytesReceived bytesTotal done } }' }, sink));
    await new Promise((r) => setTimeout(r, 200));
    const data = randomBytesOf(3 * 1024 * 1024);
    const res = await t.gql('mutation($f: Upload!) { uploadFile(file: $f, fileName: "big.bin", uploadId: "u-1") { size } }', { f: data.toString('base64') });
    expect(res.data?.uploadFile.size).toBe(data.length);
    await sub.done;
    const events = sub.values.map((v) => v.data.uploadProgress);
    expect(events.length).toBeGreaterThan(2);
    expect(events.at(-1)).toEqual({ bytesReceived: data.length, bytesTotal: data.length, done: true });
    const received = events.map((e) => e.bytesReceived);
    expect(received).toEqual([...received].sort((a, b) => a - b));
    client.dispose();
  });

  it('SSE subscriptions need the key too', async () => {
    const res = await fetch(`${t.url}/graphql?query=${encodeURIComponent('subscription { fileEvents { type } }')}`, { headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(401);
  });
});
