import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { appDatabaseRows, sameDatabaseEnv } from '../helpers/app-database.js';
import { randomBytesOf } from '../helpers/fixtures.js';
import { captureLogs, type CapturedLogs } from '../helpers/log-capture.js';
import { Scrape } from '../helpers/prometheus.js';
import { multipartEnvelope, openMultipartRequest } from '../helpers/raw-multipart.js';
import { basicAuth, startTestApp, type TestApp, UPLOAD_MUTATION } from '../helpers/test-app.js';

const GRACE_MS = 60_000;
/** The janitor runs every 50 ms in these tests, so a run happens while each test waits. */
const FAST_JANITOR = { STOWAGE_JANITOR_INTERVAL_MS: '50' };

const opened: TestApp[] = [];
afterEach(async () => {
  // The second app on a data dir first: closing the first removes the directory.
  for (const app of opened.reverse()) await app.close();
  opened.length = 0;
});

async function start(env: Record<string, string>, logs?: CapturedLogs): Promise<TestApp> {
  const app = await startTestApp(env, logs ? { logger: logs.logger } : {});
  opened.push(app);
  return app;
}

/**
 * A second process on the same data directory (blob store, and database on SQLite) and the same database (on
 * PostgreSQL: the same schema), as a second instance would be.
 */
const startSecond = (first: TestApp, env: Record<string, string>, logs?: CapturedLogs) =>
  start({ ...env, ...sameDatabaseEnv(first), STOWAGE_DATA_DIR: first.dataDir }, logs);

const janitorRuns = (...logs: CapturedLogs[]) => logs.flatMap((l) => l.records()).filter((r) => r.msg.startsWith('Janitor collected'));

const blobPath = (t: TestApp, ...parts: string[]) => path.join(t.dataDir, 'blobs', ...parts);
const exists = (file: string) => fs.stat(file).then(() => true, () => false);

/** Writes a file last modified `ageMs` ago. */
async function plant(file: string, ageMs: number): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, 'left behind');
  const at = new Date(Date.now() - ageMs);
  await fs.utimes(file, at, at);
}

