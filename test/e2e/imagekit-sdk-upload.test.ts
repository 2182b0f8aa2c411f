import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import ImageKit, { APIError, BadRequestError, PermissionDeniedError, toFile } from '@imagekit/nodejs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appDatabaseRows } from '../helpers/app-database.js';
import { makeJpeg, randomBytesOf } from '../helpers/fixtures.js';
import { startOriginServer } from '../helpers/origin-server.js';
import { openMultipartRequest } from '../helpers/raw-multipart.js';
import { basicAuth, startTestApp, TEST_KEY, type TestApp } from '../helpers/test-app.js';
import { createTestModels } from '../helpers/test-models.js';

/**
 * ImageKit's own Node SDK (`@imagekit/nodejs`), pointed at Stowage with `baseURL`, uploading through
 * `POST /api/v1/files/upload`; and a browser-style client-side upload with the SDK's authentication parameters.
 */

const PUBLIC_KEY = 'public_test_key';
const BROWSER_ORIGIN = 'https://app.example.test';
const FILE_ID = /^[0-9a-f]{24}$/;

let t: TestApp;
let client: ImageKit;
let origin: Awaited<ReturnType<typeof startOriginServer>>;
let jpeg: Buffer;
const models = createTestModels();

beforeAll(async () => {
  jpeg = await makeJpeg(64, 48, { color: '#3399ff' });
  const served = jpeg;
  origin = await startOriginServer({
    '/cat.jpg': (_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': served.length }).end(served),
  });
  t = await startTestApp(
    { STOWAGE_URL_ALLOWLIST: '127.0.0.1/32', STOWAGE_PUBLIC_KEY: PUBLIC_KEY, STOWAGE_CORS_ORIGINS: BROWSER_ORIGIN },
    { models: models.models },
  );
  client = new ImageKit({ privateKey: TEST_KEY, baseURL: t.url, maxRetries: 0 });
});
afterAll(async () => {
  await t?.close();
  await origin?.close();
});

/** The error an SDK call rejects with. */
const failureOf = async (call: Promise<unknown>): Promise<APIError> => {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(APIError);
  return error as APIError;
};

const jpegBlob = () => new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' });

const download = async (url: string) => Buffer.from(await (await fetch(url)).arrayBuffer());

describe('uploads with the ImageKit SDK', () => {
  it('uploads a Buffer as a file part and answers ImageKit\'s default response fields', async () => {
    const response = await client.files.upload({ file: await toFile(jpeg, 'photo.jpg'), fileName: 'photo.jpg', folder: '/sdk' });
    expect(Object.keys(response)).toEqual(['fileId', 'name', 'size', 'versionInfo', 'filePath', 'url', 'fileType', 'height', 'width', 'thumbnailUrl', 'AITags']);
    expect(response.fileId).toMatch(FILE_ID);
    expect(response.name).toMatch(/^photo_[A-Za-z0-9_-]{9}\.jpg$/);
    expect(response).toMatchObject({
      size: jpeg.length,
      versionInfo: { id: response.fileId, name: 'Version 1' },
      filePath: `/sdk/${response.name}`,
      url: `${t.url}/sdk/${response.name}`,
      fileType: 'image',
      width: 64,
      height: 48,
      thumbnailUrl: `${t.url}/tr:n-ik_ml_thumbnail/sdk/${response.name}`,
      AITags: null,
    });
    expect(await download(response.url as string)).toEqual(jpeg);
  });

  it('streams a file part sent after the other fields, as ImageKit\'s SDK sends a stream', async () => {
    const response = await client.files.upload({ fileName: 'streamed.jpg', useUniqueFileName: false, tags: ['a', 'b'], file: await toFile(jpeg, 'streamed.jpg'), responseFields: ['tags'] }).catch((e) => e);
    // `responseFields` came after the file part while the upload was already streaming: refused, nothing stored.
    expect(response).toBeInstanceOf(BadRequestError);
    expect((response as APIError).message).toContain('responseFields parameter after the file part');
    const ok = await client.files.upload({ fileName: 'streamed.jpg', useUniqueFileName: false, tags: ['a', 'b'], responseFields: ['tags'], file: await toFile(jpeg, 'streamed.jpg') });
    expect(ok).toMatchObject({ name: 'streamed.jpg', filePath: '/streamed.jpg', tags: ['a', 'b'], versionInfo: { name: 'Version 1' } });
    expect(await download(ok.url as string)).toEqual(jpeg);
  });

  it('uploads base64, plain and as a data URI', async () => {
    const plain = await client.files.upload({ file: jpeg.toString('base64'), fileName: 'plain.jpg', useUniqueFileName: false });
    const uri = await client.files.upload({ file: `data:image/jpeg;base64,${jpeg.toString('base64')}`, fileName: 'uri.jpg', useUniqueFileName: false });
    expect(plain).toMatchObject({ name: 'plain.jpg', size: jpeg.length, fileType: 'image', width: 64, height: 48 });
    expect(uri).toMatchObject({ name: 'uri.jpg', size: jpeg.length });
    expect(await download(uri.url as string)).toEqual(jpeg);
  });

  it('uploads by URL, downloading it', async () => {
    const response = await client.files.upload({ file: `${origin.url}/cat.jpg`, fileName: 'cat.jpg', useUniqueFileName: false, folder: 'from-url' });
    expect(response).toMatchObject({ name: 'cat.jpg', filePath: '/from-url/cat.jpg', size: jpeg.length, width: 64, height: 48 });
    const missing = await failureOf(client.files.upload({ file: `${origin.url}/nothing.jpg`, fileName: 'nothing.jpg' }));
    expect(missing.status).toBe(400);
  });

  it('adds the fields responseFields asks for', async () => {
    const field = await t.gql('mutation { createCustomMetadataField(name: "brand", label: "Brand", schema: {type: Text}) { id } }');
    expect(field.errors).toBeUndefined();
    const response = await client.files.upload({
      file: await toFile(jpeg, 'fields.jpg'),
      fileName: 'fields.jpg',
      tags: ['summer', 'sale'],
      customCoordinates: '1,2,10,20',
      isPrivateFile: true,
      customMetadata: { brand: 'Acme' },
      description: 'A blue square',
      responseFields: ['tags', 'customCoordinates', 'isPrivateFile', 'isPublished', 'customMetadata', 'embeddedMetadata', 'metadata'],
    });
    expect(response).toMatchObject({
      tags: ['summer', 'sale'],
      customCoordinates: '1,2,10,20',
      isPrivateFile: true,
      isPublished: true,
      customMetadata: { brand: 'Acme' },
      description: 'A blue square',
      metadata: { width: 64, height: 48, size: jpeg.length, format: 'jpg', hasTransparency: false },
    });
    expect(response.embeddedMetadata).toBeTypeOf('object');
    expect(response.metadata?.exif).toBeTypeOf('object');
    const plain = await client.files.upload({ file: await toFile(jpeg, 'plain-fields.jpg'), fileName: 'plain-fields.jpg', tags: ['x'] });
    expect(plain).not.toHaveProperty('tags');
    expect(plain).not.toHaveProperty('isPrivateFile');
  });

  it('runs google-auto-tagging and reports its status and AITags', async () => {
    const response = await client.files.upload({
      file: await toFile(jpeg, 'sky.jpg'),
      fileName: 'sky.jpg',
      extensions: [{ name: 'google-auto-tagging', maxTags: 2, minConfidence: 50 }],
    });
    expect(response.extensionStatus).toEqual({ 'google-auto-tagging': 'success' });
    expect(response.AITags).toEqual([
      { name: 'Sky', confidence: 95.5, source: 'google-auto-tagging' },
      { name: 'Blue', confidence: 80, source: 'google-auto-tagging' },
    ]);
    const bad = await failureOf(client.files.upload({ file: await toFile(jpeg, 'x.jpg'), fileName: 'x.jpg', extensions: [{ name: 'google-auto-tagging', maxTags: 31, minConfidence: 50 }] }));
    expect(bad.status).toBe(400);
    expect(bad.message).toContain('maxTags must be a whole number from 0 to 30');
  });

  it('adds versions on overwrite, and refuses an overwrite with overwriteFile false with ImageKit\'s message', async () => {
    const first = await client.files.upload({ file: await toFile(jpeg, 'v.jpg'), fileName: 'v.jpg', useUniqueFileName: false, folder: 'versions' });
    const second = await client.files.upload({ file: await toFile(jpeg, 'v.jpg'), fileName: 'v.jpg', useUniqueFileName: false, folder: 'versions' });
    expect(second.fileId).toBe(first.fileId);
    expect(second.versionInfo?.name).toBe('Version 2');
    const conflict = await failureOf(client.files.upload({ file: await toFile(jpeg, 'v.jpg'), fileName: 'v.jpg', useUniqueFileName: false, overwriteFile: false, folder: 'versions' }));
    expect(conflict).toBeInstanceOf(BadRequestError);
    expect(conflict.status).toBe(400);
    expect(conflict.error).toMatchObject({
      message: 'A file with the same name already exists at the exact location. We could not overwrite it because both overwriteFile and useUniqueFileName are set to false.',
      help: expect.any(String),
    });
  });

  it('answers a wrong private key with the SDK\'s authentication errors', async () => {
    const wrong = new ImageKit({ privateKey: 'private_wrong_key', baseURL: t.url, maxRetries: 0 });
    const refused = await failureOf(wrong.files.upload({ file: await toFile(jpeg, 'x.jpg'), fileName: 'x.jpg' }));
    expect(refused).toBeInstanceOf(PermissionDeniedError);
    expect(refused.status).toBe(403);
    expect(refused.error).toMatchObject({ message: 'Your account cannot be authenticated.' });
    const form = new FormData();
    form.set('fileName', 'x.jpg');
    form.set('file', jpegBlob(), 'x.jpg');
    const anonymous = await fetch(`${t.url}/api/v1/files/upload`, { method: 'POST', body: form });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ message: 'Your request does not contain private API key.' });
  });

  it('answers bad fields with ImageKit\'s error body', async () => {
    const noFile = new FormData();
    noFile.set('fileName', 'x.jpg');
    const response = await fetch(`${t.url}/api/v1/files/upload`, { method: 'POST', headers: { authorization: basicAuth() }, body: noFile });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ message: 'Your request is missing file parameter.', help: expect.any(String) });
    const checks = await failureOf(client.files.upload({ file: await toFile(jpeg, 'x.jpg'), fileName: 'x.jpg', checks: '"file.size" < "1mb"' }));
    expect(checks.message).toContain('checks parameter');
    const boolean = await failureOf(client.files.upload({ fileName: 'x.jpg', useUniqueFileName: 'maybe' as never, file: await toFile(jpeg, 'x.jpg') }));
    expect(boolean.message).toContain('invalid useUniqueFileName parameter');
  });
});

