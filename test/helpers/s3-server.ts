import fs from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';

/** The parts of s3rver 3.7.1 (a Koa application, untyped) the helper uses. */
interface S3rverInstance {
  middleware: ((ctx: KoaContext, next: () => Promise<void>) => Promise<void>)[];
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
interface KoaContext {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;

/** The credentials s3rver accepts (its default account). */
const ACCESS_KEY = 'S3RVER';

export interface S3Server {
  endpoint: string;
  bucket: string;
  region: string;
  /** The variables that make a Stowage app (or process) store its blobs here, under `prefix` when given. */
  env(prefix?: string): Record<string, string>;
  /** A client for this server, as the app builds one (path-style, checksums only when required). */
  client(): S3Client;
  /** The incomplete multipart uploads s3rver keeps on disk whose key starts with `prefix`: ground truth, not the API. */
  incompleteUploads(prefix?: string): Promise<{ key: string; uploadId: string }[]>;
  /** Makes an incomplete upload (and its parts) look as if it was started and last written to at `at`. */
  backdateUpload(uploadId: string, at: Date): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Sets what the AWS SDK needs to talk to s3rver, in this process's environment (clients read it when created; child
 * processes inherit it): s3rver's credentials, and checksums only when required, because with the SDK's default
 * (`WHEN_SUPPORTED`) s3rver stores a streamed body with its aws-chunked framing (see ../shared/STACK.md §7).
 * Production code keeps the SDK's defaults.
 */
function configureSdkForS3rver(): void {
  process.env.AWS_ACCESS_KEY_ID = ACCESS_KEY;
  process.env.AWS_SECRET_ACCESS_KEY = ACCESS_KEY;
  process.env.AWS_REQUEST_CHECKSUM_CALCULATION = 'WHEN_REQUIRED';
  process.env.AWS_RESPONSE_CHECKSUM_VALIDATION = 'WHEN_REQUIRED';
}

/**
 * Starts s3rver on a free loopback port with one bucket, its files in a temp directory removed by `stop()`.
 *
 * s3rver 3.7.1 lacks what the S3 blob store relies on, so two middlewares in front of its router fill the gaps, the
 * way S3 answers (path-style requests only):
 * - three operations of multipart uploads: ListMultipartUploads (`GET /bucket?uploads`: "NotImplemented"), ListParts
 *   (`GET /bucket/key?uploadId=`) and AbortMultipartUpload (`DELETE /bucket/key?uploadId=`: "MethodNotAllowed"),
 *   answered from s3rver's own upload directories;
 * - ListObjectsV2 past one page: s3rver makes its continuation tokens with DES, which Node 20's OpenSSL 3 refuses
 *   (every truncated listing answers 500 InternalError), so V2 listings are served by its V1 listing (`marker`) with
 *   the last key as the continuation token.
 */
export async function startS3Server(bucket = 'stowage-test'): Promise<S3Server> {
  configureSdkForS3rver();
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-s3rver-'));
  const uploadsDir = path.join(directory, bucket, '._S3rver_uploads');
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] });
  // After s3rver's logger and XML encoder (which turns a plain-object body into XML), before its vhost and router.
  server.middleware.splice(2, 0, multipartShim(bucket, uploadsDir), listV2Pages());
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const region = 'us-east-1';

  const incompleteUploads = async (prefix = '') => {
    const uploads = await readUploads(uploadsDir);
    return uploads.filter((u) => u.key.startsWith(prefix)).map(({ key, uploadId }) => ({ key, uploadId }));
  };

  return {
    endpoint,
    bucket,
    region,
    env: (prefix) => ({
      STOWAGE_S3_BUCKET: bucket,
      STOWAGE_S3_ENDPOINT: endpoint,
      STOWAGE_S3_REGION: region,
      STOWAGE_S3_FORCE_PATH_STYLE: 'true',
      ...(prefix ? { STOWAGE_S3_PREFIX: prefix } : {}),
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: ACCESS_KEY,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    }),
    client: () => new S3Client({ region, endpoint, forcePathStyle: true }),
    incompleteUploads,
    async backdateUpload(uploadId, at) {
      const dir = path.join(uploadsDir, uploadId);
      for (const name of await fs.readdir(dir)) await fs.utimes(path.join(dir, name), at, at);
    },
    async stop() {
      await server.close();
      await fs.rm(directory, { recursive: true, force: true });
    },
  };
}

interface StoredUpload {
  key: string;
  uploadId: string;
  /** When it was started: the mtime of the `key` file s3rver writes then. */
  initiated: Date;
}

