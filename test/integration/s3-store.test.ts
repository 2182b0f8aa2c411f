import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { CreateMultipartUploadCommand, ListObjectsV2Command, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobTooLargeError } from '../../src/storage/blob-store.js';
import { S3BlobStore } from '../../src/storage/s3-blob-store.js';
import { makeJpeg, randomBytesOf } from '../helpers/fixtures.js';
import { seededBytes } from '../helpers/images.js';
import { startOriginServer } from '../helpers/origin-server.js';
import { eventually } from '../helpers/processes.js';
import { multipartEnvelope, openMultipartRequest } from '../helpers/raw-multipart.js';
import { type S3Server, startS3Server } from '../helpers/s3-server.js';
import { killStartedMains, startMain } from '../helpers/spawn-main.js';
import { freePort, startTestApp, TEST_KEY, type TestApp, UPLOAD_MUTATION } from '../helpers/test-app.js';

const MiB = 1024 * 1024;
/** S3's smallest part: the store tests use it so multipart uploads start after a few MiB. */
const PART = 5 * MiB;

let s3: S3Server;
beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  await killStartedMains();
  await s3?.stop();
});

/** Every key in the bucket that starts with `prefix`, as S3 itself lists them. */
async function bucketKeys(prefix: string): Promise<string[]> {
  const out = await s3.client().send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key as string).sort();
}

let stores = 0;
/** A store with a key prefix of its own in the test bucket. */
function newStore(): { store: S3BlobStore; prefix: string } {
  const prefix = `store-${++stores}`;
  return { store: new S3BlobStore({ client: s3.client(), bucket: s3.bucket, prefix, partSize: PART }), prefix };
}

/** `data` in 64 KiB chunks, as a network body arrives. */
function chunked(data: Buffer): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += 64 * 1024) yield data.subarray(i, i + 64 * 1024);
    })(),
  );
}

