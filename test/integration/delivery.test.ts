import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg, makePng, randomBytesOf } from '../helpers/fixtures.js';
import { startTestApp, type TestApp, UPLOAD_MUTATION } from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const upload = async (data: Uint8Array, fileName: string, vars: Record<string, unknown> = {}) => {
  const res = await t.upload(UPLOAD_MUTATION, { file: null, fileName, ...vars }, { path: 'variables.file', data, filename: fileName });
  expect(res.errors).toBeUndefined();
  return res.data?.uploadFile;
};

describe('delivery', () => {
  it('serves bytes with type, length, ETag, conditional GET, HEAD and ranges', async () => {
    const data = randomBytesOf(10_000);
    const file = await upload(data, 'blob.bin', { folder: '/d' });
    const full = await fetch(file.url);
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe('application/octet-stream');
    expect(full.headers.get('content-length')).toBe('10000');
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    expect(full.headers.get('x-content-type-options')).toBe('nosniff');
    expect(full.headers.get('content-security-policy')).toMatch(/sandbox/);
    expect(full.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(full.headers.get('x-ik-requestid')).toBe(full.headers.get('x-request-id'));
    const etag = full.headers.get('etag') as string;
    expect(etag).toBe(`"${file.versionInfo.id}"`);
    expect(Buffer.compare(Buffer.from(await full.arrayBuffer()), data)).toBe(0);

    expect((await fetch(file.url, { headers: { 'if-none-match': etag } })).status).toBe(304);

    const head = await fetch(file.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('10000');

    const part = await fetch(file.url, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 100-199/10000');
    expect(Buffer.compare(Buffer.from(await part.arrayBuffer()), data.subarray(100, 200))).toBe(0);
    const tail = await fetch(file.url, { headers: { range: 'bytes=-10' } });
    expect(Buffer.compare(Buffer.from(await tail.arrayBuffer()), data.subarray(9990))).toBe(0);
    const beyond = await fetch(file.url, { headers: { range: 'bytes=20000-' } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe('bytes */10000');
  });

  it('serves Unicode paths percent-encoded', async () => {
    const file = await upload(Buffer.from('bonjour'), 'café.txt', { folder: '/über', useUniqueFileName: false });
    expect(file.url).toBe(`${t.url}/%C3%BCber/caf%C3%A9.txt`);
    const res = await fetch(file.url);
    expect(await res.text()).toBe('bonjour');
    expect(res.headers.get('content-type')).toBe('text/plain');
  });

  it('answers 404 for unknown paths and refuses traversal', async () => {
    expect((await fetch(`${t.url}/nothing/here.jpg`)).status).toBe(404);
    expect((await fetch(`${t.url}/%2e%2e/%2e%2e/etc/passwd`)).status).toBe(404);
    const res = await fetch(`${t.url}/nothing.jpg`);
    expect(await res.json()).toMatchObject({ message: 'The requested asset does not exist.', code: 'NOT_FOUND' });
  });

  it('never serves unpublished files, nor private originals; private thumbnails work', async () => {
    const jpeg = await makeJpeg(300, 300);
    const draft = await upload(jpeg, 'draft.jpg', { isPublished: false });
    expect(draft.isPublished).toBe(false);
    expect((await fetch(draft.url)).status).toBe(404);
    expect((await fetch(draft.thumbnailUrl)).status).toBe(404);

    const secret = await upload(jpeg, 'secret.jpg', { isPrivateFile: true });
    expect(secret.isPrivateFile).toBe(true);
    const original = await fetch(secret.url);
    expect(original.status).toBe(401);
    expect(Buffer.from(await original.arrayBuffer()).includes(jpeg.subarray(0, 100))).toBe(false);
    const thumb = await fetch(secret.thumbnailUrl);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('cache-control')).toMatch(/private/);
  });

  it('makes thumbnails upright, bounded to 200 px, with transparency kept, and caches them', async () => {
    const rotated = await makeJpeg(800, 400, { orientation: 6 });
    const file = await upload(rotated, 'sideways.jpg');
    const first = await fetch(file.thumbnailUrl);
    const meta = await sharp(Buffer.from(await first.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([100, 200]);
    const etag = first.headers.get('etag') as string;
    expect((await fetch(file.thumbnailUrl, { headers: { 'if-none-match': etag } })).status).toBe(304);

    const alpha = await upload(await makePng(64, 64, true), 'alpha.png');
    const thumb = await sharp(Buffer.from(await (await fetch(alpha.thumbnailUrl)).arrayBuffer())).metadata();
    expect(thumb).toMatchObject({ hasAlpha: true, width: 64, height: 64 });

    const same = await Promise.all(Array.from({ length: 5 }, () => fetch(`${file.thumbnailUrl}?again`).then((r) => r.arrayBuffer())));
    expect(new Set(same.map((b) => Buffer.from(b).toString('base64'))).size).toBe(1);
  });

  it('explains unsupported transformations and thumbnails of non-images', async () => {
    const file = await upload(await makeJpeg(10, 10), 'small.jpg', { useUniqueFileName: false });
    const res = await fetch(`${t.url}/tr:n-unknown_preset/small.jpg`);
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(/Unknown named transformation "unknown_preset"/);
    const txt = await upload(Buffer.from('text'), 'note.txt', { useUniqueFileName: false });
    expect(txt.thumbnailUrl).toBeNull();
    expect((await fetch(`${t.url}/tr:n-ik_ml_thumbnail/note.txt`)).status).toBe(400);
    expect(file.url).toBe(`${t.url}/small.jpg`);
  });

  it('refuses an image over the pixel limit at upload, before decoding it', async () => {
    const small = await startTestApp({ STOWAGE_MAX_IMAGE_PIXELS: '10000' });
    try {
      const res = await small.upload(UPLOAD_MUTATION, { file: null, fileName: 'big.png' }, { path: 'variables.file', data: await makePng(200, 200), filename: 'big.png' });
      expect(res.errors?.[0]).toMatchObject({
        message: expect.stringMatching(/40000 pixels, more than the 10000 allowed/),
        extensions: { code: 'BAD_REQUEST', parameter: 'file', details: { pixels: 40000, maxPixels: 10000 } },
      });
      expect((await small.gql('{ files { totalCount } }')).data?.files.totalCount).toBe(0);
    } finally {
      await small.close();
    }
  });
});

describe('under a URL endpoint with a path', () => {
  it('serves files under that path', async () => {
    const other = await startTestApp({ STOWAGE_URL_ENDPOINT: 'http://127.0.0.1:0/media' });
    try {
      const res = await other.upload(UPLOAD_MUTATION, { file: null, fileName: 'x.txt', useUniqueFileName: false }, { path: 'variables.file', data: Buffer.from('hi'), filename: 'x.txt' });
      expect(res.data?.uploadFile.url).toBe('http://127.0.0.1:0/media/x.txt');
      expect(await (await fetch(`${other.url}/media/x.txt`)).text()).toBe('hi');
      expect((await fetch(`${other.url}/x.txt`)).status).toBe(404);
    } finally {
      await other.close();
    }
  });
});