/** s3rver keeps each multipart upload in `<bucket>/._S3rver_uploads/<uploadId>/` with a `key` file and one file per part. */
async function readUploads(uploadsDir: string): Promise<StoredUpload[]> {
  const ids = await fs.readdir(uploadsDir).catch(() => [] as string[]);
  const uploads: StoredUpload[] = [];
  for (const uploadId of ids) {
    const keyFile = path.join(uploadsDir, uploadId, 'key');
    const [key, stat] = await Promise.all([fs.readFile(keyFile, 'utf8').catch(() => null), fs.stat(keyFile).catch(() => null)]);
    if (key !== null && stat) uploads.push({ key, uploadId, initiated: stat.mtime });
  }
  return uploads.sort((a, b) => (a.key === b.key ? cmp(a.uploadId, b.uploadId) : cmp(a.key, b.key)));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const xml = (root: string, inner: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</${root}>`;

const tag = (name: string, value: string | number | boolean) => `<${name}>${xmlEscape(String(value))}</${name}>`;

const one = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** Answers ListMultipartUploads, ListParts and AbortMultipartUpload for `bucket`; passes everything else on. */
function multipartShim(bucket: string, uploadsDir: string) {
  return async (ctx: KoaContext, next: () => Promise<void>) => {
    const [, pathBucket, ...keyParts] = ctx.path.split('/').map(decodeURIComponent);
    const key = keyParts.join('/');
    const uploadId = one(ctx.query.uploadId);
    if (pathBucket !== bucket) return next();

    const reply = (status: number, body: string) => {
      ctx.status = status;
      ctx.type = 'application/xml';
      ctx.body = body;
    };
    const noSuchUpload = () =>
      reply(404, `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${tag('Code', 'NoSuchUpload')}${tag('Message', 'The specified upload does not exist.')}${tag('UploadId', uploadId ?? '')}</Error>`);

    if (ctx.method === 'GET' && !key && 'uploads' in ctx.query) {
      const prefix = one(ctx.query.prefix) ?? '';
      const keyMarker = one(ctx.query['key-marker']) ?? '';
      const idMarker = one(ctx.query['upload-id-marker']) ?? '';
      const max = Number(one(ctx.query['max-uploads']) ?? 1000);
      const after = (u: StoredUpload) => (idMarker && u.key === keyMarker ? u.uploadId > idMarker : u.key > keyMarker);
      const matching = (await readUploads(uploadsDir)).filter((u) => u.key.startsWith(prefix) && after(u));
      const page = matching.slice(0, max);
      const truncated = matching.length > page.length;
      const last = page[page.length - 1];
      const uploads = page
        .map((u) => `<Upload>${tag('Key', u.key)}${tag('UploadId', u.uploadId)}${tag('Initiated', u.initiated.toISOString())}${tag('StorageClass', 'STANDARD')}</Upload>`)
        .join('');
      const next = truncated && last ? tag('NextKeyMarker', last.key) + tag('NextUploadIdMarker', last.uploadId) : '';
      return reply(
        200,
        xml(
          'ListMultipartUploadsResult',
          tag('Bucket', bucket) + tag('KeyMarker', keyMarker) + tag('UploadIdMarker', idMarker) + next + tag('Prefix', prefix) + tag('MaxUploads', max) + tag('IsTruncated', truncated) + uploads,
        ),
      );
    }

    if (!key || !uploadId || !/^[0-9a-f]+$/.test(uploadId)) return next();
    const dir = path.join(uploadsDir, uploadId);
    const storedKey = await fs.readFile(path.join(dir, 'key'), 'utf8').catch(() => null);

    if (ctx.method === 'DELETE') {
      if (storedKey !== key) return noSuchUpload();
      await fs.rm(dir, { recursive: true, force: true });
      ctx.status = 204;
      ctx.body = '';
      return;
    }

    if (ctx.method === 'GET') {
      if (storedKey !== key) return noSuchUpload();
      const marker = Number(one(ctx.query['part-number-marker']) ?? 0);
      const max = Number(one(ctx.query['max-parts']) ?? 1000);
      const numbers = (await fs.readdir(dir))
        .filter((name) => /^\d+$/.test(name))
        .map(Number)
        .filter((n) => n > marker)
        .sort((a, b) => a - b);
      const page = numbers.slice(0, max);
      const truncated = numbers.length > page.length;
      const parts: string[] = [];
      for (const n of page) {
        const [stat, md5] = await Promise.all([fs.stat(path.join(dir, String(n))), fs.readFile(path.join(dir, `${n}.md5`), 'utf8').catch(() => '')]);
        parts.push(`<Part>${tag('PartNumber', n)}${tag('LastModified', stat.mtime.toISOString())}${tag('ETag', `"${md5}"`)}${tag('Size', stat.size)}</Part>`);
      }
      const next = truncated ? tag('NextPartNumberMarker', page[page.length - 1] ?? marker) : '';
      return reply(
        200,
        xml(
          'ListPartsResult',
          tag('Bucket', bucket) + tag('Key', key) + tag('UploadId', uploadId) + tag('PartNumberMarker', marker) + next + tag('MaxParts', max) + tag('IsTruncated', truncated) + parts.join(''),
        ),
      );
    }
    return next();
  };
}

/** Serves ListObjectsV2 (`list-type=2`) with s3rver's V1 listing, which pages by key (`marker`) instead of DES tokens. */
function listV2Pages() {
  return async (ctx: KoaContext, next: () => Promise<void>) => {
    const [, pathBucket, ...keyParts] = ctx.path.split('/');
    if (ctx.method !== 'GET' || !pathBucket || keyParts.some(Boolean) || one(ctx.query['list-type']) !== '2') return next();
    const { 'list-type': _type, 'continuation-token': token, 'start-after': startAfter, ...rest } = ctx.query;
    const marker = token ? Buffer.from(String(one(token)), 'base64url').toString('utf8') : one(startAfter);
    ctx.query = { ...rest, ...(marker ? { marker } : {}) };
    await next();
    const result = (ctx.body as { ListBucketResult?: Record<string, unknown> } | undefined)?.ListBucketResult;
    if (!result) return;
    const contents = (result.Contents ?? []) as { Key: string }[];
    const last = contents[contents.length - 1];
    delete result.Marker;
    delete result.NextMarker;
    result.KeyCount = contents.length;
    if (token) result.ContinuationToken = one(token);
    if (result.IsTruncated && last) result.NextContinuationToken = Buffer.from(last.Key, 'utf8').toString('base64url');
  };
}
