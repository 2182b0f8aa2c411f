import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type SqliteDb } from '../../src/db/client.js';
import { createSqliteTransactor } from '../../src/db/transactor.js';
import { janitorJob } from '../../src/jobs/janitor.js';
import type { Job } from '../../src/jobs/job-queue.js';
import { DatabaseJobQueue } from '../../src/jobs/database-job-queue.js';
import { randomBytesOf } from '../helpers/fixtures.js';
import { captureLogs, type CapturedLogs } from '../helpers/log-capture.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { startTestApp, TEST_KEY, type TestApp, UPLOAD_MUTATION } from '../helpers/test-app.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';

/** The database queue, recording every claim, the kinds of the jobs it handed out, and how many are running. */
class RecordingQueue extends DatabaseJobQueue {
  claims = 0;
  running = 0;
  readonly claimed: string[] = [];

  override async claim(kind: string, leaseMs: number): Promise<Job<unknown> | undefined> {
    this.claims++;
    const job = await super.claim(kind, leaseMs);
    if (job) {
      this.claimed.push(job.kind);
      this.running++;
    }
    return job;
  }

  override async complete(jobId: string): Promise<void> {
    await super.complete(jobId);
    this.running--;
  }

  override async fail(jobId: string, error: string, retryAt: number): Promise<'retrying' | 'dead'> {
    const outcome = await super.fail(jobId, error, retryAt);
    this.running--;
    return outcome;
  }

  override async markDead(jobId: string, error: string): Promise<void> {
    await super.markDead(jobId, error);
    this.running--;
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  // Apps first, then the databases they were lent, then directories.
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups.length = 0;
});

async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-composition-'));
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A database opened (and migrated) outside any app, as a test or another process would hold it. */
async function sharedDatabase(): Promise<SqliteDb> {
  const { db, close } = openDatabase(path.join(await tempDir(), 'shared.db'));
  cleanups.push(close);
  return db;
}

/** A transactor of the test's own on `db` (sharing the apps' serialisation on that connection). */
function transactorOf(db: SqliteDb) {
  const transactor = createSqliteTransactor(db);
  cleanups.push(() => transactor.close());
  return transactor;
}

async function started(env: Record<string, string>, overrides: Parameters<typeof startTestApp>[1]): Promise<TestApp> {
  const t = await startTestApp(env, overrides);
  cleanups.push(() => t.close());
  return t;
}

/** Far longer than any test waits, so only the test clock can make a retry due. */
const RETRY_MS = 10 * 60_000;

const janitorRuns = (logs: CapturedLogs) => logs.records().filter((r) => r.msg.startsWith('Janitor collected'));

const uploadBytes = (t: TestApp, fileName: string) =>
  t.upload(UPLOAD_MUTATION, { file: null, fileName, useUniqueFileName: false }, { path: 'variables.file', data: randomBytesOf(1024), filename: fileName });

describe('composition root', () => {
  it('does no background work until started: a due job waits for start()', async () => {
    const dataDir = await tempDir();
    const db = await sharedDatabase();
    const queue = new RecordingQueue(transactorOf(db));
    const logs = captureLogs();
    const app = await createApp(loadConfig({ STOWAGE_DATA_DIR: dataDir, STOWAGE_PRIVATE_KEY: TEST_KEY }), { db, queue, logger: logs.logger });
    cleanups.push(() => app.close());
    await queue.enqueue(janitorJob, {}, { maxAttempts: 1 });

    await sleep(200);
    expect(queue.claims).toBe(0);
    expect(janitorRuns(logs)).toHaveLength(0);

    await app.start();
    await expect.poll(() => janitorRuns(logs).length, { timeout: 10_000 }).toBe(1);
    expect(queue.claimed).toContain('janitor');
  });

  it('runs a webhook retry and the janitor when a test clock makes them due, without waiting for them', async () => {
    // The first delivery fails: the retry is due 10 minutes later, the janitor's first run a minute after the start.
    const receiver = await startWebhookReceiver((_hook, count) => (count === 0 ? 500 : 200));
    cleanups.push(() => receiver.close());
    const clock = new ManualClock();
    const logs = captureLogs();
    const db = await sharedDatabase();
    const queue = new RecordingQueue(transactorOf(db), () => clock.now());
    const t = await started({ STOWAGE_URL_ALLOWLIST: '127.0.0.1/32', STOWAGE_WEBHOOK_URLS: receiver.url, STOWAGE_WEBHOOK_RETRY_BASE_MS: String(RETRY_MS) }, { clock, logger: logs.logger, db, queue });

    expect((await uploadBytes(t, 'hooked.bin')).status).toBe(200);
    await expect.poll(() => receiver.received.length, { timeout: 10_000 }).toBe(1);
    expect(janitorRuns(logs)).toHaveLength(0);

    // Each look advances the test clock by the retry delay (real time moves by milliseconds only), but never while a
    // job runs: its lease would run out under it and the job be claimed again, which real time never does.
    const advanced = () => {
      if (queue.running === 0) clock.advance(RETRY_MS);
      return { hooks: receiver.received.map((r) => r.status), janitorRan: janitorRuns(logs).length > 0 };
    };
    await expect.poll(advanced, { timeout: 10_000, interval: 20 }).toEqual({ hooks: [500, 200], janitorRan: true });
    expect(receiver.received[1]?.json.type).toBe(receiver.received[0]?.json.type);
  });

  it('uses the job queue it is given for the jobs its uploads cause', async () => {
    const receiver = await startWebhookReceiver();
    cleanups.push(() => receiver.close());
    const db = await sharedDatabase();
    const queue = new RecordingQueue(transactorOf(db));
    const t = await started({ STOWAGE_URL_ALLOWLIST: '127.0.0.1/32', STOWAGE_WEBHOOK_URLS: receiver.url }, { db, queue });

    expect((await uploadBytes(t, 'queued.bin')).status).toBe(200);
    await expect.poll(() => receiver.accepted().length, { timeout: 10_000 }).toBe(1);
    expect(queue.claimed).toContain('webhook');
  });

  it('uses the database handle it is given: two apps sharing one see each other’s files', async () => {
    const db = await sharedDatabase();
    const a = await started({}, { db });
    const b = await started({}, { db });

    expect((await uploadBytes(a, 'from-a.bin')).status).toBe(200);
    const listed = await b.gql<{ files: { nodes: { name: string }[] } }>('{ files { nodes { ... on File { name } } } }');
    expect(listed.errors).toBeUndefined();
    expect(listed.data?.files.nodes.map((n) => n.name)).toEqual(['from-a.bin']);
    // Neither app opened a database of its own in its data directory.
    for (const t of [a, b]) expect(await fs.stat(path.join(t.dataDir, 'stowage.db')).catch(() => null)).toBeNull();
  });
});
