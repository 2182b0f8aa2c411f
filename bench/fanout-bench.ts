/**
 * (e) Subscription fan-out: one library event to 1,000 `fileEvents` subscribers, the time from the moment the event
 * exists until every subscriber has it, over both transports Stowage serves: graphql-ws and GraphQL over SSE.
 *
 * - The event comes from a cheap mutation (`updateFileDetails` on a file's tags, which emits `file.updated`); the
 *   clock starts when the mutation is sent (the headline, which includes the mutation's own transaction) and, for
 *   context, when the event is published on the bus.
 * - Baseline: the same number of plain `ws` sockets receiving one broadcast frame of the same size from a bare ws
 *   server. Every client, baseline or not, does the same work per frame: it parses it and checks it is a `next`.
 * - Clients live in the benchmark's process, beside the server, as in the other rows; both sides share the 2 cores.
 * - Each figure is the median of ROUNDS events, after warm-up events that prove every subscription is registered.
 * - For context, the CPU time the process spent per event (process.cpuUsage(), server and clients together): on a
 *   loaded machine it varies less than wall-clock time does.
 * - "upload → all" (an upload's whole pipeline, then its `file.created`) is kept as a context row.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import WebSocket, { WebSocketServer } from 'ws';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createEventBus, type EventBus } from '../src/events/pubsub.js';

const LISTENERS = 1000;
const ROUNDS = 7;
const TARGET_MS = 150;
const TARGET_RATIO = 1.5;
const KEY = 'private_bench_key';
const AUTH = `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`;
const SUBSCRIPTION = 'subscription { fileEvents { type filePath } }';
const FILE_PATH = '/fanout/f.txt';
/** What a graphql-ws subscriber of SUBSCRIPTION receives for one event (the baseline sends the same bytes). */
const SAMPLE_FRAME = JSON.stringify({ id: randomUUID(), type: 'next', payload: { data: { fileEvents: { type: 'file.updated', filePath: FILE_PATH } } } });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
/** CPU time (user + system, ms) this process spent since `since`: server and clients together, as they share it. */
const cpuMsSince = (since: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts, per round, the subscribers that received the round's event; resolves when all have. */
class Arrivals {
  private count = 0;
  private done: (() => void) | undefined;
  /** One subscriber received an event. */
  readonly arrived = () => {
    if (++this.count === LISTENERS) this.done?.();
  };
  /** Resets the count; the promise resolves when every subscriber has the next event, or rejects after `ms`. */
  next(ms = 10_000): Promise<void> {
    this.count = 0;
    const all = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.count} of ${LISTENERS} subscribers got the event within ${ms} ms`)), ms);
      this.done = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    // Awaited by the caller after it emitted the event; a timeout during the emit must not go unhandled first.
    all.catch(() => {});
    return all;
  }
  get received() {
    return this.count;
  }
}

/** The client's work for every frame, identical for the baseline and Stowage: parse it, check it is a `next`. */
const onFrame = (arrivals: Arrivals) => (data: WebSocket.RawData) => {
  if ((JSON.parse(String(data)) as { type: string }).type === 'next') arrivals.arrived();
};

interface Times {
  /** Median wall-clock ms until all have the event. */
  ms: number;
  /** Median CPU ms the process spent per event, from sending it until all have it. */
  cpuMs: number;
}

async function baseline(): Promise<Times> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const arrivals = new Arrivals();
  const sockets = await Promise.all(
    Array.from({ length: LISTENERS }, () => new Promise<WebSocket>((resolve) => { const s = new WebSocket(`ws://127.0.0.1:${port}`); s.once('open', () => resolve(s)); })),
  );
  for (const s of sockets) s.on('message', onFrame(arrivals));
  const times: number[] = [];
  const cpu: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const all = arrivals.next();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    for (const client of wss.clients) client.send(SAMPLE_FRAME);
    await all;
    times.push(performance.now() - started);
    cpu.push(cpuMsSince(cpuBefore));
    await sleep(50);
  }
  for (const s of sockets) s.terminate();
  await new Promise<void>((r) => wss.close(() => server.close(() => r())));
  return { ms: median(times), cpuMs: median(cpu) };
}

/** 1,000 subscribers over one transport; `close` ends them. */
interface Subscribers {
  arrivals: Arrivals;
  close(): void;
}

