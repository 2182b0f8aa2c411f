import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createClient as createSseClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytesOf } from '../helpers/fixtures.js';
import { type S3Server, startS3Server } from '../helpers/s3-server.js';
import { killStartedMains, type MainProcess, startMain } from '../helpers/spawn-main.js';
import { basicAuth, freePort, TEST_KEY } from '../helpers/test-app.js';
import { createSharedPostgresLibrary, localPostgresReachable } from '../helpers/test-database.js';

/**
 * Stowage as several instances behind a load balancer would run it: separate processes (`src/main.ts`, as `npm
 * start` runs it) with STOWAGE_MULTI_INSTANCE=true on one PostgreSQL library, one S3 bucket (s3rver) and one Redis
 * (a database number and channel prefix of this file's own), each with a data directory that must stay empty.
 */
const online = await localPostgresReachable();
const REDIS_URL = 'redis://127.0.0.1:6379/12';

interface Instance {
  url: string;
  dataDir: string;
  process: MainProcess;
}

/** A photo of a person at a table (see test/fixtures/README.md): auto-tagging finds "person". */
const PHOTO = new URL('../fixtures/person-at-table.jpg', import.meta.url);

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function gql<T = any>(instance: Instance, query: string, variables?: Record<string, unknown>): Promise<{ data?: T; errors?: { message: string; extensions: Record<string, unknown> }[] }> {
  const response = await fetch(`${instance.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basicAuth() },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as never;
}

const UPLOAD = `mutation($file: Upload!, $fileName: String!, $folder: String, $useUniqueFileName: Boolean, $extensions: [ExtensionInput!]) {
  uploadFile(file: $file, fileName: $fileName, folder: $folder, useUniqueFileName: $useUniqueFileName, extensions: $extensions) { fileId filePath url versionInfo { id name } extensionStatus }
}`;

interface Uploaded {
  fileId: string;
  filePath: string;
  url: string;
  versionInfo: { id: string; name: string };
  extensionStatus: Record<string, string> | null;
}

/** A GraphQL multipart upload, as curl or Apollo's upload link sends it. */
async function upload(instance: Instance, fileName: string, bytes: Uint8Array, variables: Record<string, unknown> = {}): Promise<Uploaded> {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query: UPLOAD, variables: { file: null, fileName, ...variables } }));
  form.set('map', JSON.stringify({ 0: ['variables.file'] }));
  form.set('0', new Blob([bytes as Uint8Array<ArrayBuffer>]), fileName);
  const response = await fetch(`${instance.url}/graphql`, { method: 'POST', headers: { authorization: basicAuth() }, body: form });
  const json = (await response.json()) as { data?: { uploadFile: Uploaded }; errors?: unknown[] };
  if (!json.data?.uploadFile) throw new Error(`upload of ${fileName} failed: ${JSON.stringify(json.errors)}`);
  return json.data.uploadFile;
}

/** A file URL one instance handed out, served by `instance` (the path is the same on every instance). */
const servedBy = (instance: Instance, url: string) => {
  const u = new URL(url);
  return `${instance.url}${u.pathname}${u.search}`;
};

describe.skipIf(!online)(`several Stowage instances on PostgreSQL + S3 + Redis${online ? '' : ' (skipped: no PostgreSQL reachable at 127.0.0.1:5432)'}`, () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  let s3: S3Server;
  let env: Record<string, string>;
  let a: Instance;
  let b: Instance;

  async function startInstance(): Promise<Instance> {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-instance-'));
    cleanups.push(() => fs.rm(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const process = await startMain({ ...env, PORT: String(port), HOST: '127.0.0.1', STOWAGE_URL_ENDPOINT: url, STOWAGE_DATA_DIR: dataDir });
    if (process.child.exitCode !== null) throw new Error(`instance did not start: ${process.stderr()}`);
    return { url, dataDir, process };
  }

  beforeAll(async () => {
    const library = await createSharedPostgresLibrary('instances');
    cleanups.push(() => library.drop());
    s3 = await startS3Server();
    cleanups.push(() => s3.stop());
    env = {
      ...library.env,
      ...s3.env(`run-${randomBytes(4).toString('hex')}`),
      STOWAGE_REDIS_URL: REDIS_URL,
      STOWAGE_REDIS_PREFIX: `stowage-test-${randomBytes(6).toString('hex')}:`,
      STOWAGE_MULTI_INSTANCE: 'true',
      STOWAGE_PRIVATE_KEY: TEST_KEY,
      STOWAGE_WEBHOOK_SECRET: 'whsec_shared_by_every_instance',
      STOWAGE_PUBLIC_KEY: 'public_shared_by_every_instance',
      STOWAGE_URL_ALLOWLIST: '127.0.0.1/32',
      STOWAGE_LOG_LEVEL: 'warn',
    };
    // Started together: both apply the migrations to the empty schema at once, as a rollout would.
    [a, b] = await Promise.all([startInstance(), startInstance()]);
  }, 90_000);

  afterAll(async () => {
    await killStartedMains();
    for (const cleanup of cleanups.reverse()) await cleanup().catch((e: unknown) => console.error(e));
  }, 60_000);

  it('refuses to start as one of several instances on SQLite and the local disk, in one line per missing setting', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-instance-refused-'));
    cleanups.push(() => fs.rm(dataDir, { recursive: true, force: true }));
    const refused = await startMain({ STOWAGE_MULTI_INSTANCE: 'true', STOWAGE_DATA_DIR: dataDir, STOWAGE_DATABASE_URL: '', PORT: String(await freePort()) });
    expect(await refused.exited).toBe(1);
    expect(refused.stderr()).toContain('STOWAGE_MULTI_INSTANCE=true needs STOWAGE_DATABASE_URL');
    expect(refused.stderr()).toContain('STOWAGE_MULTI_INSTANCE=true needs STOWAGE_S3_BUCKET');
    expect(await fs.readdir(dataDir)).toEqual([]);
  });

  it('serves on B what was uploaded on A: metadata, bytes, ranges and transformations', async () => {
    const jpeg = await fs.readFile(PHOTO);
    const up = await upload(a, 'shared.jpg', jpeg, { folder: '/multi', useUniqueFileName: false });
    const seen = await gql(b, 'query($id: ID!) { file(fileId: $id) { filePath size width height } }', { id: up.fileId });
    expect(seen.data?.file).toMatchObject({ filePath: '/multi/shared.jpg', size: jpeg.length });
    const whole = await fetch(servedBy(b, up.url));
    expect(whole.status).toBe(200);
    expect(sha256(new Uint8Array(await whole.arrayBuffer()))).toBe(sha256(jpeg));
    const ranged = await fetch(servedBy(b, up.url), { headers: { range: 'bytes=10-19' } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer())).toEqual(jpeg.subarray(10, 20));
    const resized = await fetch(`${servedBy(b, up.url)}?tr=w-64`);
    expect(resized.status).toBe(200);
    expect(resized.headers.get('content-type')).toMatch(/^image\//);
  });

  it('tells a subscriber on B about an upload made on A', async () => {
    const client = createSseClient({ url: `${b.url}/graphql`, headers: { authorization: basicAuth() }, retryAttempts: 0 });
    const heard: { fileEvents: { type: string; filePath: string } }[] = [];
    const dispose = client.subscribe<{ fileEvents: { type: string; filePath: string } }>(
      { query: 'subscription { fileEvents(path: "/heard") { type filePath } }' },
      { next: (v) => heard.push(v.data as never), error: () => {}, complete: () => {} },
    );
    try {
      // Uploads until B has heard one: B's subscription reaches Redis a moment after the request is accepted.
      await expect
        .poll(async () => {
          if (heard.length === 0) await upload(a, `heard-${randomBytes(3).toString('hex')}.bin`, randomBytesOf(64), { folder: '/heard' });
          return heard.length > 0;
        }, { timeout: 15_000, interval: 200 })
        .toBe(true);
      expect(heard[0]?.fileEvents).toMatchObject({ type: 'file.created' });
      expect(heard[0]?.fileEvents.filePath).toMatch(/^\/heard\/heard-/);
    } finally {
      dispose();
      client.dispose();
    }
  });

  it('makes 20 versions of one path from 20 concurrent overwrites split across A and B', async () => {
    const bodies = Array.from({ length: 20 }, (_, i) => randomBytesOf(256 + i));
    const uploads = await Promise.all(bodies.map((body, i) => upload(i % 2 === 0 ? a : b, 'contended.bin', body, { folder: '/contended', useUniqueFileName: false })));
    const fileId = uploads[0]?.fileId;
    expect(new Set(uploads.map((u) => u.fileId))).toEqual(new Set([fileId]));
    const versions = await gql<{ fileVersions: { versionInfo: { id: string; name: string }; isCurrentVersion: boolean }[] }>(
      b,
      'query($id: ID!) { fileVersions(fileId: $id) { versionInfo { id name } isCurrentVersion } }',
      { id: fileId },
    );
    const list = versions.data?.fileVersions ?? [];
    expect(list.map((v) => v.versionInfo.name)).toEqual(Array.from({ length: 20 }, (_, i) => `Version ${i + 1}`));
    expect(list.map((v) => v.versionInfo.id).sort()).toEqual(uploads.map((u) => u.versionInfo.id).sort());
    expect(list.filter((v) => v.isCurrentVersion).map((v) => v.versionInfo.name)).toEqual(['Version 20']);
  });

  it('completes an extension requested on A (the job is claimed by one instance; both see the result)', async () => {
    const jpeg = await fs.readFile(PHOTO);
    const up = await upload(a, 'tag-me.jpg', jpeg, { folder: '/tagged', extensions: [{ googleAutoTagging: { maxTags: 5, minConfidence: 10 } }] });
    const status = async () =>
      (await gql<{ file: { extensionStatus: Record<string, string> | null; AITags: { name: string }[] | null } }>(b, 'query($id: ID!) { file(fileId: $id) { extensionStatus AITags { name } } }', { id: up.fileId })).data?.file;
    await expect.poll(async () => (await status())?.extensionStatus, { timeout: 60_000, interval: 250 }).toEqual({ 'google-auto-tagging': 'success' });
    expect((await status())?.AITags?.map((t) => t.name.toLowerCase())).toContain('person');
  }, 90_000);

  it('loses no acknowledged upload when A is killed (kill -9) during uploads, and B keeps serving', async () => {
    const victim = await startInstance();
    const acknowledged: { up: Uploaded; sha: string }[] = [];
    let stop = false;
    const uploader = async (worker: number) => {
      for (let i = 0; !stop; i++) {
        const body = randomBytesOf(64 * 1024 + worker * 1000 + i);
        try {
          acknowledged.push({ up: await upload(victim, `w${worker}-${i}.bin`, body, { folder: '/killed' }), sha: sha256(body) });
        } catch {
          return; // the instance is gone: what it did not acknowledge is not the client's
        }
      }
    };
    const workers = [0, 1, 2].map(uploader);
    await expect.poll(() => acknowledged.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(6);
    victim.process.child.kill('SIGKILL');
    await victim.process.exited;
    stop = true;
    await Promise.all(workers);
    for (const { up, sha } of acknowledged) {
      const served = await fetch(servedBy(b, up.url));
      expect(served.status, up.filePath).toBe(200);
      expect(sha256(new Uint8Array(await served.arrayBuffer())), up.filePath).toBe(sha);
    }
    // B still takes uploads.
    expect((await upload(b, 'after-kill.bin', randomBytesOf(100), { folder: '/killed', useUniqueFileName: false })).filePath).toBe('/killed/after-kill.bin');
  }, 90_000);

  it('deletes nothing in flight when a third instance starts during uploads', async () => {
    const acknowledged: { up: Uploaded; sha: string }[] = [];
    let stop = false;
    const uploader = async (worker: number) => {
      for (let i = 0; !stop; i++) {
        const body = randomBytesOf(256 * 1024 + worker * 1000 + i);
        acknowledged.push({ up: await upload(i % 2 === 0 ? a : b, `t${worker}-${i}.bin`, body, { folder: '/third' }), sha: sha256(body) });
      }
    };
    const workers = [0, 1].map(uploader);
    const third = await startInstance();
    const uploadsWhileStarting = acknowledged.length;
    await expect.poll(() => acknowledged.length, { timeout: 30_000 }).toBeGreaterThan(uploadsWhileStarting + 2);
    stop = true;
    await Promise.all(workers);
    for (const { up, sha } of acknowledged) {
      const served = await fetch(servedBy(third, up.url));
      expect(served.status, up.filePath).toBe(200);
      expect(sha256(new Uint8Array(await served.arrayBuffer())), up.filePath).toBe(sha);
    }
  }, 90_000);

  it('keeps no state in any instance’s data directory', async () => {
    for (const instance of [a, b]) expect(await fs.readdir(instance.dataDir), instance.url).toEqual([]);
  });
});
