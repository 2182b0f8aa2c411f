import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytesOf } from '../helpers/fixtures.js';
import { multipartEnvelope, openMultipartRequest } from '../helpers/raw-multipart.js';
import { startTestApp, type TestApp, UPLOAD_MUTATION } from '../helpers/test-app.js';

const MiB = 1024 * 1024;
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ STOWAGE_MAX_FILE_SIZE: String(MiB), STOWAGE_MAX_VIDEO_SIZE: String(3 * MiB) });
});
afterAll(() => t.close());

async function blobFiles(dataDir = t.dataDir): Promise<string[]> {
  const root = path.join(dataDir, 'blobs');
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

/** The start of an MP4 ("ftyp isom"), so the bytes are detected as video. */
const mp4Head = () => Buffer.from('000000186674797069736f6d0000020069736f6d69736f32', 'hex');

const countFiles = async () => (await t.gql('{ files(path: "/") { totalCount } }')).data?.files.length as number;

describe('size limits while streaming', () => {
  it('stops reading a multipart upload at the limit and stores nothing', async () => {
    const before = await blobFiles();
    const { head, tail } = multipartEnvelope(UPLOAD_MUTATION, { file: null, fileName: 'huge.bin' }, 'huge.bin');
    const { req, response } = openMultipartRequest(t.url);
    let sent = 0;
    let answered = false;
    response.then(() => (answered = true)).catch(() => (answered = true));
    req.write(head);
    const chunk = randomBytesOf(64 * 1024);
    const total = 64 * MiB;
    while (sent < total && !answered && !req.destroyed) {
      const ok = req.write(chunk);
      sent += chunk.length;
      if (!ok) await Promise.race([new Promise((r) => req.once('drain', r)), sleep(200)]);
    }
    if (!req.destroyed) req.end(tail);
    const res = await response;
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body);
    expect(body.errors[0]).toMatchObject({
      message: 'Your request contains invalid file parameter. The file size exceeds 1048576 bytes limit.',
      extensions: { code: 'FILE_TOO_LARGE', status: 400, parameter: 'file', details: { limitBytes: MiB } },
    });
    expect(sent).toBeLessThan(total / 2);
    await expect.poll(blobFiles).toEqual(before);
  });

  it('applies the video limit to video bytes and the file limit to the rest', async () => {
    const video = Buffer.concat([mp4Head(), randomBytesOf(2 * MiB)]);
    const ok = await t.upload(UPLOAD_MUTATION, { file: null, fileName: 'clip.mp4' }, { path: 'variables.file', data: video, filename: 'clip.mp4' });
    expect(ok.errors).toBeUndefined();
    expect(ok.data?.uploadFile).toMatchObject({ mime: 'video/mp4', fileType: 'NON_IMAGE', size: video.length });
    const tooBig = await t.upload(UPLOAD_MUTATION, { file: null, fileName: 'clip.mp4' }, { path: 'variables.file', data: Buffer.concat([mp4Head(), randomBytesOf(3 * MiB)]), filename: 'clip.mp4' });
    expect(tooBig.errors?.[0]?.extensions).toMatchObject({ code: 'FILE_TOO_LARGE', details: { limitBytes: 3 * MiB } });
    const notVideo = await t.upload(UPLOAD_MUTATION, { file: null, fileName: 'fake.mp4' }, { path: 'variables.file', data: randomBytesOf(2 * MiB), filename: 'fake.mp4' });
    expect(notVideo.errors?.[0]?.extensions).toMatchObject({ code: 'FILE_TOO_LARGE', details: { limitBytes: MiB } });
  });
});

describe('interrupted uploads', () => {
  it('a client that disconnects mid-upload leaves no blob, no row, and the previous version intact', async () => {
    const original = randomBytesOf(5000);
    const first = await t.upload(UPLOAD_MUTATION, { file: null, fileName: 'precious.bin', useUniqueFileName: false }, { path: 'variables.file', data: original, filename: 'precious.bin' });
    const fileId = first.data?.uploadFile.fileId;
    const filesBefore = await countFiles();
    const blobsBefore = await blobFiles();

    const { head } = multipartEnvelope(UPLOAD_MUTATION, { file: null, fileName: 'precious.bin', useUniqueFileName: false }, 'precious.bin');
    const { req, response } = openMultipartRequest(t.url);
    response.catch(() => {});
    req.write(head);
    req.write(randomBytesOf(300 * 1024));
    await sleep(200);
    req.destroy();
    await sleep(300);

    await expect.poll(blobFiles).toEqual(blobsBefore);
    expect(await countFiles()).toBe(filesBefore);
    const versions = await t.gql('query($id: ID!) { fileVersions(fileId: $id) { size url } }', { id: fileId });
    expect(versions.data?.fileVersions).toHaveLength(1);
    const served = Buffer.from(await (await fetch(versions.data?.fileVersions[0].url)).arrayBuffer());
    expect(Buffer.compare(served, original)).toBe(0);
    expect((await t.gql('{ files { totalCount } }')).status).toBe(200);
  });

  it('rejects malformed multipart requests with a clear 400', async () => {
    const form = new FormData();
    form.set('map', '{}');
    const res = await fetch(`${t.url}/graphql`, { method: 'POST', body: form, headers: { authorization: `Basic ${Buffer.from('private_test_key:').toString('base64')}` } });
    expect(res.status).toBe(400);
    expect((await res.json()).errors[0]).toMatchObject({ message: expect.stringMatching(/operations/), extensions: { code: 'BAD_REQUEST' } });
  });
});

describe('crash leftovers', () => {
  it('leaves temp files and orphaned blobs of a crash to the janitor, which collects them past its grace period, keeping committed ones', async () => {
    const j = await startTestApp({ STOWAGE_JANITOR_GRACE_MS: '60000', STOWAGE_JANITOR_INTERVAL_MS: '50' });
    try {
      const kept = await j.upload(UPLOAD_MUTATION, { file: null, fileName: 'kept.bin' }, { path: 'variables.file', data: randomBytesOf(100), filename: 'kept.bin' });
      const root = path.join(j.dataDir, 'blobs');
      const leftovers = [path.join('.incomplete', 'half-written'), path.join('files', 'ffffffffffffffffffffffff')];
      const twoMinutesAgo = new Date(Date.now() - 120_000);
      await fs.mkdir(path.join(root, '.incomplete'), { recursive: true });
      for (const file of leftovers) {
        await fs.writeFile(path.join(root, file), 'written before a crash');
        await fs.utimes(path.join(root, file), twoMinutesAgo, twoMinutesAgo);
      }
      const keptBlob = path.join(root, 'files', kept.data?.uploadFile.versionInfo.id);
      await fs.utimes(keptBlob, twoMinutesAgo, twoMinutesAgo);
      await j.restart();
      await expect.poll(() => blobFiles(j.dataDir), { timeout: 10_000 }).not.toContain(leftovers[0]);
      await expect.poll(() => blobFiles(j.dataDir), { timeout: 10_000 }).not.toContain(leftovers[1]);
      const served = await fetch(kept.data?.uploadFile.url);
      expect(served.status).toBe(200);
    } finally {
      await j.close();
    }
  });
});
