/**
 * (e) Subscription fan-out: 1,000 graphql-ws listeners of `fileEvents`, time from an upload until every one has
 * its event; baseline: the same number of plain `ws` sockets receiving one broadcast from a bare ws server.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createClient } from 'graphql-ws';
import WebSocket, { WebSocketServer } from 'ws';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

const LISTENERS = 1000;
const KEY = 'private_bench_key';
const AUTH = `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`;

async function baseline(): Promise<number> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const sockets = await Promise.all(
    Array.from({ length: LISTENERS }, () => new Promise<WebSocket>((resolve) => { const s = new WebSocket(`ws://127.0.0.1:${port}`); s.once('open', () => resolve(s)); })),
  );
  let received = 0;
  const all = new Promise<void>((resolve) => {
    for (const s of sockets) s.once('message', () => ++received === LISTENERS && resolve());
  });
  const started = performance.now();
  const payload = JSON.stringify({ type: 'next', id: '1', payload: { data: { fileEvents: { type: 'file.created', filePath: '/x' } } } });
  for (const client of wss.clients) client.send(payload);
  await all;
  const elapsed = performance.now() - started;
  for (const s of sockets) s.terminate();
  await new Promise<void>((r) => wss.close(() => server.close(() => r())));
  return elapsed;
}

async function stowage(dataDir: string): Promise<number> {
  const app = await createApp(loadConfig({ STOWAGE_DATA_DIR: dataDir, STOWAGE_PRIVATE_KEY: KEY, STOWAGE_LOG_LEVEL: 'silent' }));
  const url = await app.listen(0, '127.0.0.1');
  const clients = Array.from({ length: LISTENERS }, () =>
    createClient({ url: `${url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: AUTH }, retryAttempts: 0 }),
  );
  let subscribed = 0;
  let received = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  const ready = new Promise<void>((resolveReady) => {
    for (const client of clients) {
      client.on('connected', () => ++subscribed === LISTENERS && resolveReady());
      client.subscribe({ query: 'subscription { fileEvents { type filePath } }' }, { next: () => ++received === LISTENERS && resolveAll(), error: () => {}, complete: () => {} });
    }
  });
  await ready;
  await new Promise((r) => setTimeout(r, 500)); // every subscription registered on the server
  const started = performance.now();
  await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: AUTH },
    body: JSON.stringify({ query: `mutation { uploadFile(file: "${Buffer.from('fan-out').toString('base64')}", fileName: "f.txt") { fileId } }` }),
  });
  await all;
  const elapsed = performance.now() - started;
  await Promise.all(clients.map((c) => c.dispose()));
  await app.close();
  return elapsed;
}

export async function runFanoutBench(dataDir: string, log: (line: string) => void): Promise<{ table: string; results: Record<string, unknown> }> {
  const base = await baseline();
  log(`(e) baseline ws broadcast to ${LISTENERS}: ${base.toFixed(1)} ms`);
  const subject = await stowage(dataDir);
  const table = [
    `| (e) event to ${LISTENERS} subscribers, ms | bare ws broadcast | Stowage upload → graphql-ws fileEvents | ratio |`,
    '|---|---|---|---|',
    `| time until all have it | ${base.toFixed(1)} | ${subject.toFixed(1)} | ${(subject / base).toFixed(2)} |`,
  ].join('\n');
  return { table: `\n${table}\n`, results: { listeners: LISTENERS, baselineMs: base, stowageMs: subject, ratio: subject / base } };
}
