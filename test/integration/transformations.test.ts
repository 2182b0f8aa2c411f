import fs from 'node:fs/promises';
import ImageKit from 'imagekit';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUrl } from '../../src/delivery/signed-url.js';
import { makeJpeg } from '../helpers/fixtures.js';
import { TEST_KEY, startTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let photoUrl: string;
let secret: { url: string; fileId: string };

/** 400x300: left half red, right half blue, so crops and flips are visible in sampled pixels. */
const twoTone = () =>
  sharp({ create: { width: 400, height: 300, channels: 3, background: '#ff0000' } })
    .composite([{ input: { create: { width: 200, height: 300, channels: 3, background: '#0000ff' } }, left: 200, top: 0 }])
    .jpeg({ quality: 95 })
    .withExif({ IFD0: { Make: 'Canon' } })
    .toBuffer();

const put = async (fileName: string, vars: Record<string, unknown> = {}) => {
  const res = await t.upload(
    'mutation($file: Upload!, $fileName: String!, $isPrivateFile: Boolean) { uploadFile(file: $file, fileName: $fileName, useUniqueFileName: false, isPrivateFile: $isPrivateFile) { fileId url } }',
    { file: null, fileName, ...vars },
    { path: 'variables.file', data: await twoTone(), filename: fileName },
  );
  return res.data?.uploadFile as { url: string; fileId: string };
};

async function fetchImage(url: string, accept = 'image/jpeg') {
  const res = await fetch(url, { headers: { accept } });
  const body = Buffer.from(await res.arrayBuffer());
  return { res, body, meta: res.ok ? await sharp(body).metadata() : undefined };
}

async function pixel(body: Buffer, x: number, y: number) {
  const { data, info } = await sharp(body).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * 3;
  return [data[i], data[i + 1], data[i + 2]] as number[];
}

beforeAll(async () => {
  t = await startTestApp();
  photoUrl = (await put('photo.jpg')).url;
  secret = await put('secret.jpg', { isPrivateFile: true });
});
afterAll(() => t.close());

const tr = (steps: string, url = photoUrl) => url.replace(t.url, `${t.url}/tr:${steps}`);

describe('image transformations', () => {
  it('resizes by width keeping the ratio, in the path form and the query form', async () => {
    const a = await fetchImage(tr('w-200'));
    expect([a.meta?.width, a.meta?.height]).toEqual([200, 150]);
    const b = await fetchImage(`${photoUrl}?tr=h-0.5`);
    expect([b.meta?.width, b.meta?.height]).toEqual([200, 150]);
  });

  it('answers the request that renders a transformation with the same bytes, ranges and headers as later ones', async () => {
    const head = await fetch(tr('w-210,h-110'), { method: 'HEAD', headers: { accept: 'image/jpeg' } });
    expect(head.status).toBe(200);
    const length = Number(head.headers.get('content-length'));
    const range = await fetch(tr('w-211,h-111'), { headers: { accept: 'image/jpeg', range: 'bytes=0-9' } });
    expect(range.status).toBe(206);
    expect(range.headers.get('content-range')).toMatch(/^bytes 0-9\/\d+$/);
    const first = await fetchImage(tr('w-212,h-112'));
    const again = await fetchImage(tr('w-212,h-112'));
    expect(first.meta).toMatchObject({ width: 212, height: 112 });
    expect(Buffer.compare(first.body, again.body)).toBe(0);
    expect(first.res.headers.get('etag')).toBe(again.res.headers.get('etag'));
    expect(Number(first.res.headers.get('content-length'))).toBe(first.body.length);
    expect((await fetchImage(tr('w-210,h-110'))).body.length).toBe(length);
    const cachedRange = await fetch(tr('w-211,h-111'), { headers: { accept: 'image/jpeg', range: 'bytes=0-9' } });
    expect(Buffer.compare(Buffer.from(await range.arrayBuffer()), Buffer.from(await cachedRange.arrayBuffer()))).toBe(0);
  });

  it('crops with maintain_ratio, forces, fits at_max, pads and extracts', async () => {
    expect((await fetchImage(tr('w-100,h-100'))).meta).toMatchObject({ width: 100, height: 100 });
    expect((await fetchImage(tr('w-100,h-50,c-force'))).meta).toMatchObject({ width: 100, height: 50 });
    expect((await fetchImage(tr('w-100,h-100,c-at_max'))).meta).toMatchObject({ width: 100, height: 75 });
    const padded = await fetchImage(tr('w-100,h-100,cm-pad_resize,bg-00FF00'));
    expect(padded.meta).toMatchObject({ width: 100, height: 100 });
    expect(await pixel(padded.body, 50, 2)).toEqual([expect.closeTo(0, -1.5), expect.closeTo(255, -1.5), expect.closeTo(0, -1.5)]);
    const extracted = await fetchImage(tr('w-50,h-50,cm-extract,x-300,y-10'));
    expect(extracted.meta).toMatchObject({ width: 50, height: 50 });
    const [r, , b] = await pixel(extracted.body, 25, 25);
    expect(b).toBeGreaterThan(200);
    expect(r).toBeLessThan(50);
  });

  it('pads onto a blurred copy of the picture with bg-blurred, brighter or darker on request', async () => {
    const blurred = await fetchImage(tr('w-400,h-400,cm-pad_resize,bg-blurred'));
    expect(blurred.meta).toMatchObject({ width: 400, height: 400 });
    // The band above the picture is its blurred copy, not a flat colour: red on the left, blue on the right.
    const [r1, , b1] = await pixel(blurred.body, 20, 20);
    const [r2, , b2] = await pixel(blurred.body, 380, 20);
    expect(r1).toBeGreaterThan(180);
    expect(b1).toBeLessThan(80);
    expect(b2).toBeGreaterThan(180);
    expect(r2).toBeLessThan(80);
    const darker = await fetchImage(tr('w-400,h-400,cm-pad_resize,bg-blurred_10_N100'));
    expect((await pixel(darker.body, 20, 20))[0]).toBeLessThan((r1 as number) - 60);
    // The picture itself is untouched in the middle band.
    expect((await pixel(darker.body, 20, 200))[0]).toBeGreaterThan(230);
    expect((await fetch(tr('w-400,h-400,cm-pad_resize,bg-blurred_500'))).status).toBe(400);
  });

  it('focuses on faces with fo-face: crops around them, or to them (z zooms out)', async () => {
    const photo = await fs.readFile(new URL('../fixtures/person-at-table.jpg', import.meta.url));
    const res = await t.upload(
      'mutation($file: Upload!) { uploadFile(file: $file, fileName: "diner.jpg", useUniqueFileName: false) { url } }',
      { file: null },
      { path: 'variables.file', data: photo, filename: 'diner.jpg' },
    );
    const url = res.data?.uploadFile.url as string;
    // The face is right of centre (about x 107–145, y 8–58 of 212×158): a square crop around it starts near x 46.
    const grey = (buf: Buffer) => sharp(buf).resize(60, 60).greyscale().raw().toBuffer();
    const diff = (a: Buffer, b: Buffer) => a.reduce((sum, v, i) => sum + Math.abs(v - (b[i] as number)), 0) / a.length;
    const expected = await grey(await sharp(photo).extract({ left: 46, top: 0, width: 158, height: 158 }).toBuffer());
    const face = await fetchImage(tr('w-60,h-60,fo-face', url));
    expect(face.meta).toMatchObject({ width: 60, height: 60 });
    const centre = await fetchImage(tr('w-60,h-60', url));
    expect(diff(await grey(face.body), expected)).toBeLessThan(diff(await grey(centre.body), expected) / 2);
    const tight = await fetchImage(tr('fo-face', url));
    expect(tight.meta?.width).toBeGreaterThan(25);
    expect(tight.meta?.width).toBeLessThan(60);
    const wider = await fetchImage(tr('fo-face,z-0.5', url));
    expect(wider.meta?.width).toBeCloseTo(2 * (tight.meta?.width as number), -1);
    // No face: the centre, as without fo-face.
    expect((await fetchImage(tr('w-100,h-100,fo-face'))).meta).toMatchObject({ width: 100, height: 100 });
  });

  it('crops to customCoordinates with fo-custom, following updates of them', async () => {
    const res = await t.upload(
      'mutation($file: Upload!) { uploadFile(file: $file, fileName: "custom.jpg", useUniqueFileName: false, customCoordinates: "0,0,100,100") { fileId url } }',
      { file: null },
      { path: 'variables.file', data: await twoTone(), filename: 'custom.jpg' },
    );
    const { fileId, url } = res.data?.uploadFile as { fileId: string; url: string };
    const red = await fetchImage(tr('w-50,h-50,fo-custom', url));
    expect((await pixel(red.body, 25, 25))[0]).toBeGreaterThan(200);
    await t.gql('mutation($id: ID!) { updateFileDetails(fileId: $id, customCoordinates: "300,0,100,100") { fileId } }', { id: fileId });
    const blue = await fetchImage(tr('w-50,h-50,fo-custom', url));
    expect((await pixel(blue.body, 25, 25))[2]).toBeGreaterThan(200);
  });

  it('transforms a non-current version named by ik-obj-version', async () => {
    const putColour = async (color: string) =>
      t.upload(
        'mutation($file: Upload!) { uploadFile(file: $file, fileName: "versions.jpg", useUniqueFileName: false) { fileId url versionInfo { id } } }',
        { file: null },
        { path: 'variables.file', data: await makeJpeg(200, 100, { color }), filename: 'versions.jpg' },
      );
    const first = (await putColour('#ff0000')).data?.uploadFile;
    const second = (await putColour('#0000ff')).data?.uploadFile;
    expect(second.fileId).toBe(first.fileId);
    const old = await fetchImage(`${second.url}?ik-obj-version=${first.versionInfo.id}&tr=w-20`);
    expect(old.meta).toMatchObject({ width: 20, height: 10 });
    expect((await pixel(old.body, 10, 5))[0]).toBeGreaterThan(200);
    const current = await fetchImage(`${second.url}?tr=w-20`);
    expect((await pixel(current.body, 10, 5))[2]).toBeGreaterThan(200);
    expect(old.res.headers.get('etag')).not.toBe(current.res.headers.get('etag'));
  });

  it('flips, rotates, turns grey, and chains steps in order', async () => {
    const flipped = await fetchImage(tr('w-100,fl-h'));
    expect((await pixel(flipped.body, 5, 5))[2]).toBeGreaterThan(200);
    const rotated = await fetchImage(tr('rt-90'));
    expect(rotated.meta).toMatchObject({ width: 300, height: 400 });
    const grey = await pixel((await fetchImage(tr('w-100,e-grayscale'))).body, 10, 10);
    expect(Math.max(...grey) - Math.min(...grey)).toBeLessThan(5);
    const chained = await fetchImage(tr('w-200:rt-90'));
    expect(chained.meta).toMatchObject({ width: 150, height: 200 });
  });

  it('chooses the format from f or the Accept header, strips EXIF unless md-true, and caches', async () => {
    const auto = await fetchImage(tr('w-100,f-auto'), 'image/avif,image/webp,*/*');
    expect(auto.res.headers.get('content-type')).toBe('image/avif');
    expect(auto.res.headers.get('vary')).toBe('Accept');
    const webp = await fetchImage(tr('w-100,f-auto'), 'image/webp,*/*');
    expect(webp.meta?.format).toBe('webp');
    expect((await fetchImage(tr('w-100,f-png'))).meta?.format).toBe('png');
    expect((await fetchImage(tr('w-100'))).meta?.exif).toBeUndefined();
    expect((await fetchImage(tr('w-100,md-true'))).meta?.exif).toBeDefined();
    const first = await fetch(tr('w-123'));
    const etag = first.headers.get('etag') as string;
    expect((await fetch(tr('w-123'), { headers: { 'if-none-match': etag } })).status).toBe(304);
    const same = await Promise.all(Array.from({ length: 4 }, () => fetch(tr('w-77')).then((r) => r.arrayBuffer())));
    expect(new Set(same.map((b) => Buffer.from(b).toString('base64'))).size).toBe(1);
  });

  it('turns EXIF-rotated originals upright before transforming', async () => {
    const res = await t.upload(
      'mutation($file: Upload!) { uploadFile(file: $file, fileName: "sideways.jpg", useUniqueFileName: false) { url } }',
      { file: null },
      { path: 'variables.file', data: await makeJpeg(400, 100, { orientation: 6 }), filename: 'sideways.jpg' },
    );
    const url = res.data?.uploadFile.url as string;
    expect((await fetchImage(tr('w-50', url))).meta).toMatchObject({ width: 50, height: 200 });
    expect((await fetchImage(tr('w-50,rt-auto', url))).meta).toMatchObject({ width: 50, height: 200 });
    expect((await fetchImage(tr('w-50:h-100', url))).meta).toMatchObject({ width: 25, height: 100 });
  });

  it('explains bad transformations', async () => {
    const res = await fetch(tr('w-abc'));
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(/Invalid transformation parameter w/);
    expect((await fetch(tr('orig-true'))).status).toBe(200);
  });
});

describe('named transformations', () => {
  it('serves configured names, also unsigned on private files', async () => {
    const app = await startTestApp({ STOWAGE_NAMED_TRANSFORMATIONS: 'square=w-80,h-80;tiny=w-10' });
    try {
      const res = await app.upload(
        'mutation($file: Upload!) { uploadFile(file: $file, fileName: "p.jpg", useUniqueFileName: false, isPrivateFile: true) { url } }',
        { file: null },
        { path: 'variables.file', data: await twoTone(), filename: 'p.jpg' },
      );
      const url = res.data?.uploadFile.url as string;
      const square = await fetchImage(url.replace(app.url, `${app.url}/tr:n-square`));
      expect(square.meta).toMatchObject({ width: 80, height: 80 });
      expect((await fetchImage(`${url}?tr=n-tiny`)).meta?.width).toBe(10);
      const unknown = await fetch(url.replace(app.url, `${app.url}/tr:n-nope`));
      expect(unknown.status).toBe(400);
      expect((await unknown.json()).message).toMatch(/ik_ml_thumbnail, square, tiny/);
      expect((await fetch(url.replace(app.url, `${app.url}/tr:n-__proto__`))).status).toBe(400);
      expect((await fetch(url.replace(app.url, `${app.url}/tr:n-constructor`))).status).toBe(400);
      expect((await fetch(url.replace(app.url, `${app.url}/tr:w-80`))).status).toBe(401);
    } finally {
      await app.close();
    }
  });
});

describe('signed URLs', () => {
  it('verifies URLs signed by ImageKit\'s own SDK with the same key', async () => {
    const imagekit = new ImageKit({ publicKey: 'public_x', privateKey: TEST_KEY, urlEndpoint: t.url });
    const path = new URL(secret.url).pathname;
    expect((await fetch(secret.url)).status).toBe(401);
    const signed = imagekit.url({ path, signed: true, transformation: [{ width: '120' }] });
    const ok = await fetchImage(signed);
    expect(ok.res.status).toBe(200);
    expect(ok.meta?.width).toBe(120);
    const expiring = imagekit.url({ path, signed: true, expireSeconds: 300 });
    expect((await fetch(expiring)).status).toBe(200);
    const query = imagekit.url({ path, signed: true, transformation: [{ height: '30' }], transformationPosition: 'query' });
    expect((await fetchImage(query)).meta?.height).toBe(30);
  });

  it('refuses tampered and expired signatures; named transformations work unsigned', async () => {
    const rest = `tr:w-100/${new URL(secret.url).pathname.slice(1)}`;
    const good = signUrl(t.url, rest, TEST_KEY, Math.floor(Date.now() / 1000) + 60);
    expect((await fetch(good)).status).toBe(200);
    expect((await fetch(good.replace('tr:w-100', 'tr:w-101'))).status).toBe(401);
    expect((await fetch(signUrl(t.url, rest, 'private_other'))).status).toBe(401);
    const expired = signUrl(t.url, rest, TEST_KEY, Math.floor(Date.now() / 1000) - 5);
    const res = await fetch(expired);
    expect(res.status).toBe(401);
    expect((await res.json()).message).toMatch(/expired/);
    expect((await fetch(tr('n-ik_ml_thumbnail', secret.url))).status).toBe(200);
    expect((await fetch(tr('w-50', secret.url))).status).toBe(401);
  });

  it('refuses an ik-t that took digits from the URL, so an expiry cannot be pushed centuries ahead', async () => {
    const rest = `${new URL(secret.url).pathname.slice(1)}?tr=w-300,q-95`;
    const expiresAt = Math.floor(Date.now() / 1000) + 60;
    const good = signUrl(t.url, rest, TEST_KEY, expiresAt);
    expect((await fetch(good)).status).toBe(200);
    // Same HMAC input ("…q-95" + "17…" = "…q-9" + "517…"), an expiry ten times later.
    const extended = good.replace(`q-95&ik-t=${expiresAt}`, `q-9&ik-t=5${expiresAt}`);
    expect(extended).not.toBe(good);
    const res = await fetch(extended);
    expect(res.status).toBe(401);
    const body = await res.json();
    expect(body.message).toMatch(/ik-t.*10 digits/);
  });

  it('hands out signed URLs through GraphQL', async () => {
    const res = await t.gql('query($id: ID!) { signedUrl(fileId: $id, transformation: "w-64", expireSeconds: 120) }', { id: secret.fileId });
    const url = res.data?.signedUrl as string;
    expect(url).toMatch(/\/tr:w-64\/secret\.jpg\?ik-t=\d+&ik-s=[0-9a-f]{40}$/);
    expect((await fetchImage(url)).meta?.width).toBe(64);
  });
});