/** The janitor jobs in the queue, by state, read from the app's database (SQLite or PostgreSQL). */
async function janitorJobs(t: TestApp): Promise<Record<string, number>> {
  const rows = await appDatabaseRows<{ status: string; n: number }>(t, `select status, count(*) as n from jobs where kind = 'janitor' group by status`);
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

describe('janitor', () => {
  it('lets an upload in flight in one process finish intact while a second process starts and the janitor runs', async () => {
    const logsA = captureLogs();
    const logsB = captureLogs();
    const a = await start(FAST_JANITOR, logsA);
    const data = randomBytesOf(256 * 1024);
    const { head, tail } = multipartEnvelope(UPLOAD_MUTATION, { file: null, fileName: 'in-flight.bin' }, 'in-flight.bin');
    const { req, response } = openMultipartRequest(a.url);
    req.write(head);
    req.write(data.subarray(0, 64 * 1024));
    const temps = blobPath(a, '.incomplete');
    await expect.poll(async () => (await fs.readdir(temps).catch(() => [])).length, { timeout: 10_000 }).toBe(1);
    await sleep(20); // the temp object is now older than the second process (the old start-up sweep deleted it)

    await startSecond(a, FAST_JANITOR, logsB);
    const runsBefore = janitorRuns(logsA, logsB).length;
    await expect.poll(() => janitorRuns(logsA, logsB).length, { timeout: 10_000 }).toBeGreaterThan(runsBefore + 1);
    expect((await fs.readdir(temps)).length).toBe(1);

    req.end(Buffer.concat([data.subarray(64 * 1024), tail]));
    const res = await response;
    expect(res.status).toBe(200);
    const uploaded = JSON.parse(res.body).data.uploadFile as { url: string };
    const served = await fetch(uploaded.url);
    expect(served.status).toBe(200);
    expect(Buffer.compare(Buffer.from(await served.arrayBuffer()), data)).toBe(0);
  });

  it('collects temp objects, blobs with no version and derivatives of deleted versions past the grace period, and nothing younger', async () => {
    const logs = captureLogs();
    const t = await start({ ...FAST_JANITOR, STOWAGE_JANITOR_GRACE_MS: String(GRACE_MS) }, logs);
    const kept = await t.upload(UPLOAD_MUTATION, { file: null, fileName: 'kept.bin' }, { path: 'variables.file', data: randomBytesOf(100), filename: 'kept.bin' });
    const keptVersion = kept.data?.uploadFile.versionInfo.id as string;
    const old = GRACE_MS * 2;
    const young = GRACE_MS / 2;
    const collected = [
      blobPath(t, '.incomplete', 'crashed-upload'),
      blobPath(t, 'files', 'ffffffffffffffffffffffff'),
      blobPath(t, 'derived', 'deleted-version', 'abc.png'),
      blobPath(t, 'thumbnails', 'deleted-version.webp'),
    ];
    const survivors = [
      blobPath(t, '.incomplete', 'slow-upload'),
      blobPath(t, 'files', 'eeeeeeeeeeeeeeeeeeeeeeee'),
      blobPath(t, 'derived', 'deleted-too', 'abc.png'),
    ];
    for (const file of collected) await plant(file, old);
    for (const file of survivors) await plant(file, young);
    // The committed version's blob is as old as the orphans: its row keeps it.
    await fs.utimes(blobPath(t, 'files', keptVersion), new Date(Date.now() - old), new Date(Date.now() - old));

    for (const file of collected) await expect.poll(() => exists(file), { timeout: 10_000 }).toBe(false);
    const runsAfter = janitorRuns(logs).length;
    await expect.poll(() => janitorRuns(logs).length, { timeout: 10_000 }).toBeGreaterThan(runsAfter);
    for (const file of survivors) expect(await exists(file)).toBe(true);
    expect((await fetch(kept.data?.uploadFile.url)).status).toBe(200);

    const totals = { temp: 0, orphan: 0, derivative: 0 };
    for (const run of janitorRuns(logs)) for (const kind of Object.keys(totals) as (keyof typeof totals)[]) totals[kind] += (run.collected as typeof totals)[kind];
    expect(totals).toEqual({ temp: 1, orphan: 1, derivative: 2 });
    expect(janitorRuns(logs).map((r) => r.msg)).toContainEqual(expect.stringMatching(/^Janitor collected \d+ temp objects, \d+ orphaned blobs and \d+ derivatives of deleted versions$/));
    const scrape = Scrape.parse(await (await fetch(`${t.url}/metrics`, { headers: { authorization: basicAuth() } })).text());
    expect(scrape.value('stowage_janitor_collected_total', { kind: 'temp' })).toBe(1);
    expect(scrape.value('stowage_janitor_collected_total', { kind: 'orphan' })).toBe(1);
    expect(scrape.value('stowage_janitor_collected_total', { kind: 'derivative' })).toBe(2);
  });

  it('runs as one self-rescheduling job: two processes keep one janitor job pending between them', async () => {
    const logsA = captureLogs();
    const logsB = captureLogs();
    const a = await start(FAST_JANITOR, logsA);
    const b = await startSecond(a, FAST_JANITOR, logsB);
    await expect.poll(async () => (await janitorJobs(a)).done ?? 0, { timeout: 10_000 }).toBeGreaterThanOrEqual(6);
    for (let i = 0; i < 20; i++) {
      const jobs = await janitorJobs(a);
      expect(jobs.pending ?? 0).toBeLessThanOrEqual(1);
      expect(jobs.running ?? 0).toBeLessThanOrEqual(1);
      await sleep(10);
    }
    await b.app.close();
    await a.app.close();
    const left = await janitorJobs(a);
    expect(left).toMatchObject({ pending: 1 });
    expect(left.running).toBeUndefined();
    expect(left.dead).toBeUndefined();
  });

  it('deletes nothing when a process starts: a crash leftover waits for the janitor', async () => {
    const t = await start({ STOWAGE_JANITOR_GRACE_MS: String(GRACE_MS) });
    const orphan = blobPath(t, 'files', 'ffffffffffffffffffffffff');
    await plant(orphan, GRACE_MS * 2);
    // The janitor's first run is a minute away: restarting neither brings it forward nor adds another.
    await t.restart();
    await t.restart();
    expect(await exists(orphan)).toBe(true);
    expect(await janitorJobs(t)).toEqual({ pending: 1 });
  });
});
