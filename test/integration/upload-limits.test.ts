import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpegPaths } from '../../src/analysis/binaries.js';
import { makeJpeg, randomBytesOf } from '../helpers/fixtures.js';
import { makeMp4 } from '../helpers/media-files.js';
import { startOriginServer } from '../helpers/origin-server.js';
import { Scrape } from '../helpers/prometheus.js';
import { basicAuth, startTestApp, type TestApp, UPLOAD_MUTATION } from '../helpers/test-app.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';

const LIMIT = 10_000;
const SIZES = [LIMIT - 1, LIMIT, LIMIT + 1, 50_000];
const bodies = new Map(SIZES.map((size) => [size, randomBytesOf(size)]));

let t: TestApp;
let origin: Awaited<ReturnType<typeof startOriginServer>>;

beforeAll(async () => {
  // Chunked, without a Content-Length: the limit can only be enforced on the bytes as they arrive.
  origin = await startOriginServer(
    Object.fromEntries(SIZES.map((size) => [`/bytes-${size}`, (_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bodies.get(size))])),
  );
  t = await startTestApp({ STOWAGE_MAX_FILE_SIZE: String(LIMIT), STOWAGE_URL_ALLOWLIST: '127.0.0.1/32' });
});
afterAll(async () => {
  await t?.close();
  await origin?.close();
});

async function storedBlobs(app: TestApp): Promise<string[]> {
  const root = path.join(app.dataDir, 'blobs');
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name))).sort();
}

const fileCount = async (app: TestApp) => (await app.gql('{ files { totalCount } }')).data?.files.totalCount as number;

const SOURCES = {
  multipart: (size: number, fileName: string) =>
    t.upload(UPLOAD_MUTATION, { file: null, fileName }, { path: 'variables.file', data: bodies.get(size) as Buffer, filename: fileName }),
  base64: (size: number, fileName: string) => t.gql(UPLOAD_MUTATION, { file: (bodies.get(size) as Buffer).toString('base64'), fileName }),
  url: (size: number, fileName: string) => t.gql(UPLOAD_MUTATION, { file: `${origin.url}/bytes-${size}`, fileName }),
};

describe('STOWAGE_MAX_FILE_SIZE counts every byte', () => {
  for (const [source, send] of Object.entries(SOURCES)) {
    it.each(SIZES)(`${source}: a file of %i bytes is accepted only within the ${LIMIT}-byte limit`, async (size) => {
      const rowsBefore = await fileCount(t);
      const blobsBefore = await storedBlobs(t);
      const res = await send(size, `${source}-${size}.bin`);
      if (size <= LIMIT) {
        expect(res.errors).toBeUndefined();
        expect(res.data?.uploadFile).toMatchObject({ size });
        expect(await fileCount(t)).toBe(rowsBefore + 1);
        return;
      }
      expect(res.errors?.[0]).toMatchObject({
        message: `Your request contains invalid file parameter. The file size exceeds ${LIMIT} bytes limit.`,
        extensions: { code: 'FILE_TOO_LARGE', parameter: 'file', details: { limitBytes: LIMIT } },
      });
      expect(await fileCount(t)).toBe(rowsBefore);
      expect(await storedBlobs(t)).toEqual(blobsBefore);
    });
  }
});

const PRE_MUTATION = `mutation Pre($file: Upload!, $fileName: String!, $pre: String!) {
  uploadFile(file: $file, fileName: $fileName, transformation: { pre: $pre }) { size width height mime }
}`;

/** Noise compresses badly, so enlarging it makes a PNG far larger than the upload. */
const noiseJpeg = (side: number) =>
  sharp(randomBytesOf(side * side * 3), { raw: { width: side, height: side, channels: 3 } })
    .jpeg({ quality: 50 })
    .toBuffer();