describe('S3 blob store', () => {
  it('streams a body larger than a part as a multipart upload under its prefix, and reads ranges across parts', async () => {
    const { store, prefix } = newStore();
    const data = seededBytes(12 * MiB + 123);
    expect(await store.put('files/big', chunked(data))).toEqual({ size: data.length });
    expect(await bucketKeys(`${prefix}/`)).toEqual([`${prefix}/files/big`]);
    expect(Buffer.compare(await buffer(await store.get('files/big')), data)).toBe(0);
    const across = { start: PART - 10, end: PART + 9 };
    expect(Buffer.compare(await buffer(await store.get('files/big', across)), data.subarray(PART - 10, PART + 10))).toBe(0);
    expect((await store.stat('files/big'))?.size).toBe(data.length);
    expect(await s3.incompleteUploads(`${prefix}/`)).toEqual([]);
  });

  it('aborts its multipart upload when the body fails midway, keeping the previous object', async () => {
    const { store, prefix } = newStore();
    await store.put('files/k', Readable.from([Buffer.from('previous')]));
    const body = new PassThrough();
    const writing = store.put('files/k', body);
    body.write(seededBytes(2 * PART + 1000));
    // The upload is open on the server (its first parts are on their way) before the client goes away.
    expect(await eventually(async () => (await s3.incompleteUploads(`${prefix}/`)).length === 1, 10_000)).toBe(true);
    body.destroy(new Error('client went away'));
    await expect(writing).rejects.toThrow('client went away');
    expect(await s3.incompleteUploads(`${prefix}/`)).toEqual([]);
    expect((await buffer(await store.get('files/k'))).toString()).toBe('previous');
  });

  it('stops at maxBytes past the first parts and leaves nothing', async () => {
    const { store, prefix } = newStore();
    await expect(store.put('files/too-big', chunked(seededBytes(3 * PART)), { maxBytes: 2 * PART + 1 })).rejects.toBeInstanceOf(BlobTooLargeError);
    expect(await store.stat('files/too-big')).toBeNull();
    expect(await s3.incompleteUploads(`${prefix}/`)).toEqual([]);
    expect(await bucketKeys(`${prefix}/`)).toEqual([]);
  });

  it('sweeps uploads a crash left behind, but not one still receiving parts nor another prefix', async () => {
    const { store, prefix } = newStore();
    const client = s3.client();
    const start = async (Key: string) => (await client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key }))).UploadId as string;
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000);

    const crashed = await start(`${prefix}/files/crashed`);
    await s3.backdateUpload(crashed, hoursAgo(2));
    const slow = await start(`${prefix}/files/slow`);
    await s3.backdateUpload(slow, hoursAgo(2));
    await client.send(new UploadPartCommand({ Bucket: s3.bucket, Key: `${prefix}/files/slow`, UploadId: slow, PartNumber: 1, Body: Buffer.alloc(1000) }));
    const fresh = await start(`${prefix}/files/fresh`);
    const elsewhere = await start('another-prefix/files/crashed');
    await s3.backdateUpload(elsewhere, hoursAgo(2));

    expect(await store.sweepIncomplete(hoursAgo(1))).toBe(1);
    const left = (await s3.incompleteUploads()).map((u) => u.uploadId).sort();
    expect(left).toEqual([slow, fresh, elsewhere].sort());
    expect(await store.sweepIncomplete(new Date(Date.now() + 60_000))).toBe(2);
    expect((await s3.incompleteUploads()).map((u) => u.uploadId)).toEqual([elsewhere]);
  });

  it('lists past one page of results, without its prefix', async () => {
    // Pages of 3 keys instead of S3's 1,000, so a few objects span several pages.
    const client = s3.client();
    client.middlewareStack.add(
      (next) => async (args) => {
        if ((args.input as { Prefix?: string }).Prefix !== undefined) (args.input as { MaxKeys?: number }).MaxKeys = 3;
        return next(args);
      },
      { step: 'initialize' },
    );
    const prefix = `store-${++stores}`;
    const store = new S3BlobStore({ client, bucket: s3.bucket, prefix });
    const keys = Array.from({ length: 8 }, (_, i) => `files/${i}`);
    for (const key of [...keys, 'thumbnails/0.webp']) await store.put(key, Readable.from([Buffer.from('x')]));
    await store.put('files/x', Readable.from([Buffer.from('x')]));
    await s3.client().send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${prefix}-not-mine/files/y`, Body: 'y' }));
    const listed: string[] = [];
    for await (const blob of store.list('files/')) listed.push(blob.key);
    expect(listed.sort()).toEqual([...keys, 'files/x']);
  });
});

describe('a Stowage app on S3', () => {
  let t: TestApp;
  let origin: Awaited<ReturnType<typeof startOriginServer>>;
  let jpeg: Buffer;

  beforeAll(async () => {
    jpeg = await makeJpeg(320, 200);
    origin = await startOriginServer({ '/photo.jpg': (_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(jpeg) });
    t = await startTestApp({ ...s3.env('app'), STOWAGE_URL_ALLOWLIST: '127.0.0.1/32' });
  });
  afterAll(async () => {
    await t?.close();
    await origin?.close();
  });

  it('keeps uploads, derivatives and deletions in the bucket, and no file bytes in the data directory', async () => {
    const data = randomBytesOf(300_000);
    const multipart = await t.upload(UPLOAD_MUTATION, { file: null, fileName: 'blob.bin' }, { path: 'variables.file', data, filename: 'blob.bin' });
    expect(multipart.errors).toBeUndefined();
    const blob = multipart.data?.uploadFile;
    expect(blob.size).toBe(data.length);

    const byUrl = await t.gql(UPLOAD_MUTATION, { file: `${origin.url}/photo.jpg`, fileName: 'photo.jpg' });
    expect(byUrl.errors).toBeUndefined();
    const photo = byUrl.data?.uploadFile;
    expect(photo).toMatchObject({ width: 320, height: 200, size: jpeg.length });
    expect(await bucketKeys(`app/files/${blob.versionInfo.id}`)).toEqual([`app/files/${blob.versionInfo.id}`]);

    const part = await fetch(blob.url, { headers: { range: 'bytes=1000-1999' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 1000-1999/${data.length}`);
    expect(Buffer.compare(Buffer.from(await part.arrayBuffer()), data.subarray(1000, 2000))).toBe(0);

    const resized = await fetch(photo.url.replace(t.url, `${t.url}/tr:w-100`));
    expect(resized.status).toBe(200);
    expect((await sharp(Buffer.from(await resized.arrayBuffer())).metadata()).width).toBe(100);
    expect(await bucketKeys(`app/derived/${photo.versionInfo.id}/`)).toHaveLength(1);

    for (const file of [blob, photo]) expect((await t.gql('mutation($id: ID!) { deleteFile(fileId: $id) }', { id: file.fileId })).data?.deleteFile).toBe(file.fileId);
    expect(await bucketKeys(`app/files/`)).toEqual([]);
    expect(await bucketKeys(`app/derived/`)).toEqual([]);
    expect((await fetch(blob.url)).status).toBe(404);

    // Only the generated secrets and, on SQLite, the database: the bytes never touched the data directory.
    const entries = (await fs.readdir(t.dataDir)).filter((name) => !/^stowage\.db(-wal|-shm)?$/.test(name));
    expect(entries.sort()).toEqual(['public-key', 'webhook-secret']);
  });
});