/**
 * graphql-ws subscribers speaking the protocol over plain `ws` sockets (no client library's cost beyond the
 * baseline's), each with its own random operation id as graphql-ws's client gives them.
 */
async function wsSubscribers(url: string): Promise<Subscribers> {
  const arrivals = new Arrivals();
  const sockets = await Promise.all(
    Array.from(
      { length: LISTENERS },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
          socket.once('error', reject);
          socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: AUTH } })));
          socket.once('message', (data) => {
            if ((JSON.parse(String(data)) as { type: string }).type !== 'connection_ack') return reject(new Error(`no ack: ${String(data)}`));
            socket.on('message', onFrame(arrivals));
            socket.send(JSON.stringify({ id: randomUUID(), type: 'subscribe', payload: { query: SUBSCRIPTION } }));
            resolve(socket);
          });
        }),
    ),
  );
  return { arrivals, close: () => sockets.forEach((s) => s.terminate()) };
}

/** GraphQL over SSE as graphql-sse's distinct-connections client sends it: a POST accepting `text/event-stream`. */
async function sseSubscribers(url: string): Promise<Subscribers> {
  const arrivals = new Arrivals();
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const body = JSON.stringify({ query: SUBSCRIPTION });
  const requests = await Promise.all(
    Array.from(
      { length: LISTENERS },
      () =>
        new Promise<http.ClientRequest>((resolve, reject) => {
          const req = http.request(`${url}/graphql`, { method: 'POST', agent, headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: AUTH } }, (res) => {
            if (res.statusCode !== 200) return reject(new Error(`SSE subscription answered ${res.statusCode}`));
            res.setEncoding('utf8');
            let buffered = '';
            res.on('data', (chunk: string) => {
              buffered += chunk;
              let end: number;
              while ((end = buffered.indexOf('\n\n')) >= 0) {
                const message = buffered.slice(0, end);
                buffered = buffered.slice(end + 2);
                const data = message.startsWith('event: next\n') ? message.slice(message.indexOf('data: ') + 6) : undefined;
                if (data && (JSON.parse(data) as { data?: unknown }).data) arrivals.arrived();
              }
            });
            res.on('error', () => {});
            resolve(req);
          });
          req.on('error', reject);
          req.end(body);
        }),
    ),
  );
  return { arrivals, close: () => { requests.forEach((r) => r.destroy()); agent.destroy(); } };
}

interface TransportTimes {
  /** Mutation sent → all have the event (median). */
  mutationMs: number;
  /** Event published on the bus → all have it (median). */
  publishMs: number;
  /** CPU ms per event, mutation sent → all have it (median; server and clients). */
  cpuMs: number;
}

async function measureTransport(
  subscribers: Subscribers,
  emit: () => Promise<void>,
  published: () => number,
): Promise<TransportTimes> {
  const { arrivals } = subscribers;
  // Warm-up: events until one reaches every subscriber (each subscription is then registered on the server).
  for (let attempt = 0; ; attempt++) {
    const all = arrivals.next(1000);
    await emit();
    try {
      await all;
      break;
    } catch (error) {
      console.error(`warm-up ${attempt}: ${(error as Error).message}`);
      if (attempt === 20) throw error;
    }
  }
  const mutation: number[] = [];
  const publish: number[] = [];
  const cpu: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await sleep(50);
    const all = arrivals.next();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await emit();
    await all;
    const ended = performance.now();
    cpu.push(cpuMsSince(cpuBefore));
    mutation.push(ended - started);
    publish.push(ended - published());
  }
  return { mutationMs: median(mutation), publishMs: median(publish), cpuMs: median(cpu) };
}

interface StowageTimes {
  ws: TransportTimes;
  sse: TransportTimes;
  /** Upload sent → all graphql-ws subscribers have its `file.created`. */
  uploadWsMs: number;
}

/** The bus the app publishes on, remembering when its last `fileEvents` event was published. */
function timedBus(): { bus: EventBus; lastPublished: () => number } {
  const bus = createEventBus();
  let last = 0;
  const publish = bus.publish.bind(bus) as (...args: unknown[]) => void;
  bus.publish = ((...args: unknown[]) => {
    if (args[0] === 'fileEvents') last = performance.now();
    publish(...args);
  }) as EventBus['publish'];
  return { bus, lastPublished: () => last };
}