describe('pre-transformation at upload', () => {
  it('refuses a result over the file size limit, storing nothing', async () => {
    const jpeg = await noiseJpeg(40);
    expect(jpeg.length).toBeLessThan(LIMIT);
    const rowsBefore = await fileCount(t);
    const blobsBefore = await storedBlobs(t);
    const res = await t.upload(PRE_MUTATION, { file: null, fileName: 'enlarged.jpg', pre: 'w-800,h-800,c-force,f-png' }, { path: 'variables.file', data: jpeg, filename: 'enlarged.jpg' });
    expect(res.errors?.[0]).toMatchObject({
      message: `Your request contains invalid file parameter. The file size exceeds ${LIMIT} bytes limit.`,
      extensions: { code: 'FILE_TOO_LARGE', parameter: 'file', details: { limitBytes: LIMIT } },
    });
    expect(await fileCount(t)).toBe(rowsBefore);
    expect(await storedBlobs(t)).toEqual(blobsBefore);
  });

  it('stores a result within the limit', async () => {
    const res = await t.upload(PRE_MUTATION, { file: null, fileName: 'small.jpg', pre: 'w-30,h-20,c-force,f-png' }, { path: 'variables.file', data: await noiseJpeg(40), filename: 'small.jpg' });
    expect(res.errors).toBeUndefined();
    expect(res.data?.uploadFile).toMatchObject({ width: 30, height: 20, mime: 'image/png' });
  });

  it('refuses an output over STOWAGE_MAX_IMAGE_PIXELS before rendering it', async () => {
    const app = await startTestApp({ STOWAGE_MAX_IMAGE_PIXELS: '1000000' });
    try {
      const res = await app.upload(PRE_MUTATION, { file: null, fileName: 'huge.jpg', pre: 'w-2000,h-2000,c-force,f-png' }, { path: 'variables.file', data: await makeJpeg(64, 64), filename: 'huge.jpg' });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', parameter: 'transformation' });
      expect(res.errors?.[0]?.message).toContain('1000000');
      expect(await fileCount(app)).toBe(0);
      expect(await storedBlobs(app)).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('waits for the image render slots that deliveries use', async () => {
    // One slot and one waiting place: while a delivery render runs and another waits, a pre-transformation is turned away.
    const app = await startTestApp({ STOWAGE_ANALYSIS_CONCURRENCY: '1', STOWAGE_TRANSFORM_QUEUE: '1' });
    try {
      const big = await sharp({ create: { width: 3000, height: 3000, channels: 3, background: '#446688' } }).png().toBuffer();
      const stored = await app.upload(UPLOAD_MUTATION, { file: null, fileName: 'big.png' }, { path: 'variables.file', data: big, filename: 'big.png' });
      const url = stored.data?.uploadFile.url as string;
      // Requests on separate connections can reach the queue in any order (on PostgreSQL each one awaits its lookups
      // first), so each render is sent only once the one before it holds its place, as /metrics shows.
      const imageQueue = async () => {
        const scrape = Scrape.parse(await (await fetch(`${app.url}/metrics`, { headers: { authorization: basicAuth() } })).text());
        return { running: scrape.value('stowage_render_queue_depth', { queue: 'image', state: 'running' }), waiting: scrape.value('stowage_render_queue_depth', { queue: 'image', state: 'waiting' }) };
      };
      const render = (i: number) => fetch(`${url}?tr=w-6000,h-6000,bl-${40 + i},f-png`).then(async (r) => (await r.arrayBuffer(), r.status));
      const renders = [render(1)];
      await expect.poll(imageQueue, { interval: 10, timeout: 10_000 }).toEqual({ running: 1, waiting: 0 });
      renders.push(render(2));
      await expect.poll(imageQueue, { interval: 10, timeout: 10_000 }).toEqual({ running: 1, waiting: 1 });
      // The waiting place is taken: a delivery that needs a render is turned away.
      expect((await fetch(`${url}?tr=w-11,bl-3`)).status).toBe(503);
      const res = await app.upload(PRE_MUTATION, { file: null, fileName: 'pre.jpg', pre: 'w-20,h-20' }, { path: 'variables.file', data: await makeJpeg(64, 64), filename: 'pre.jpg' });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'TOO_MANY_TRANSFORMATIONS', parameter: 'transformation' });
      expect(await Promise.all(renders)).toEqual([200, 200]);
      const later = await app.upload(PRE_MUTATION, { file: null, fileName: 'pre.jpg', pre: 'w-20,h-20' }, { path: 'variables.file', data: await makeJpeg(64, 64), filename: 'pre.jpg' });
      expect(later.data?.uploadFile).toMatchObject({ width: 20, height: 20 });
    } finally {
      await app.close();
    }
  }, 60_000);

  it("refuses a video's pre-transformation whose result is over the video size limit, keeping the upload as it was", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-limits-'));
    const account = await startWebhookReceiver();
    let app: TestApp | undefined;
    try {
      await makeMp4(resolveFfmpegPaths({}).ffmpeg, path.join(dir, 'clip.mp4'), { seconds: 1, size: '160x120' });
      const mp4 = await fs.readFile(path.join(dir, 'clip.mp4'));
      app = await startTestApp({ STOWAGE_MAX_VIDEO_SIZE: String(mp4.length), STOWAGE_WEBHOOK_URLS: account.url, STOWAGE_URL_ALLOWLIST: '127.0.0.1/32' });
      const res = await app.upload(
        'mutation($file: Upload!) { uploadFile(file: $file, fileName: "clip.mp4", transformation: { pre: "w-960,h-720,c-force" }) { fileId size } }',
        { file: null },
        { path: 'variables.file', data: mp4, filename: 'clip.mp4' },
      );
      const fileId = res.data?.uploadFile.fileId;
      expect(res.data?.uploadFile.size).toBe(mp4.length);
      const hooks = () => account.received.filter((h) => h.json.type.startsWith('upload.pre-transform'));
      await expect.poll(() => hooks().length, { timeout: 30_000 }).toBe(1);
      expect(hooks()[0]?.json).toMatchObject({ type: 'upload.pre-transform.error', data: { transformation: { error: { reason: 'encoding_failed' } } } });
      const versions = await app.gql('query($id: ID!) { fileVersions(fileId: $id) { size } }', { id: fileId });
      expect(versions.data?.fileVersions).toEqual([{ size: mp4.length }]);
    } finally {
      await app?.close();
      await account.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('a file part read out of order', () => {
  it('is spilled to disk only up to the largest upload limit, and refused', async () => {
    const limit = 1_000_000;
    const app = await startTestApp({ STOWAGE_MAX_FILE_SIZE: String(limit), STOWAGE_MAX_VIDEO_SIZE: String(limit) });
    const spillDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-spill-'));
    const previousTmp = process.env.TMPDIR;
    process.env.TMPDIR = spillDir; // where graphql-upload-ts spills parts (read per spill)
    let largestSpill = 0;
    const watch = setInterval(async () => {
      for (const name of await fs.readdir(spillDir).catch(() => [])) {
        const size = (await fs.stat(path.join(spillDir, name)).catch(() => undefined))?.size ?? 0;
        largestSpill = Math.max(largestSpill, size);
      }
    }, 10);
    try {
      // The first mutation waits for `a`, but `b` (12 MB) arrives first: it must be set aside while `a` is read.
      const query = 'mutation($a: Upload!, $b: Upload!) { first: uploadFile(file: $a, fileName: "a.bin") { size } second: uploadFile(file: $b, fileName: "b.bin") { size } }';
      const form = new FormData();
      form.set('operations', JSON.stringify({ query, variables: { a: null, b: null } }));
      form.set('map', JSON.stringify({ 0: ['variables.b'], 1: ['variables.a'] }));
      form.set('0', new Blob([new Uint8Array(randomBytesOf(12_000_000))]), 'b.bin');
      form.set('1', new Blob([new Uint8Array(randomBytesOf(1000))]), 'a.bin');
      const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('private_test_key:').toString('base64')}` }, body: form });
      const body = await res.json();
      const stored = await app.gql('{ files(first: 10) { edges { node { ... on File { name size } } } } }');
      expect(stored.data?.files.edges.map((e: { node: { size: number } }) => e.node.size)).toEqual([1000]);
      expect(body.errors?.[0]).toMatchObject({ path: ['second'], extensions: { code: 'FILE_TOO_LARGE' } });
      expect(largestSpill).toBeGreaterThan(0);
      expect(largestSpill).toBeLessThanOrEqual(limit + 1);
    } finally {
      clearInterval(watch);
      process.env.TMPDIR = previousTmp;
      await app.close();
      await fs.rm(spillDir, { recursive: true, force: true });
    }
  });
});
