import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs, type LogRecord } from '../helpers/log-capture.js';
import { basicAuth, startTestApp, type TestApp } from '../helpers/test-app.js';

// Shared subscriptions over SSE are written by Stowage's own processor (src/http/shared-sse.ts), straight to the
// response: the request is still logged and measured as every other one, with the bytes it sent.

const logs = captureLogs('info');
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({}, { logger: logs.logger });
});
afterAll(() => t.close());

interface RawSse {
  requestId: string;
  /** The body bytes received so far. */
  readonly body: Buffer;
  readonly ended: Promise<void>;
  close(): void;
}

function rawSse(query: string, headers: Record<string, string> = {}): Promise<RawSse> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${t.url}/graphql`, { method: 'POST', headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: basicAuth(), ...headers } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
      const chunks: Buffer[] = [];
      const ended = new Promise<void>((done) => res.once('end', done));
      ended.catch(() => {});
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', () => {});
      res.once('data', () =>
        resolve({
          requestId: String(res.headers['x-request-id']),
          get body() {
            return Buffer.concat(chunks);
          },
          ended,
          close: () => req.destroy(),
        }),
      );
    });
    req.on('error', reject);
    req.end(JSON.stringify({ query }));
  });
}

const requestLine = (requestId: string) => logs.records().find((r) => r.requestId === requestId && typeof r.route === 'string') as LogRecord | undefined;

describe('shared subscriptions over SSE in the app', () => {
  it('log the request with the bytes sent, whether the stream completes or the client leaves', async () => {
    const progress = await rawSse('subscription { uploadProgress(uploadId: "logged") { bytesReceived done } }');
    const events = await rawSse('subscription { fileEvents(path: "/logged") { type } }');
    const up = await t.gql('mutation($f: Upload!) { uploadFile(file: $f, fileName: "l.txt", folder: "/logged", uploadId: "logged") { fileId } }', { f: Buffer.from('logged').toString('base64') });
    expect(up.errors).toBeUndefined();
    await progress.ended;
    const text = progress.body.toString();
    expect(text.startsWith(':\n\n')).toBe(true);
    expect(text).toContain('event: next\ndata: {"data":{"uploadProgress":{"bytesReceived":6,"done":true}}}\n\n');
    expect(text.endsWith('event: complete\ndata:\n\n')).toBe(true);
    await expect.poll(() => requestLine(progress.requestId)).toMatchObject({ method: 'POST', status: 200, route: 'graphql', bytes: progress.body.length });
    expect(requestLine(progress.requestId)?.aborted).toBeUndefined();

    await expect.poll(() => events.body.toString()).toContain('event: next\ndata: {"data":{"fileEvents":{"type":"file.created"}}}\n\n');
    const received = events.body.length;
    events.close();
    await expect.poll(() => requestLine(events.requestId)).toMatchObject({ status: 200, route: 'graphql', bytes: received, aborted: true });
  });
});
