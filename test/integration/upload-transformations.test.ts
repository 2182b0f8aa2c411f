import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpegPaths } from '../../src/analysis/binaries.js';
import { makeJpeg } from '../helpers/fixtures.js';
import { makeGif, makeMp4, probe } from '../helpers/media-files.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';

const { ffmpeg, ffprobe } = resolveFfmpegPaths({});
let t: TestApp;
let dir: string;
let account: Awaited<ReturnType<typeof startWebhookReceiver>>;
let mp4: Buffer;
let gif: Buffer;

const MUTATION = `mutation($file: Upload!, $fileName: String!, $transformation: UploadTransformationInput) {
  uploadFile(file: $file, fileName: $fileName, transformation: $transformation) { fileId name filePath url mime width height size }
}`;

const upload = (data: Buffer, fileName: string, transformation: unknown) =>
  t.upload(MUTATION, { file: null, fileName, transformation }, { path: 'variables.file', data, filename: fileName });

const hooksOf = (type: string, fileId?: string) => account.received.filter((h) => h.json.type === type && (!fileId || h.json.data.fileId === fileId));

const fileCount = async () => (await t.gql('{ files(first: 100) { edges { node { fileId } } } }')).data?.files.edges.length as number;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-uptr-'));
  await makeMp4(ffmpeg, path.join(dir, 'clip.mp4'));
  await makeGif(ffmpeg, path.join(dir, 'anim.gif'));
  mp4 = await fs.readFile(path.join(dir, 'clip.mp4'));
  gif = await fs.readFile(path.join(dir, 'anim.gif'));
  account = await startWebhookReceiver();
  t = await startTestApp({ STOWAGE_WEBHOOK_URLS: account.url, STOWAGE_URL_ALLOWLIST: '127.0.0.1/32', STOWAGE_WEBHOOK_RETRY_BASE_MS: '50' });
}, 60_000);
afterAll(async () => {
  await t.close();
  await account.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('pre-transformation', () => {
  it('transforms an image before storing it: the stored file is the result', async () => {
    const res = await upload(await makeJpeg(400, 300), 'pre.jpg', { pre: 'w-200,f-webp' });
    expect(res.errors).toBeUndefined();
    const file = res.data?.uploadFile;
    expect(file).toMatchObject({ width: 200, height: 150, mime: 'image/webp', name: expect.stringMatching(/^pre_.*\.jpg$/) });
    const served = Buffer.from(await (await fetch(file.url)).arrayBuffer());
    expect(served.length).toBe(file.size);
    expect(await sharp(served).metadata()).toMatchObject({ format: 'webp', width: 200 });
  });

  it.each([
    [{ pre: 'w-abc' }, /transformation field is invalid.*pre.*"abc" is not a number/],
    [{ pre: 'so-1' }, /pre-transformation failed.*so.*video parameter/],
    [{ pre: '' }, /must contain pre, post or both/],
    [{ post: [{ type: 'TRANSFORMATION' }] }, /post\[0\].*needs a value/],
    [{ post: [{ type: 'ABS', value: 'sr-240' }] }, /post\[0\].*protocol "hls" or "dash"/],
    [{ post: [{ type: 'ABS', value: 'w-100', protocol: 'HLS' }] }, /renditions only/],
    [{ post: [{ type: 'THUMBNAIL' }] }, /detected file type & post-transformation are incompatible.*thumbnail/],
    [{ post: [{ type: 'GIF_TO_VIDEO' }] }, /incompatible.*gif-to-video/],
  ])('refuses %j on an image, naming the transformation parameter, and stores nothing', async (transformation, message) => {
    const before = await fileCount();
    const res = await upload(await makeJpeg(40, 30), 'bad.jpg', transformation);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', parameter: 'transformation' });
    expect(res.errors?.[0]?.message).toMatch(message);
    expect(await fileCount()).toBe(before);
  });

  it('refuses transformations on files that are neither image nor video', async () => {
    const res = await upload(Buffer.from('plain text'), 'notes.txt', { post: [{ type: 'TRANSFORMATION', value: 'w-10' }] });
    expect(res.errors?.[0]?.message).toMatch(/supported only for image and video files/);
  });

  it('transforms a video as a job: the result becomes the current version and upload.pre-transform.success reports it', async () => {
    const res = await upload(mp4, 'pre.mp4', { pre: 'w-160,du-1' });
    const file = res.data?.uploadFile;
    expect(file).toMatchObject({ width: 320, height: 240 });
    const xRequestId = res.headers.get('x-request-id');
    await expect.poll(() => hooksOf('upload.pre-transform.success', file.fileId).length, { timeout: 20_000 }).toBe(1);
    const hook = hooksOf('upload.pre-transform.success', file.fileId)[0]?.json;
    expect(hook?.request).toEqual({ x_request_id: xRequestId, transformation: 'w-160,du-1' });
    expect(hook?.data).toMatchObject({ fileId: file.fileId, width: 160, height: 120, filePath: file.filePath });
    const served = path.join(dir, 'pre-served.mp4');
    await fs.writeFile(served, Buffer.from(await (await fetch(file.url)).arrayBuffer()));
    const info = await probe(ffprobe, served);
    expect(info.streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: 160, height: 120 });
    expect(Number(info.format.duration)).toBeCloseTo(1, 0);
    const versions = await t.gql('query($id: ID!) { fileVersions(fileId: $id) { versionInfo { id } } }', { id: file.fileId });
    expect(versions.data?.fileVersions).toHaveLength(2);
  });

  it('never puts a pre-transformed video over a newer upload of the same path', async () => {
    const MUT = `mutation($file: Upload!, $transformation: UploadTransformationInput) {
      uploadFile(file: $file, fileName: "race.mp4", useUniqueFileName: false, transformation: $transformation) { fileId versionInfo { id } }
    }`;
    const send = (transformation: unknown) => t.upload(MUT, { file: null, transformation }, { path: 'variables.file', data: mp4, filename: 'race.mp4' });
    // AV1 is slow to encode: the newer upload commits long before the pre-transformation is ready.
    const first = (await send({ pre: 'vc-av1,w-160,du-1' })).data?.uploadFile;
    const second = (await send(null)).data?.uploadFile;
    expect(second.fileId).toBe(first.fileId);
    const rendered = path.join(t.dataDir, 'blobs', 'derived', first.versionInfo.id);
    await expect.poll(async () => (await fs.readdir(rendered).catch(() => [])).some((n) => n.endsWith('.mp4')), { timeout: 60_000, interval: 100 }).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    const versions = await t.gql('query($id: ID!) { fileVersions(fileId: $id) { versionInfo { id } } file(fileId: $id) { versionInfo { id } } }', { id: first.fileId });
    expect(versions.data?.fileVersions).toHaveLength(2);
    expect(versions.data?.file.versionInfo.id).toBe(second.versionInfo.id);
    expect(hooksOf('upload.pre-transform.success', first.fileId)).toHaveLength(0);
  }, 90_000);

  it('reports a video pre-transformation that cannot be made with upload.pre-transform.error, keeping the upload', async () => {
    const res = await upload(mp4, 'prefail.mp4', { pre: 'so-30', post: [{ type: 'THUMBNAIL' }] });
    const file = res.data?.uploadFile;
    await expect.poll(() => account.received.filter((h) => h.json.type === 'upload.pre-transform.error' && h.json.data.path === file.filePath).length, { timeout: 20_000 }).toBe(1);
    const hook = account.received.find((h) => h.json.type === 'upload.pre-transform.error' && h.json.data.path === file.filePath)?.json;
    expect(hook?.data).toEqual({ name: file.name, path: file.filePath, transformation: { error: { reason: 'encoding_failed' } } });
    expect(hook?.request.transformation).toBe('so-30');
    expect((await fetch(file.url)).status).toBe(200);
  });
});

describe('post-transformations', () => {
  it('renders an image post-transformation as a job and reports its URL with upload.post-transform.success', async () => {
    const res = await upload(await makeJpeg(400, 300), 'post.jpg', { post: [{ type: 'TRANSFORMATION', value: 'w-100,h-100' }] });
    const file = res.data?.uploadFile;
    await expect.poll(() => hooksOf('upload.post-transform.success', file.fileId).length, { timeout: 20_000 }).toBe(1);
    const hook = hooksOf('upload.post-transform.success', file.fileId)[0]?.json;
    expect(hook?.data).toEqual({ fileId: file.fileId, name: file.name, url: `${file.url}?tr=w-100,h-100` });
    expect(hook?.request).toEqual({ x_request_id: res.headers.get('x-request-id'), transformation: { type: 'transformation', value: 'w-100,h-100' } });
    const derived = Buffer.from(await (await fetch(hook?.data.url)).arrayBuffer());
    expect(await sharp(derived).metadata()).toMatchObject({ width: 100, height: 100 });
  });

  it('runs video post-transformations (transformation, thumbnail, HLS) each with its own webhook, and their URLs serve them', async () => {
    const res = await upload(mp4, 'post.mp4', {
      post: [
        { type: 'TRANSFORMATION', value: 'w-160' },
        { type: 'THUMBNAIL', value: 'w-80' },
        { type: 'ABS', value: 'sr-240', protocol: 'HLS' },
      ],
    });
    const file = res.data?.uploadFile;
    await expect.poll(() => hooksOf('upload.post-transform.success', file.fileId).length, { timeout: 30_000 }).toBe(3);
    const urls = Object.fromEntries(hooksOf('upload.post-transform.success', file.fileId).map((h) => [h.json.request.transformation.type, h.json.data.url]));
    expect(urls).toEqual({
      transformation: `${file.url}?tr=w-160`,
      thumbnail: `${file.url}/ik-thumbnail.jpg?tr=w-80`,
      abs: `${file.url}/ik-master.m3u8?tr=sr-240`,
    });
    expect(hooksOf('upload.post-transform.success', file.fileId).find((h) => h.json.request.transformation.type === 'abs')?.json.request.transformation).toEqual({
      type: 'abs',
      value: 'sr-240',
      protocol: 'hls',
    });
    const thumb = Buffer.from(await (await fetch(urls.thumbnail)).arrayBuffer());
    expect(await sharp(thumb).metadata()).toMatchObject({ format: 'jpeg', width: 80 });
    const master = await fetch(urls.abs);
    expect(master.status).toBe(200);
    expect(await master.text()).toContain('RESOLUTION=');
  });

  it('turns a GIF into MP4 with gif-to-video', async () => {
    const res = await upload(gif, 'post.gif', { post: [{ type: 'GIF_TO_VIDEO' }] });
    const file = res.data?.uploadFile;
    await expect.poll(() => hooksOf('upload.post-transform.success', file.fileId).length, { timeout: 20_000 }).toBe(1);
    const url = hooksOf('upload.post-transform.success', file.fileId)[0]?.json.data.url;
    expect(url).toBe(`${file.url}/ik-gif-video.mp4`);
    const out = await fetch(url);
    expect(out.headers.get('content-type')).toBe('video/mp4');
  });

  it('reports a post-transformation that cannot be made with upload.post-transform.error', async () => {
    const res = await upload(mp4, 'postfail.mp4', { post: [{ type: 'TRANSFORMATION', value: 'so-30' }] });
    const file = res.data?.uploadFile;
    await expect.poll(() => hooksOf('upload.post-transform.error', file.fileId).length, { timeout: 20_000 }).toBe(1);
    expect(hooksOf('upload.post-transform.error', file.fileId)[0]?.json.data).toEqual({
      fileId: file.fileId,
      name: file.name,
      path: file.filePath,
      url: `${file.url}?tr=so-30`,
      transformation: { error: { reason: 'encoding_failed' } },
    });
  });
});

describe('video render time limits', () => {
  it('bound deliveries by STOWAGE_VIDEO_RENDER_TIMEOUT_MS but let background jobs run to STOWAGE_VIDEO_JOB_TIMEOUT_MS', async () => {
    const hooks = await startWebhookReceiver();
    const quick = await startTestApp({ STOWAGE_VIDEO_RENDER_TIMEOUT_MS: '1', STOWAGE_WEBHOOK_URLS: hooks.url, STOWAGE_URL_ALLOWLIST: '127.0.0.1/32' });
    try {
      const res = await quick.upload(MUTATION, { file: null, fileName: 'slow.mp4', transformation: { pre: 'w-160,du-1' } }, { path: 'variables.file', data: mp4, filename: 'slow.mp4' });
      const file = res.data?.uploadFile;
      await expect.poll(() => hooks.received.filter((h) => h.json.type.startsWith('upload.pre-transform.')).map((h) => h.json.type), { timeout: 20_000 }).toEqual(['upload.pre-transform.success']);
      const delivery = await fetch(`${quick.url}/tr:w-96${file.filePath}`);
      expect(delivery.status).toBe(400);
      expect((await delivery.json()).message).toMatch(/longer than the 1 ms allowed/);
    } finally {
      await quick.close();
      await hooks.close();
    }
  });
});
