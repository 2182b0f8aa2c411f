import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { basicAuth, startTestApp, type TestApp } from '../helpers/test-app.js';

const apps: TestApp[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function start(env: Record<string, string> = {}) {
  const t = await startTestApp(env);
  apps.push(t);
  return t;
}

/** Everything a raw connection receives until the server closes it. */
function readAll(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (text += chunk));
    socket.on('error', () => {});
    socket.once('close', () => resolve(text));
  });
}

/** Splits a chunked HTTP/1.1 response off the front of `text`: its head and its decoded body. */
function takeChunkedResponse(text: string): { head: string; body: string } {
  const headEnd = text.indexOf('\r\n\r\n');
  let at = headEnd + 4;
  let body = '';
  for (;;) {
    const lineEnd = text.indexOf('\r\n', at);
    const size = Number.parseInt(text.slice(at, lineEnd), 16);
    if (Number.isNaN(size)) throw new Error(`Not a chunked body at ${at}: ${text.slice(at, at + 40)}`);
    at = lineEnd + 2;
    if (size === 0) return { head: text.slice(0, headEnd), body };
    body += text.slice(at, at + size);
    at += size + 2;
  }
}

/** A GraphQL-over-SSE subscription request, as raw HTTP/1.1 on a kept-alive connection. */
function sseRequest(query: string): string {
  const body = JSON.stringify({ query });
  return [
    'POST /graphql HTTP/1.1',
    'Host: 127.0.0.1',
    `Authorization: ${basicAuth()}`,
    'Content-Type: application/json',
    'Accept: text/event-stream',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

describe('graceful shutdown', () => {
  it('ends SSE subscriptions with a SHUTTING_DOWN error and refuses new connections', async () => {
    const t = await start();
    const { port } = new URL(t.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    const received = readAll(socket);
    let seen = '';
    socket.on('data', (chunk) => (seen += chunk));
    socket.write(sseRequest('subscription { fileEvents { type fileId } }'));
    // The stream is open once its first ping arrived.
    await expect.poll(() => seen.includes(':\n\n')).toBe(true);

    const closing = t.app.close({ timeoutMs: 10_000 });
    const connectError = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      http.get(`${t.url}/healthz`, () => resolve(undefined)).once('error', resolve);
    });
    expect(connectError?.code).toBe('ECONNREFUSED');

    const text = await received;
    await closing;
    const { head, body: stream } = takeChunkedResponse(text);
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(stream).toContain('event: next\ndata: {"errors":[{"message":"The server is shutting down');
    expect(stream).toContain('"code":"SHUTTING_DOWN","status":503');
    // The stream finishes as GraphQL over SSE says, then the response ends, rather than being dropped.
    expect(stream.endsWith('event: complete\ndata:\n\n')).toBe(true);
  });

  it('closes graphql-ws connections with 1001 "Going away"', async () => {
    const t = await start();
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const messages: { type: string }[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(String(data))));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: basicAuth() } }));
    await expect.poll(() => messages.map((m) => m.type)).toEqual(['connection_ack']);
    ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { fileEvents { type } }' } }));

    await t.app.close();
    expect(await closed).toEqual({ code: 1001, reason: 'Going away' });
  });

  it('with nothing in flight, closes without waiting for the shutdown timeout', async () => {
    const t = await start({ STOWAGE_SHUTDOWN_TIMEOUT_MS: '600000' });
    expect((await t.gql('{ files { totalCount } }')).status).toBe(200);
    // Would time the test out if it waited for the 10 minutes.
    await t.app.close();
    // A new connection (fetch could reuse the kept-alive socket of the query above before it saw it close).
    const { port } = new URL(t.url);
    const connectError = await new Promise<string | undefined>((resolve) => {
      const socket = net.connect(Number(port), '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(undefined)));
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
    });
    expect(connectError).toBe('ECONNREFUSED');
  });
});
