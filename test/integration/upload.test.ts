import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg, makePng, randomBytesOf } from '../helpers/fixtures.js';
import { basicAuth, startTestApp, type TestApp, UPLOAD_MUTATION } from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const upload = (data: Uint8Array, filename: string, vars: Record<string, unknown> = {}, type?: string) =>
  t.upload(UPLOAD_MUTATION, { file: null, fileName: filename, ...vars }, { path: 'variables.file', data, filename, type });

describe('uploadFile over GraphQL multipart', () => {
  it('stores an image and answers with the ImageKit-shaped file', async () => {
    const jpeg = await makeJpeg(640, 480);
    const res = await upload(jpeg, 'holiday photo.jpg', { folder: '/trips//2026/', tags: ['beach', 'sun'], description: 'At the sea' });
    expect(res.errors).toBeUndefined();
    const file = res.data?.uploadFile;
    expect(file.fileId).toMatch(/^[0-9a-f]{24}$/);
    expect(file.name).toMatch(/^holiday_photo_[A-Za-z0-9_-]{9}\.jpg$/);
    expect(file.filePath).toBe(`/trips/2026/${file.name}`);
    expect(file.size).toBe(jpeg.length);
    expect(file.fileType).toBe('IMAGE');
    expect(file.mime).toBe('image/jpeg');
    expect([file.width, file.height]).toEqual([640, 480]);
    expect(file.url).toBe(`${t.url}/trips/2026/${file.name}`);
    expect(file.thumbnailUrl).toBe(`${t.url}/tr:n-ik_ml_thumbnail/trips/2026/${file.name}`);
    expect(file.versionInfo).toEqual({ id: file.fileId, name: 'Version 1' });
    expect(file.tags).toEqual(['beach', 'sun']);
    expect(file.AITags).toBeNull();
    expect(file.isPrivateFile).toBe(false);
    expect(file.isPublished).toBe(true);
    expect(file.description).toBe('At the sea');
    expect(new Date(file.createdAt).getTime()).toBeGreaterThan(Date.now() - 60_000);

    const served = await fetch(file.url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.compare(Buffer.from(await served.arrayBuffer()), jpeg)).toBe(0);

    const thumb = await fetch(file.thumbnailUrl);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect(meta.format).toBe('webp');
    expect(Math.max(meta.width ?? 0, meta.height ?? 0)).toBeLessThanOrEqual(200);
  });

  it('decides the type from the bytes, not the name or the client\'s mime', async () => {
    const png = await makePng(30, 20, true);
    const res = await upload(png, 'lies.txt', {}, 'text/plain');
    expect(res.data?.uploadFile).toMatchObject({ fileType: 'IMAGE', mime: 'image/png', width: 30, height: 20 });
    const fake = await upload(Buffer.from('just some words'), 'fake.jpg', {}, 'image/jpeg');
    expect(fake.data?.uploadFile).toMatchObject({ fileType: 'NON_IMAGE', mime: 'application/octet-stream', width: null, height: null, thumbnailUrl: null });
    const text = await upload(Buffer.from('body { color: red }'), 'site.css');
    expect(text.data?.uploadFile).toMatchObject({ fileType: 'NON_IMAGE', mime: 'text/css' });
    const proto = await upload(Buffer.from('plain words'), 'odd.constructor');
    expect(proto.data?.uploadFile).toMatchObject({ fileType: 'NON_IMAGE', mime: 'application/octet-stream' });
    const svg = await upload(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="7"></svg>'), 'icon.svg');
    expect(svg.data?.uploadFile).toMatchObject({ fileType: 'IMAGE', mime: 'image/svg+xml', width: 10, height: 7 });
  });

  it('reports displayed dimensions for EXIF-rotated JPEGs', async () => {
    const rotated = await makeJpeg(400, 100, { orientation: 6 });
    const res = await upload(rotated, 'portrait.jpg');
    expect(res.data?.uploadFile).toMatchObject({ width: 100, height: 400 });
  });

  it('stores exact names with useUniqueFileName=false and keeps names without extension', async () => {
    const res = await upload(randomBytesOf(100), 'README', { useUniqueFileName: false, folder: 'docs' });
    expect(res.data?.uploadFile).toMatchObject({ name: 'README', filePath: '/docs/README' });
  });

  it('accepts responseFields for parity without changing the selection', async () => {
    const res = await upload(randomBytesOf(64), 'rf.bin', { responseFields: ['TAGS', 'IS_PRIVATE_FILE'] });
    expect(res.errors).toBeUndefined();
    const bad = await upload(randomBytesOf(64), 'rf.bin', { responseFields: ['NOPE'] });
    expect(bad.errors?.[0]?.message).toMatch(/ResponseField/);
  });

  it.each([
    [{ fileName: '..' }, 'fileName'],
    [{ folder: '/a/../etc' }, 'folder'],
    [{ folder: '/has space' }, 'folder'],
    [{ tags: ['100%'] }, 'tags'],
    [{ tags: [''] }, 'tags'],
    [{ customCoordinates: '1,2,3' }, 'customCoordinates'],
    [{ customCoordinates: '0,0,50,50' }, 'customCoordinates'],
    [{ description: 'x'.repeat(1001) }, 'description'],
  ])('rejects %j naming the parameter, storing nothing', async (vars, parameter) => {
    const before = await t.gql('{ files(path: "/") { totalCount } }');
    const res = await upload(randomBytesOf(2000), 'bad.bin', vars);
    expect(res.data?.uploadFile ?? null).toBeNull();
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', status: 400, parameter });
    expect(res.errors?.[0]?.message).toMatch(new RegExp(parameter === 'fileName' ? 'fileName' : parameter));
    const after = await t.gql('{ files(path: "/") { totalCount } }');
    expect(after.data?.files.totalCount).toBe(before.data?.files.totalCount);
  });

  it('rejects customCoordinates outside the image', async () => {
    const res = await upload(await makeJpeg(100, 100), 'c.jpg', { customCoordinates: '50,50,60,10' });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', parameter: 'customCoordinates' });
    const ok = await upload(await makeJpeg(100, 100), 'c.jpg', { customCoordinates: '50,50,50,10' });
    expect(ok.data?.uploadFile.customCoordinates).toBe('50,50,50,10');
  });

  it('rejects an empty file', async () => {
    const res = await upload(Buffer.alloc(0), 'empty.txt');
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', parameter: 'file' });
    expect(res.errors?.[0]?.message).toMatch(/empty/);
  });
});

describe('auth', () => {
  const query = '{ files { totalCount } }';
  it('needs the private key as Basic user name; the password is ignored', async () => {
    expect((await t.gql(query, {}, { auth: basicAuth('private_test_key', 'do_not_set') })).status).toBe(200);
    const missing = await t.gql(query, {}, { auth: null });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(missing.errors?.[0]).toMatchObject({ message: 'Your request does not contain private API key.', extensions: { code: 'UNAUTHENTICATED', status: 401 } });
    const wrong = await t.gql(query, {}, { auth: basicAuth('private_wrong') });
    expect(wrong.status).toBe(403);
    expect(wrong.errors?.[0]).toMatchObject({ message: 'Your account cannot be authenticated.', extensions: { code: 'FORBIDDEN', status: 403 } });
    const bearer = await t.gql(query, {}, { auth: 'Bearer private_test_key' });
    expect(bearer.status).toBe(401);
  });

  it('refuses an unauthenticated upload without storing it', async () => {
    const res = await t.upload(UPLOAD_MUTATION, { file: null, fileName: 'x.bin' }, { path: 'variables.file', data: randomBytesOf(1000), filename: 'x.bin' }, { auth: null });
    expect(res.status).toBe(401);
    const list = await t.gql('{ files(path: "/") { nodes { name } } }');
    expect(list.data?.files.nodes.map((f: { name: string }) => f.name)).not.toContain('x.bin');
  });

  it('serves the GraphiQL page without a key', async () => {
    const page = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/graphiql/i);
  });

  it('accepts any of several configured keys', async () => {
    const multi = await startTestApp({ STOWAGE_PRIVATE_KEY: 'private_one,private_two' });
    try {
      expect((await multi.gql(query, {}, { auth: basicAuth('private_two') })).status).toBe(200);
      expect((await multi.gql(query, {}, { auth: basicAuth('private_one') })).status).toBe(200);
      expect((await multi.gql(query, {}, { auth: basicAuth('private_test_key') })).status).toBe(403);
    } finally {
      await multi.close();
    }
  });
});
