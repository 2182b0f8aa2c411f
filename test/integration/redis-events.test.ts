import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createClient as createSseClient } from 'graphql-sse';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AppOverrides, createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/client.js';
import { sameDatabaseEnv } from '../helpers/app-database.js';
import { makeJpeg, randomBytesOf } from '../helpers/fixtures.js';
import { captureLogs } from '../helpers/log-capture.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { onPostgres } from '../helpers/test-database.js';
import { basicAuth, freePort, startTestApp, TEST_KEY, type TestApp } from '../helpers/test-app.js';
import { createTestModels } from '../helpers/test-models.js';

/** The Redis the suite uses, on a database number of this file's own (11). */
const REDIS_PORT = 6379;
const REDIS_DB = 11;
const REDIS_URL = `redis://127.0.0.1:${REDIS_PORT}/${REDIS_DB}`;

/**
 * A channel prefix of the test's own: Redis pub/sub ignores the database number, so this is what keeps parallel
 * runs (and the tests of this file) from hearing each other. Nothing is written to Redis, so nothing is cleaned up.
 */
const uniquePrefix = () => `stowage-test-${randomBytes(6).toString('hex')}:`;

/** The test's own connection to Redis, to see what subscribers Redis has and what crosses a channel. */
let redis: Redis;
beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(() => redis.quit());

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  // Apps first (the last started first), then what they were lent.
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups.length = 0;
});

async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-redis-events-'));
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

async function started(env: Record<string, string>, overrides: AppOverrides): Promise<TestApp> {
  const t = await startTestApp(env, overrides);
  cleanups.push(() => t.close());
  return t;
}

/**
 * Two instances of one library: on PostgreSQL, B points at A's database and schema (as a second process would);
 * on SQLite both are lent one database file (two processes cannot share one, so this stands in for it).
 */
async function twoInstances(env: Record<string, string>, overridesA: AppOverrides = {}, overridesB: AppOverrides = {}): Promise<[TestApp, TestApp]> {
  let shared: AppOverrides = {};
  if (!onPostgres()) {
    const { db, close } = openDatabase(path.join(await tempDir(), 'shared.db'));
    cleanups.push(close);
    shared = { db };
  }
  const a = await started(env, { ...shared, ...overridesA });
  const b = await started({ ...env, ...sameDatabaseEnv(a) }, { ...shared, ...overridesB });
  return [a, b];
}

/** How long a test waits for what crosses processes and Redis (a loaded CI machine is slow; a pass is quick). */
const WAIT = { timeout: 15_000 };

const redisEnv = (prefix: string, url = REDIS_URL) => ({ STOWAGE_REDIS_URL: url, STOWAGE_REDIS_PREFIX: prefix });

/** How many connections Redis has subscribed to `channel`. */
async function subscribers(channel: string): Promise<number> {
  const [, count] = (await redis.pubsub('NUMSUB', channel)) as [string, number];
  return Number(count);
}

/** A subscription over SSE (`accept: text/event-stream`), collecting its results until it completes. */
function subscribe<T = any>(t: TestApp, query: string, variables?: Record<string, unknown>) {
  const client = createSseClient({ url: `${t.url}/graphql`, headers: { authorization: basicAuth() }, retryAttempts: 0 });
  const values: T[] = [];
  let dispose: () => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    dispose = client.subscribe<T>({ query, variables }, { next: (v) => values.push(v.data as T), error: reject, complete: () => resolve() });
  });
  done.catch(() => {});
  cleanups.push(() => {
    dispose();
    client.dispose();
  });
  return { values, done };
}

interface HeardEvent {
  fileEvents: { type: string; filePath: string; fileId: string; data: Record<string, unknown> };
}

const FILE_EVENTS = 'subscription($path: String) { fileEvents(path: $path) { type filePath fileId data } }';

const uploadBytes = (t: TestApp, folder: string, fileName: string) =>
  t.upload<{ uploadFile: { fileId: string } }>(
    'mutation($file: Upload!, $folder: String, $fileName: String!) { uploadFile(file: $file, fileName: $fileName, folder: $folder, useUniqueFileName: false) { fileId } }',
    { file: null, folder, fileName },
    { path: 'variables.file', data: randomBytesOf(512), filename: fileName },
  );

const heardPaths = (values: HeardEvent[]) => values.map((v) => v.fileEvents.filePath);

