import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/db/pg/client.js';
import { createPostgresTransactor } from '../../src/db/pg/transactor.js';
import { DatabaseJobQueue } from '../../src/jobs/database-job-queue.js';
import { LocalBlobStore } from '../../src/storage/local-blob-store.js';
import { appDatabaseRows } from '../helpers/app-database.js';
import { randomBytesOf } from '../helpers/fixtures.js';
import { type GqlResult, startTestApp, type TestApp, UPLOAD_MUTATION } from '../helpers/test-app.js';
import { createSharedPostgresLibrary, localPostgresReachable } from '../helpers/test-database.js';

/**
 * Two Stowage instances on one PostgreSQL library (same database and schema, each with its own data directory, one
 * shared blob store), as two servers behind a load balancer would run. What SQLite's `BEGIN IMMEDIATE` serialised
 * within one file, PostgreSQL must serialise across processes with the advisory locks of `src/db/pg/transactor.ts`;
 * these tests check what a user would notice if it did not.
 *
 * Runs on every machine, whatever database the rest of the suite uses: in a schema of its own in the run's database
 * when the suite runs on PostgreSQL, otherwise in a database of its own on the local server, dropped afterwards.
 */

const online = await localPostgresReachable();

/** Each test races this many requests from each app (12 in all). */
const PER_APP = 6;

const hex = () => randomBytes(4).toString('hex');

/** Runs `run` 2 × PER_APP times at once, alternating between the apps, so the two apps' requests overlap. */
const fromBoth = <T>(a: TestApp, b: TestApp, run: (t: TestApp, i: number) => Promise<T>): Promise<T[]> =>
  Promise.all(Array.from({ length: 2 * PER_APP }, (_, i) => run(i % 2 === 0 ? a : b, i)));

const codeOf = (r: GqlResult) => r.errors?.[0]?.extensions?.code;

/**
 * A new folder, created before the race: the uploads then find it in place, as they would in a library in use. (The
 * first upload into a folder that does not exist yet inserts its row, and PostgreSQL makes the others wait for that
 * insert's transaction, which would serialise the race by accident and hide a missing lock.)
 */
async function existingFolder(t: TestApp, prefix: string): Promise<string> {
  const name = `${prefix}-${hex()}`;
  const made = await t.gql('mutation($name: String!) { createFolder(folderName: $name) { folderPath } }', { name });
  expect(made.errors).toBeUndefined();
  return `/${name}`;
}