describe('client-side (browser) uploads', () => {
  /** What a browser sends: a FormData with the file and the authentication parameters, from an allowed origin. */
  const browserUpload = (auth: { token: string; expire: number; signature: string }, fileName: string, extra: Record<string, string> = {}) => {
    const form = new FormData();
    form.set('file', jpegBlob(), fileName);
    form.set('fileName', fileName);
    form.set('publicKey', PUBLIC_KEY);
    form.set('signature', auth.signature);
    form.set('expire', String(auth.expire));
    form.set('token', auth.token);
    for (const [name, value] of Object.entries(extra)) form.set(name, value);
    return fetch(`${t.url}/api/v1/files/upload`, { method: 'POST', headers: { origin: BROWSER_ORIGIN }, body: form });
  };

  it('accepts the SDK helper\'s authentication parameters once, with CORS headers for the allowed origin', async () => {
    const auth = client.helper.getAuthenticationParameters();
    const response = await browserUpload(auth, 'browser.jpg');
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(BROWSER_ORIGIN);
    const body = await response.json();
    expect(body).toMatchObject({ fileType: 'image', width: 64, height: 48, size: jpeg.length });
    expect(body.name).toMatch(/^browser_.{9}\.jpg$/);

    const again = await browserUpload(auth, 'again.jpg');
    expect(again.status).toBe(400);
    expect((await again.json()).message).toMatch(/^Your request contains invalid token parameter\./);
    // The fields before the file part, so the file streams straight into the upload.
    const fieldsFirst = client.helper.getAuthenticationParameters();
    const form = new FormData();
    for (const [name, value] of Object.entries({ fileName: 'first.jpg', publicKey: PUBLIC_KEY, signature: fieldsFirst.signature, expire: String(fieldsFirst.expire), token: fieldsFirst.token })) form.set(name, value);
    form.set('file', jpegBlob(), 'first.jpg');
    const streamed = await fetch(`${t.url}/api/v1/files/upload`, { method: 'POST', headers: { origin: BROWSER_ORIGIN }, body: form });
    expect(streamed.status).toBe(200);
    expect(await streamed.json()).toMatchObject({ size: jpeg.length });

    // Remembered in the database (so every instance on it refuses it), until the signature expires.
    expect(await appDatabaseRows(t, `SELECT token, expires_at FROM upload_tokens WHERE token = '${auth.token}'`)).toEqual([{ token: auth.token, expires_at: auth.expire * 1000 }]);
  });

  it('refuses a bad signature, an expire too far ahead or past, a wrong public key, and both kinds of auth', async () => {
    const good = client.helper.getAuthenticationParameters();
    const wrongSignature = await browserUpload({ ...good, signature: good.signature.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) }, 'x.jpg');
    expect(wrongSignature.status).toBe(400);
    expect((await wrongSignature.json()).message).toBe('Your request contains invalid signature parameter.');

    const now = Math.floor(Date.now() / 1000);
    for (const expire of [now + 2 * 3600, now - 10]) {
      const response = await browserUpload(client.helper.getAuthenticationParameters(undefined, expire), 'x.jpg');
      expect(response.status).toBe(400);
      expect((await response.json()).message).toBe('Your request contains invalid expire parameter. Expire parameter should be a Unix time in less than 1 hour into the future.');
    }

    const wrongKey = await browserUpload(client.helper.getAuthenticationParameters(), 'x.jpg', { publicKey: 'public_other' });
    expect(wrongKey.status).toBe(400);
    expect((await wrongKey.json()).message).toBe('Your request contains invalid publicKey parameter.');

    const auth = client.helper.getAuthenticationParameters();
    const form = new FormData();
    for (const [name, value] of Object.entries({ fileName: 'x.jpg', publicKey: PUBLIC_KEY, signature: auth.signature, expire: String(auth.expire), token: auth.token })) form.set(name, value);
    form.set('file', jpegBlob(), 'x.jpg');
    const both = await fetch(`${t.url}/api/v1/files/upload`, { method: 'POST', headers: { authorization: basicAuth() }, body: form });
    expect(both.status).toBe(400);
    expect((await both.json()).message).toBe('Your request contains both signature and basic auth parameter. Use only one method, you might be exposing your private API key.');
  });

  it('answers a CORS preflight from an allowed origin, and refuses other sites', async () => {
    const preflight = await fetch(`${t.url}/api/v1/files/upload`, {
      method: 'OPTIONS',
      headers: { origin: BROWSER_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(BROWSER_ORIGIN);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');

    const foreign = await browserUpload(client.helper.getAuthenticationParameters(), 'x.jpg').then(() =>
      fetch(`${t.url}/api/v1/files/upload`, { method: 'POST', headers: { origin: 'https://evil.example.test' }, body: new FormData() }),
    );
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('size limits on the upload form', () => {
  const MiB = 1024 * 1024;
  let small: TestApp;
  beforeAll(async () => {
    small = await startTestApp({ STOWAGE_MAX_FILE_SIZE: String(MiB), STOWAGE_MAX_VIDEO_SIZE: String(MiB) });
  });
  afterAll(() => small?.close());

  const blobFiles = async () => {
    const root = path.join(small.dataDir, 'blobs');
    const entries = await fs.readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name)));
  };

  /** Streams a form with the given fields before and after a file part of random bytes, until the server answers. */
  async function streamForm(before: Record<string, string>, after: Record<string, string>, total: number) {
    const boundary = '----stowage-rest-boundary';
    const fields = (values: Record<string, string>) =>
      Object.entries(values)
        .map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
        .join('');
    const head = Buffer.from(`${fields(before)}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
    const tail = Buffer.from(`\r\n${fields(after)}--${boundary}--\r\n`);
    const { req, response } = openMultipartRequest(small.url, {}, { path: '/api/v1/files/upload', boundary });
    let answered = false;
    response.then(() => (answered = true)).catch(() => (answered = true));
    let sent = 0;
    req.write(head);
    const chunk = randomBytesOf(64 * 1024);
    while (sent < total && !answered && !req.destroyed) {
      const ok = req.write(chunk);
      sent += chunk.length;
      if (!ok) await Promise.race([new Promise((r) => req.once('drain', r)), sleep(200)]);
    }
    if (!req.destroyed) req.end(tail);
    return { ...(await response), sent };
  }

  it('stops reading a file part streamed past the limit, and stores nothing', async () => {
    const before = await blobFiles();
    const total = 64 * MiB;
    for (const [fieldsBefore, fieldsAfter] of [
      [{ fileName: 'huge.bin' }, {}],
      [{}, { fileName: 'huge.bin' }],
    ] as const) {
      const { status, body, sent } = await streamForm(fieldsBefore, fieldsAfter, total);
      expect(status).toBe(400);
      expect(JSON.parse(body)).toMatchObject({ message: 'Your request contains invalid file parameter. The file size exceeds 1048576 bytes limit.', code: 'FILE_TOO_LARGE' });
      expect(sent).toBeLessThan(total / 2);
    }
    await expect.poll(blobFiles).toEqual(before);
  });

  it('refuses base64 over the limit', async () => {
    const client = new ImageKit({ privateKey: TEST_KEY, baseURL: small.url, maxRetries: 0 });
    const error = await failureOf(client.files.upload({ file: randomBytesOf(MiB + 10).toString('base64'), fileName: 'big.bin' }));
    expect(error.status).toBe(400);
    expect(error.message).toContain('The file size exceeds 1048576 bytes limit.');
  });
});
