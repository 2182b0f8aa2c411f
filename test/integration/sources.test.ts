import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg, randomBytesOf } from '../helpers/fixtures.js';
import { startOriginServer } from '../helpers/origin-server.js';
import { startTestApp, type TestApp, UPLOAD_MUTATION } from '../helpers/test-app.js';

let t: TestApp;
let origin: Awaited<ReturnType<typeof startOriginServer>>;
let jpeg: Buffer;
let trickled = 0;
let slowClosed = false;

beforeAll(async () => {
  jpeg = await makeJpeg(320, 200);
  origin = await startOriginServer({
    '/photo.jpg': (_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(jpeg),
    '/redirect': (_req, res) => res.writeHead(302, { location: '/photo.jpg' }).end(),
    '/to-loopback': (_req, res) => res.writeHead(302, { location: `http://127.0.0.2:${origin.port}/photo.jpg` }).end(),
    '/to-metadata': (_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
    '/loop': (_req, res) => res.writeHead(302, { location: '/loop' }).end(),
    '/missing': (_req, res) => res.writeHead(404).end('gone'),
    '/error': (_req, res) => res.writeHead(500).end('boom'),
    '/slow-headers': (_req, res) => {
      const timer = setTimeout(() => res.writeHead(200).end('late'), 3000);
      res.on('close', () => clearTimeout(timer));
    },
    '/declared-huge': (_req, res) => {
      res.writeHead(200, { 'content-length': String(50 * 1024 * 1024) });
      res.write(randomBytesOf(8 * 1024));
      // never sends the rest; the upload must fail on the header alone
    },
    '/endless': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = randomBytesOf(64 * 1024);
      const pump = () => {
        while (trickled < 20 * 1024 * 1024) {
          trickled += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => {
        slowClosed = true;
      });
      pump();
    },
  });
  t = await startTestApp({ STOWAGE_URL_ALLOWLIST: '127.0.0.1/32', STOWAGE_URL_FETCH_TIMEOUT_MS: '500', STOWAGE_MAX_FILE_SIZE: String(1024 * 1024) });
});
afterAll(async () => {
  await t.close();
  await origin.close();
});

const uploadString = (file: string, fileName = 'from-string.bin') => t.gql(UPLOAD_MUTATION, { file, fileName });

describe('file as base64', () => {
  it('accepts plain base64 and data URIs, typing by the bytes', async () => {
    const plain = await uploadString(jpeg.toString('base64'), 'plain.jpg');
    expect(plain.data?.uploadFile).toMatchObject({ mime: 'image/jpeg', size: jpeg.length, width: 320, height: 200 });
    const uri = await uploadString(`data:image/png;base64,${jpeg.toString('base64')}`, 'uri.png');
    expect(uri.data?.uploadFile).toMatchObject({ mime: 'image/jpeg', size: jpeg.length });
    const served = await fetch(uri.data?.uploadFile.url);
    expect(Buffer.compare(Buffer.from(await served.arrayBuffer()), jpeg)).toBe(0);
  });

  it('works written inline in the query, as a GraphiQL user would', async () => {
    const res = await t.gql(`mutation { uploadFile(file: "${Buffer.from('hello inline').toString('base64')}", fileName: "inline.txt") { size mime } }`);
    expect(res.data?.uploadFile).toEqual({ size: 12, mime: 'text/plain' });
  });

  it.each([
    ['not base64 at all!', 'BAD_REQUEST'],
    ['', 'BAD_REQUEST'],
    ['ftp://example.com/a.jpg', 'BAD_REQUEST'],
    ['file:///etc/passwd', 'BAD_REQUEST'],
    ['data:text/plain,not-base64', 'BAD_REQUEST'],
  ])('refuses %j', async (file, code) => {
    const res = await uploadString(file);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code, parameter: 'file', status: 400 });
  });

  it('refuses base64 that decodes past the size limit', async () => {
    const res = await uploadString(randomBytesOf(1024 * 1024 + 10).toString('base64'));
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FILE_TOO_LARGE', parameter: 'file', details: { limitBytes: 1024 * 1024 } });
    expect(res.errors?.[0]?.message).toContain('exceeds 1048576 bytes limit');
  });
});

describe('file as URL', () => {
  it('downloads, following redirects', async () => {
    const res = await uploadString(`${origin.url}/redirect`, 'fetched.jpg');
    expect(res.errors).toBeUndefined();
    expect(res.data?.uploadFile).toMatchObject({ mime: 'image/jpeg', size: jpeg.length, width: 320 });
  });

  it.each([
    ['/missing', /HTTP 404/],
    ['/error', /HTTP 500/],
    ['/slow-headers', /no response within 500 ms/],
    ['/to-loopback', /127\.0\.0\.2.*refused|refused.*127\.0\.0\.2/],
    ['/to-metadata', /169\.254\.169\.254/],
    ['/loop', /redirected too many times/],
  ])('%s fails with FILE_DOWNLOAD_FAILED and stores nothing', async (path, message) => {
    const before = (await t.gql('{ files { totalCount } }')).data?.files.totalCount;
    const res = await uploadString(`${origin.url}${path}`);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FILE_DOWNLOAD_FAILED', parameter: 'file', status: 400 });
    expect(res.errors?.[0]?.message).toMatch(message);
    expect((await t.gql('{ files { totalCount } }')).data?.files.totalCount).toBe(before);
  });

  it('refuses private addresses unless the allow-list permits them', async () => {
    const strict = await startTestApp({});
    try {
      const res = await strict.gql(UPLOAD_MUTATION, { file: `${origin.url}/photo.jpg`, fileName: 'x.jpg' });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FILE_DOWNLOAD_FAILED' });
      expect(res.errors?.[0]?.message).toMatch(/private, loopback/);
      const local = await strict.gql(UPLOAD_MUTATION, { file: `http://localhost:${origin.port}/photo.jpg`, fileName: 'x.jpg' });
      expect(local.errors?.[0]?.extensions).toMatchObject({ code: 'FILE_DOWNLOAD_FAILED' });
    } finally {
      await strict.close();
    }
  });

  it('fails on a declared Content-Length over the limit for the detected type, without reading the body', async () => {
    const res = await uploadString(`${origin.url}/declared-huge`);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FILE_TOO_LARGE' });
  });

  it('stops reading a body that passes the limit while streaming', async () => {
    const res = await uploadString(`${origin.url}/endless`);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FILE_TOO_LARGE', details: { limitBytes: 1024 * 1024 } });
    await expect.poll(() => slowClosed).toBe(true);
    expect(trickled).toBeLessThan(20 * 1024 * 1024);
  });
});