async function stowage(dataDir: string): Promise<StowageTimes> {
  const { bus, lastPublished } = timedBus();
  const app = await createApp(loadConfig({ STOWAGE_DATA_DIR: dataDir, STOWAGE_PRIVATE_KEY: KEY, STOWAGE_LOG_LEVEL: 'silent' }), { bus });
  const url = await app.listen(0, '127.0.0.1');
  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: AUTH }, body: JSON.stringify({ query, variables }) });
    const body = (await res.json()) as { data?: Record<string, { fileId?: string }>; errors?: unknown };
    if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
    return body.data ?? {};
  };
  const upload = () => gql('mutation($f: Upload!) { uploadFile(file: $f, fileName: "f.txt", folder: "/fanout") { fileId } }', { f: Buffer.from('fan-out').toString('base64') });
  const fileId = (await upload()).uploadFile?.fileId;
  let tag = 0;
  const updateTags = async () => {
    await gql('mutation($id: ID!, $tags: [String!]) { updateFileDetails(fileId: $id, tags: $tags) { fileId } }', { id: fileId, tags: [`t${++tag}`] });
  };
  try {
    const ws = await wsSubscribers(url);
    const wsTimes = await measureTransport(ws, updateTags, lastPublished);
    const all = ws.arrivals.next();
    const started = performance.now();
    await upload();
    await all;
    const uploadWsMs = performance.now() - started;
    ws.close();
    await sleep(200);
    const sse = await sseSubscribers(url);
    const sseTimes = await measureTransport(sse, updateTags, lastPublished);
    sse.close();
    return { ws: wsTimes, sse: sseTimes, uploadWsMs };
  } finally {
    await app.close({ timeoutMs: 2000 });
  }
}

export async function runFanoutBench(dataDir: string, log: (line: string) => void): Promise<{ table: string; results: Record<string, unknown> }> {
  const base = await baseline();
  log(`(e) baseline ws broadcast to ${LISTENERS}: ${base.ms.toFixed(1)} ms, ${base.cpuMs.toFixed(1)} ms CPU (median of ${ROUNDS})`);
  const subject = await stowage(dataDir);
  const met = (ms: number) => (ms <= TARGET_MS && ms / base.ms <= TARGET_RATIO ? 'MET' : 'NOT MET');
  const target = `<= ${TARGET_MS} ms and <= ${TARGET_RATIO}x`;
  const row = (what: string, baseMs: number, ms: number, verdict: string) => `| ${what} | ${baseMs.toFixed(1)} | ${ms.toFixed(1)} | ${(ms / baseMs).toFixed(2)} | ${verdict} |`;
  const table = [
    `| (e) one event to ${LISTENERS} subscribers, ms until all have it (median of ${ROUNDS}) | bare \`ws\` broadcast | Stowage | ratio | target ${target} |`,
    '|---|---|---|---|---|',
    row('graphql-ws `fileEvents`, tags mutation sent → all', base.ms, subject.ws.mutationMs, met(subject.ws.mutationMs)),
    row('SSE `fileEvents`, tags mutation sent → all', base.ms, subject.sse.mutationMs, met(subject.sse.mutationMs)),
    row('graphql-ws, event published → all', base.ms, subject.ws.publishMs, '(context)'),
    row('SSE, event published → all', base.ms, subject.sse.publishMs, '(context)'),
    row('graphql-ws, CPU ms per event (server and clients, one process)', base.cpuMs, subject.ws.cpuMs, '(context)'),
    row('SSE, CPU ms per event (server and clients, one process)', base.cpuMs, subject.sse.cpuMs, '(context)'),
    row('graphql-ws, upload sent → all (one upload)', base.ms, subject.uploadWsMs, '(context)'),
  ].join('\n');
  return {
    table: `\n${table}\n`,
    results: {
      listeners: LISTENERS,
      rounds: ROUNDS,
      baselineMs: base.ms,
      baselineCpuMs: base.cpuMs,
      graphqlWs: { ...subject.ws, ratio: subject.ws.mutationMs / base.ms },
      sse: { ...subject.sse, ratio: subject.sse.mutationMs / base.ms },
      uploadToAllWsMs: subject.uploadWsMs,
      note: 'clients in the same process as the server; CPU figures are the whole process (server and clients)',
    },
  };
}