describe.skipIf(!online)(`two Stowage instances on one PostgreSQL library${online ? '' : ' (skipped: no PostgreSQL reachable at 127.0.0.1:5432)'}`, () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  let url: string;
  let schema: string;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    const library = await createSharedPostgresLibrary('concurrency');
    ({ url, schema } = library);
    cleanups.push(() => library.drop());
    const storeDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-concurrency-blobs-'));
    cleanups.push(() => fs.rm(storeDir, { recursive: true, force: true }));
    const store = new LocalBlobStore(storeDir);
    const env = { STOWAGE_DATABASE_URL: url, STOWAGE_DATABASE_SCHEMA: schema };
    // Started together: both apply the migrations to the empty schema at once, as two servers starting would.
    [a, b] = await Promise.all([startTestApp(env, { store }), startTestApp(env, { store })]);
    cleanups.push(() => a.close(), () => b.close());
  }, 60_000);

  afterAll(async () => {
    // Last opened first: the queues' pools and the apps, then the blob store, then the schema or database.
    for (const cleanup of cleanups.reverse()) await cleanup().catch((e: unknown) => console.error(e));
  }, 60_000);

  it('the two apps really share one library (same database and schema, each its own data directory)', async () => {
    expect(a.config.database).toEqual({ kind: 'postgres', url, schema });
    expect(b.config.database).toEqual({ kind: 'postgres', url, schema });
    expect(a.dataDir).not.toBe(b.dataDir);
    const folder = `/shared-${hex()}`;
    const made = await a.upload(UPLOAD_MUTATION, { file: null, fileName: 'seen.bin', folder, useUniqueFileName: false }, { path: 'variables.file', data: randomBytesOf(100), filename: 'seen.bin' });
    expect(made.errors).toBeUndefined();
    const seen = await b.gql('query($id: ID!) { file(fileId: $id) { filePath size } }', { id: made.data?.uploadFile.fileId });
    expect(seen.data?.file).toEqual({ filePath: `${folder}/seen.bin`, size: 100 });
  });

  it('concurrent overwrites of one path from both apps: every upload succeeds and makes its own version, numbered 1..12, the highest current', async () => {
    const folder = await existingFolder(a, 'race');
    const bodies = Array.from({ length: 2 * PER_APP }, (_, i) => randomBytesOf(2000 + i));
    const results = await fromBoth(a, b, (t, i) =>
      t.upload(UPLOAD_MUTATION, { file: null, fileName: 'busy.bin', folder, useUniqueFileName: false }, { path: 'variables.file', data: bodies[i]!, filename: 'busy.bin' }),
    );

    for (const r of results) expect({ status: r.status, errors: r.errors }).toEqual({ status: 200, errors: undefined });
    const uploaded = results.map((r) => r.data?.uploadFile as { fileId: string; versionInfo: { id: string; name: string }; size: number });
    const fileIds = new Set(uploaded.map((u) => u.fileId));
    expect(fileIds.size, 'every upload went to the same file').toBe(1);
    const [fileId] = fileIds;

    // Read back through both apps: they must agree (their URLs differ only by each app's endpoint, so are left out).
    type Version = { versionInfo: { id: string; name: string }; isCurrentVersion: boolean; size: number };
    const query = 'query($id: ID!) { fileVersions(fileId: $id) { versionInfo { id name } isCurrentVersion size } }';
    const [fromA, fromB] = await Promise.all([a.gql<{ fileVersions: Version[] }>(query, { id: fileId }), b.gql<{ fileVersions: Version[] }>(query, { id: fileId })]);
    expect(fromA.errors).toBeUndefined();
    expect(fromB.data?.fileVersions).toEqual(fromA.data?.fileVersions);
    const versions = fromA.data!.fileVersions;

    // Exactly 12 versions, numbered 1..12 (oldest first): none lost, none numbered twice, no gap.
    expect(versions.map((v) => v.versionInfo.name)).toEqual(Array.from({ length: 2 * PER_APP }, (_, i) => `Version ${i + 1}`));
    // Each is one of the uploads, and every upload is one of them (with the bytes it sent).
    expect(versions.map((v) => v.versionInfo.id).sort()).toEqual(uploaded.map((u) => u.versionInfo.id).sort());
    for (const u of uploaded) expect(versions.find((v) => v.versionInfo.id === u.versionInfo.id)?.versionInfo.name).toBe(u.versionInfo.name);
    expect(versions.map((v) => v.size).sort()).toEqual(bodies.map((body) => body.length).sort());

    // The current version is the highest-numbered one, and only it.
    expect(versions.map((v) => v.isCurrentVersion)).toEqual(versions.map((_, i) => i === versions.length - 1));
    const newest = versions.at(-1)!;
    let fileUrl = '';
    for (const t of [a, b]) {
      const current = await t.gql('query($id: ID!) { file(fileId: $id) { versionInfo { id name } size url } }', { id: fileId });
      expect(current.data?.file).toMatchObject({ versionInfo: newest.versionInfo, size: newest.size });
      fileUrl = current.data?.file.url;
    }
    // The file's URL serves the bytes of the upload that made the current version.
    expect(fileUrl).toBe(`${b.url}${folder}/busy.bin`);
    const served = await fetch(fileUrl);
    expect(served.status).toBe(200);
    const sent = bodies[uploaded.findIndex((u) => u.versionInfo.id === newest.versionInfo.id)]!;
    expect(Buffer.from(await served.arrayBuffer()).equals(sent)).toBe(true);

    // One file at that path.
    const listed = await b.gql('query($path: String) { files(path: $path) { totalCount nodes { ... on File { fileId name } } } }', { path: folder });
    expect(listed.data?.files).toEqual({ totalCount: 1, nodes: [{ fileId, name: 'busy.bin' }] });
  });

  it('concurrent uploads of one new path with overwriteFile=false from both apps: exactly one succeeds, the others get FILE_ALREADY_EXISTS', async () => {
    const folder = await existingFolder(b, 'claim');
    const bodies = Array.from({ length: 2 * PER_APP }, (_, i) => randomBytesOf(1000 + i));
    const results = await fromBoth(a, b, (t, i) =>
      t.upload(UPLOAD_MUTATION, { file: null, fileName: 'once.bin', folder, useUniqueFileName: false, overwriteFile: false }, { path: 'variables.file', data: bodies[i]!, filename: 'once.bin' }),
    );

    const winners = results.flatMap((r, i) => (r.errors === undefined && r.data?.uploadFile ? [i] : []));
    expect(winners, 'exactly one upload succeeds').toHaveLength(1);
    const winner = winners[0]!;
    const losers = results.filter((_, i) => i !== winner);
    expect(losers.map(codeOf)).toEqual(losers.map(() => 'FILE_ALREADY_EXISTS'));

    // Exactly one file, with one version: the winner's, with its bytes.
    const { fileId, versionInfo } = results[winner]!.data!.uploadFile as { fileId: string; versionInfo: { id: string; name: string } };
    expect(versionInfo.name).toBe('Version 1');
    for (const t of [a, b]) {
      const listed = await t.gql('query($path: String) { files(path: $path) { totalCount nodes { ... on File { fileId name size } } } }', { path: folder });
      expect(listed.data?.files).toEqual({ totalCount: 1, nodes: [{ fileId, name: 'once.bin', size: bodies[winner]!.length }] });
      const versions = await t.gql('query($id: ID!) { fileVersions(fileId: $id) { versionInfo { id name } } }', { id: fileId });
      expect(versions.data?.fileVersions).toEqual([{ versionInfo }]);
    }
    const served = await fetch(`${b.url}${folder}/once.bin`);
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer()).equals(bodies[winner]!)).toBe(true);
  });

  it('creating custom metadata fields with one label concurrently from both apps: exactly one succeeds', async () => {
    const label = `Race ${hex()}`;
    const names = Array.from({ length: 2 * PER_APP }, (_, i) => `race_${hex()}_${i}`);
    const CREATE = 'mutation($name: String!, $label: String!, $schema: CustomMetadataFieldSchemaInput!) { createCustomMetadataField(name: $name, label: $label, schema: $schema) { id name label } }';
    const results = await fromBoth(a, b, (t, i) => t.gql(CREATE, { name: names[i], label, schema: { type: 'Text' } }));

    const winners = results.filter((r) => r.errors === undefined);
    expect(winners, 'exactly one field is created').toHaveLength(1);
    const losers = results.filter((r) => r.errors !== undefined);
    expect(losers.map((r) => r.errors?.[0]?.message)).toEqual(losers.map(() => 'A custom metadata field with this label already exists.'));
    const created = winners[0]!.data?.createCustomMetadataField;
    for (const t of [a, b]) {
      const listed = await t.gql<{ customMetadataFields: { id: string; name: string; label: string }[] }>('{ customMetadataFields(includeDeleted: true) { id name label } }');
      expect(listed.data?.customMetadataFields.filter((f) => f.label === label)).toEqual([created]);
    }
  });

  describe('the job queue on one PostgreSQL library is shared', () => {
    let queues: [DatabaseJobQueue, DatabaseJobQueue];

    beforeAll(async () => {
      // Two processes' queues: each on a pool of its own, on the apps' schema.
      const opened = await Promise.all([openPostgres(url, { schema }), openPostgres(url, { schema })]);
      for (const { close } of opened) cleanups.push(close);
      queues = [new DatabaseJobQueue(createPostgresTransactor(opened[0].db, schema)), new DatabaseJobQueue(createPostgresTransactor(opened[1].db, schema))];
    });

    const jobsOf = (kind: string) => appDatabaseRows<{ id: string; status: string; attempts: number }>(a, `SELECT id, status, attempts FROM jobs WHERE kind = '${kind}' ORDER BY id`);

    it('claiming concurrently from both until the queue is empty hands out each job exactly once', async () => {
      const kind = `race-claim-${hex()}`;
      const n = 40;
      const enqueued = await Promise.all(Array.from({ length: n }, (_, i) => queues[i % 2]!.enqueue(kind, { n: i })));
      expect(new Set(enqueued).size).toBe(n);

      // Four workers per queue, each claiming until nothing is due.
      const claimed: { id: string; by: number; payload: unknown }[] = [];
      const worker = async (by: number) => {
        for (let job = await queues[by]!.claim(kind, 60_000); job; job = await queues[by]!.claim(kind, 60_000)) claimed.push({ id: job.id, by, payload: job.payload });
      };
      await Promise.all([0, 1, 0, 1, 0, 1, 0, 1].map(worker));

      expect(claimed.map((c) => c.id).sort(), 'each job claimed exactly once').toEqual([...enqueued].sort());
      expect(claimed.map((c) => (c.payload as { n: number }).n).sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
      // Both processes took part (the queue is one, not one per process).
      expect(new Set(claimed.map((c) => c.by))).toEqual(new Set([0, 1]));
      const rows = await jobsOf(kind);
      expect(rows).toHaveLength(n);
      for (const row of rows) expect(row).toMatchObject({ status: 'running', attempts: 1 });
    });

    it('enqueueUnlessPending called concurrently from both leaves exactly one pending job of the kind', async () => {
      for (let round = 0; round < 3; round++) {
        const kind = `race-once-${hex()}`;
        const ids = await Promise.all(Array.from({ length: 2 * PER_APP }, (_, i) => queues[i % 2]!.enqueueUnlessPending(kind, { round })));
        const made = ids.filter((id) => id !== undefined);
        expect(made, 'exactly one call enqueues').toHaveLength(1);
        expect((await jobsOf(kind)).map((row) => [row.id, row.status])).toEqual([[made[0], 'pending']]);
      }
    });
  });
});