/** A field of /proc/<pid>/status in bytes (VmRSS, VmHWM). */
async function procBytes(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
  if (!kb) throw new Error(`No ${field} in /proc/${pid}/status`);
  return Number(kb) * 1024;
}

/** Sends `total` bytes as one GraphQL multipart upload, generated as they go, honouring backpressure. */
async function streamUpload(url: string, fileName: string, total: number): Promise<{ status: number; body: string }> {
  const { head, tail } = multipartEnvelope(UPLOAD_MUTATION, { file: null, fileName }, fileName);
  const { req, response } = openMultipartRequest(url);
  const chunk = seededBytes(MiB, 7);
  req.write(head);
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (!req.write(chunk.subarray(0, Math.min(chunk.length, total - sent)))) await new Promise((r) => req.once('drain', r));
  }
  req.end(tail);
  return response;
}

describe('memory while streaming into S3', () => {
  it('grows the server by well under 128 MB for a 250 MiB upload', { timeout: 120_000 }, async () => {
    const size = 250 * MiB;
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-s3-memory-'));
    const port = await freePort();
    const server = await startMain({
      ...s3.env('memory'),
      STOWAGE_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      STOWAGE_PRIVATE_KEY: TEST_KEY,
      STOWAGE_MAX_FILE_SIZE: String(size),
    });
    const url = `http://127.0.0.1:${port}`;
    const pid = server.child.pid as number;
    try {
      // A first multipart upload loads everything the big one uses; the peak is measured from after it.
      const warm = await streamUpload(url, 'warm.bin', 12 * MiB);
      expect(JSON.parse(warm.body).data.uploadFile.size).toBe(12 * MiB);
      // Writing 5 to clear_refs resets the peak (VmHWM) to the current RSS (Linux 4.0+).
      await fs.writeFile(`/proc/${pid}/clear_refs`, '5');
      const before = await procBytes(pid, 'VmRSS');

      const res = await streamUpload(url, 'big.bin', size);
      const { data, errors } = JSON.parse(res.body);
      expect(errors).toBeUndefined();
      const file = data.uploadFile;
      expect(file.size).toBe(size);
      const growth = (await procBytes(pid, 'VmHWM')) - before;
      console.info(`S3 upload of ${size / MiB} MiB: server RSS grew by ${(growth / 1e6).toFixed(1)} MB (from ${(before / 1e6).toFixed(1)} MB)`);
      expect(growth).toBeLessThan(128e6);

      const stored = await s3.client().send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `memory/files/${file.versionInfo.id}` }));
      expect(stored.Contents?.[0]?.Size).toBe(size);
      expect(await s3.incompleteUploads('memory/')).toEqual([]);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