describe('live events across instances through Redis (STOWAGE_REDIS_URL)', () => {
  it('a fileEvents subscriber on B hears an upload made on A, its payload intact after crossing as JSON', async () => {
    const prefix = uniquePrefix();
    const [a, b] = await twoInstances(redisEnv(prefix));
    const onB = subscribe<HeardEvent>(b, FILE_EVENTS, { path: '/shared' });
    await expect.poll(() => subscribers(`${prefix}fileEvents`), WAIT).toBe(1);

    const upload = await uploadBytes(a, '/shared', 'from-a.bin');
    expect(upload.errors).toBeUndefined();
    await expect.poll(() => heardPaths(onB.values), WAIT).toEqual(['/shared/from-a.bin']);

    const [heard] = onB.values;
    expect(heard?.fileEvents).toMatchObject({ type: 'file.created', fileId: upload.data?.uploadFile.fileId });
    // The payload crossed as JSON: what B tells its subscriber is the library's view of the file, dates as strings.
    const details = await b.gql<{ file: { name: string; createdAt: string } }>('query($id: ID!) { file(fileId: $id) { ... on File { name createdAt } } }', { id: upload.data?.uploadFile.fileId });
    expect(heard?.fileEvents.data).toMatchObject({ fileId: upload.data?.uploadFile.fileId, name: 'from-a.bin', filePath: '/shared/from-a.bin', type: 'file', size: 512 });
    expect(heard?.fileEvents.data.createdAt).toBe(details.data?.file.createdAt);
  });

  it('an uploadProgress subscriber on B follows an upload sent to A until its bytes are in', async () => {
    const prefix = uniquePrefix();
    const [a, b] = await twoInstances(redisEnv(prefix));
    const uploadId = `u-${randomBytes(4).toString('hex')}`;
    const onB = subscribe<{ uploadProgress: { bytesReceived: number; bytesTotal: number | null; done: boolean } }>(
      b,
      'subscription($id: String!) { uploadProgress(uploadId: $id) { bytesReceived bytesTotal done } }',
      { id: uploadId },
    );
    await expect.poll(() => subscribers(`${prefix}uploadProgress:${uploadId}`), WAIT).toBe(1);

    const data = randomBytesOf(3 * 1024 * 1024);
    const res = await a.gql('mutation($f: Upload!, $id: String) { uploadFile(file: $f, fileName: "big.bin", uploadId: $id) { size } }', { f: data.toString('base64'), id: uploadId });
    expect(res.data?.uploadFile.size).toBe(data.length);
    await onB.done;
    const events = onB.values.map((v) => v.uploadProgress);
    expect(events.length).toBeGreaterThan(1);
    expect(events.at(-1)).toEqual({ bytesReceived: data.length, bytesTotal: data.length, done: true });
    const received = events.map((e) => e.bytesReceived);
    expect(received).toEqual([...received].sort((x, y) => x - y));
  });

  it('an extensionStatus subscriber on B hears auto-tagging finish on A', async () => {
    const prefix = uniquePrefix();
    const onA = createTestModels();
    const onBModels = createTestModels();
    // A clock that never moves: the auto-tagging job never comes due, so only A's attempt during the upload tags.
    const clock = new ManualClock();
    const [a, b] = await twoInstances({ ...redisEnv(prefix), STOWAGE_AUTO_TAG_SYNC_MS: '100' }, { models: onA.models, clock }, { models: onBModels.models, clock });
    onA.hold();
    const up = await a.upload<{ uploadFile: { fileId: string; extensionStatus: Record<string, string> } }>(
      'mutation($file: Upload!) { uploadFile(file: $file, fileName: "tag-me.jpg", extensions: [{ googleAutoTagging: { maxTags: 2, minConfidence: 0 } }]) { fileId extensionStatus } }',
      { file: null },
      { path: 'variables.file', data: await makeJpeg(30, 30), filename: 'tag-me.jpg' },
    );
    const fileId = up.data?.uploadFile.fileId as string;
    expect(up.data?.uploadFile.extensionStatus).toEqual({ 'google-auto-tagging': 'pending' });

    // What crosses the channel, seen from a connection of the test's own.
    const channel = `${prefix}extensionStatus:${fileId}`;
    const observer = redis.duplicate();
    cleanups.push(() => void observer.disconnect());
    const crossed: unknown[] = [];
    observer.on('message', (_channel: string, message: string) => crossed.push(JSON.parse(message)));
    await observer.subscribe(channel);

    const onB = subscribe<{ extensionStatus: { fileId: string; status: Record<string, string>; done: boolean } }>(
      b,
      'subscription($id: ID!) { extensionStatus(fileId: $id) { fileId status done } }',
      { id: fileId },
    );
    // B has answered with the status it read and is listening for the next one.
    await expect.poll(() => subscribers(channel), WAIT).toBe(2);

    onA.release();
    await onB.done;
    expect(onB.values.map((v) => v.extensionStatus)).toEqual([
      { fileId, status: { 'google-auto-tagging': 'pending' }, done: false },
      { fileId, status: { 'google-auto-tagging': 'success' }, done: true },
    ]);
    await expect.poll(() => crossed, WAIT).toEqual([{ fileId, status: { 'google-auto-tagging': 'success' } }]);
    expect(onBModels.calls.tag).toBe(0);
  });

  it('without STOWAGE_REDIS_URL each instance hears only itself (the in-process bus)', async () => {
    const [a, b] = await twoInstances({});
    const onB = subscribe<HeardEvent>(b, FILE_EVENTS, { path: '/solo' });
    // B hears its own uploads once its subscription is listening: upload until it does.
    let n = 0;
    await expect
      .poll(async () => {
        await uploadBytes(b, '/solo', `b-ready-${++n}.bin`);
        return onB.values.length;
      }, WAIT)
      .toBeGreaterThan(0);

    expect((await uploadBytes(a, '/solo', 'from-a.bin')).errors).toBeUndefined();
    expect((await uploadBytes(b, '/solo', 'b-after.bin')).errors).toBeUndefined();
    await expect.poll(() => heardPaths(onB.values), WAIT).toContain('/solo/b-after.bin');
    expect(heardPaths(onB.values)).not.toContain('/solo/from-a.bin');
    // Both uploads are in the one library all the same.
    const listed = await b.gql<{ files: { nodes: { name: string }[] } }>('{ files(path: "/solo") { nodes { ... on File { name } } } }');
    expect(listed.data?.files.nodes.map((f) => f.name)).toContain('from-a.bin');
  });

  it('refuses to start with one line naming the Redis server, never its password, when Redis cannot be used', async () => {
    const closedPort = await freePort();
    const cases = [
      [`redis://stowage:s3cret-pw@127.0.0.1:${closedPort}/11`, `Cannot reach Redis at redis://stowage@127.0.0.1:${closedPort}/11: connect ECONNREFUSED 127.0.0.1:${closedPort}`],
      [`redis://stowage:s3cret-pw@127.0.0.1:${REDIS_PORT}/11`, `Cannot reach Redis at redis://stowage@127.0.0.1:${REDIS_PORT}/11: WRONGPASS`],
      [`redis://127.0.0.1:${REDIS_PORT}/999999`, `Cannot reach Redis at redis://127.0.0.1:${REDIS_PORT}/999999: ERR DB index is out of range`],
    ] as const;
    for (const [url, line] of cases) {
      const dataDir = await tempDir();
      const config = loadConfig({ STOWAGE_DATA_DIR: dataDir, STOWAGE_PRIVATE_KEY: TEST_KEY, STOWAGE_LOG_LEVEL: 'silent', STOWAGE_REDIS_URL: url });
      const error = await createApp(config).then(
        async (app) => {
          await app.close();
          throw new Error(`started with ${url}`);
        },
        (e: Error) => e,
      );
      expect(error.name).toBe('RedisStartError');
      expect(error.message.startsWith(line), error.message).toBe(true);
      expect(error.message).not.toContain('\n');
      expect(error.message).not.toContain('s3cret');
      // It failed before opening the database: nothing was created in the data directory.
      expect(await fs.stat(path.join(dataDir, 'stowage.db')).catch(() => null)).toBeNull();
    }
  });

  it('survives a Redis outage: it is logged, uploads go on, and B hears A again once Redis is back', async () => {
    const prefix = uniquePrefix();
    const proxy = await startCuttableProxy(REDIS_PORT);
    cleanups.push(() => proxy.close());
    const logsA = captureLogs();
    const [a, b] = await twoInstances(redisEnv(prefix, `redis://127.0.0.1:${proxy.port}/${REDIS_DB}`), { logger: logsA.logger });
    const onB = subscribe<HeardEvent>(b, FILE_EVENTS, { path: '/outage' });
    await expect.poll(() => subscribers(`${prefix}fileEvents`), WAIT).toBe(1);

    proxy.cut();
    await expect.poll(() => subscribers(`${prefix}fileEvents`), WAIT).toBe(0);
    // Uploads work while events cannot cross; what they publish is dropped, the process goes on.
    expect((await uploadBytes(a, '/outage', 'during.bin')).errors).toBeUndefined();
    const warnings = () => logsA.records().filter((r) => r.level === 40 && r.msg.includes(`Redis at redis://127.0.0.1:${proxy.port}/${REDIS_DB}`));
    await expect.poll(() => warnings().length, WAIT).toBeGreaterThan(0);
    expect(warnings()[0]?.msg).toMatch(/live events between instances are lost until it is back/);

    proxy.resume();
    // B subscribes again by itself; A publishes again: B hears an upload made on A after the outage.
    let n = 0;
    await expect
      .poll(
        async () => {
          await uploadBytes(a, '/outage', `after-${++n}.bin`);
          return heardPaths(onB.values).filter((p) => p.startsWith('/outage/after-')).length;
        },
        { ...WAIT, interval: 200 },
      )
      .toBeGreaterThan(0);
    expect(heardPaths(onB.values)).not.toContain('/outage/during.bin');
    await expect.poll(() => logsA.records().some((r) => r.level === 30 && r.msg.includes('reachable again')), WAIT).toBe(true);
  });
});

/**
 * A TCP proxy to the local Redis that a test can cut (every connection closed, new ones closed at once, as when
 * the server or the network is down) and resume, without touching the Redis everyone else uses.
 */
async function startCuttableProxy(targetPort: number) {
  let open = true;
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = net.createServer((client) => {
    track(client);
    if (!open) return void client.destroy();
    const upstream = net.connect(targetPort, '127.0.0.1');
    track(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
    },
    resume() {
      open = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
