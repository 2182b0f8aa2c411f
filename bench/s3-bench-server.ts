/**
 * The S3 side of `npm run bench`: s3rver (a dev dependency) on a free loopback port, with one bucket, for the
 * "S3 (s3rver on loopback)" rows of (a) and (b). Stowage runs in the benchmark process with `STOWAGE_S3_*` pointing
 * at it; s3rver itself runs in a child process (s3rver-process.ts), so its work is not counted as Stowage's.
 *
 * s3rver is a local test server: it writes every part to the same disk as everything else (and copies a multipart
 * upload's parts into the object when the upload completes), so these rows measure the overhead of Stowage's S3 path
 * (AWS SDK, lib-storage part buffering, HTTP on loopback) plus s3rver's own cost, not real S3.
 *
 * Unlike test/helpers/s3-server.ts (the bench does not import test helpers), this does not add the multipart
 * listing/abort operations s3rver lacks: uploads need none of them. Only the janitor's sweep does (its first run
 * is 60 s after the app starts, and a failed run is just logged), and a failed upload's abort (which fails the
 * benchmark anyway).
 *
 * When s3rver is not installed (`npm ci --omit=dev`) or does not start, the S3 rows are skipped with the reason.
 */
import { type ChildProcess, fork } from 'node:child_process';
import fsp from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { DeleteObjectCommand, ListObjectsCommand, S3Client } from '@aws-sdk/client-s3';
import { oneLine } from './postgres-bench-db.js';

const BUCKET = 'stowage-bench';
const REGION = 'us-east-1';
/** The credentials s3rver accepts (its default account). */
const ACCESS_KEY = 'S3RVER';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

/**
 * What the AWS SDK in this process needs to talk to s3rver: its credentials, and checksums only when required,
 * because with the SDK's default s3rver stores a streamed body with its aws-chunked framing (../shared/STACK.md §7).
 * Set in `process.env` (the app builds its client from the SDK's default chain) while the server runs.
 */
const SDK_ENV: Readonly<Record<string, string>> = {
  AWS_ACCESS_KEY_ID: ACCESS_KEY,
  AWS_SECRET_ACCESS_KEY: ACCESS_KEY,
  AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
  AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
};

/** How the S3 rows are to be read; printed with them and stored in the results. */
export const S3_NOTE =
  "s3rver is a local test server (a child process on 127.0.0.1) that stores every part on the same disk (and copies a multipart upload's parts into one file before it answers the completion), so the S3 rows measure Stowage's S3 path overhead, not real S3";

export interface BenchS3Server {
  available: true;
  /** For the report, e.g. "s3rver 3.7.1 at http://127.0.0.1:40123, bucket stowage-bench". */
  description: string;
  /** The `STOWAGE_S3_*` settings that make an app store its blobs here, under `prefix`. */
  env(prefix: string): Record<string, string>;
  /** Deletes every object whose key starts with `prefix` (outside any timing); returns how many. */
  deleteUnder(prefix: string): Promise<number>;
  /** Stops s3rver, removes its directory and restores the AWS variables; a second call does nothing. */
  close(): Promise<void>;
}

export interface BenchS3Skipped {
  available: false;
  /** Why the S3 rows are skipped, for the report. */
  reason: string;
}

export type BenchS3 = BenchS3Server | BenchS3Skipped;

/** s3rver's version, or why it cannot be loaded. */
function s3rverVersion(): { version: string } | { reason: string } {
  const require = createRequire(import.meta.url);
  try {
    require.resolve('s3rver');
    return { version: (require('s3rver/package.json') as { version: string }).version };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      return { reason: 's3rver (a dev dependency) is not installed, e.g. after npm ci --omit=dev; run npm ci to include it' };
    }
    return { reason: `s3rver cannot be loaded: ${oneLine(error)}` };
  }
}

/** Forks s3rver-process.ts (with this process's loader flags, i.e. tsx) and waits for the port it listens on. */
function forkS3rver(directory: string): Promise<{ child: ChildProcess; port: number }> {
  const script = fileURLToPath(new URL('./s3rver-process.ts', import.meta.url));
  const child = fork(script, [directory, BUCKET], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.removeAllListeners('message');
      child.removeAllListeners('exit');
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`it did not listen within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    child.once('error', fail);
    child.once('exit', (code, signal) => fail(new Error(`its process exited (${signal ?? `code ${code}`}) before listening`)));
    child.once('message', (message) => {
      const port = (message as { port?: unknown })?.port;
      if (typeof port !== 'number') return fail(new Error(`unexpected message ${JSON.stringify(message)}`));
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.removeAllListeners('error');
      resolve({ child, port });
    });
  });
}

/** Waits for `child` to exit after its IPC channel is closed; kills it when it does not within a few seconds. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.disconnect();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS);
  });
  if (await Promise.race([exited.then(() => false), timedOut])) {
    child.kill('SIGKILL');
    await exited;
  }
  clearTimeout(timer);
}

/** Sets `vars` in `process.env`; returns what puts the previous values back. */
function setEnv(vars: Readonly<Record<string, string>>): () => void {
  const previous = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/** Starts s3rver with its files in `directory` (created; removed by `close()`), or says why the S3 rows are skipped. */
export async function startBenchS3(directory: string): Promise<BenchS3> {
  const loaded = s3rverVersion();
  if ('reason' in loaded) return { available: false, reason: loaded.reason };
  await fsp.mkdir(directory, { recursive: true });
  let started: { child: ChildProcess; port: number };
  try {
    started = await forkS3rver(directory);
  } catch (error) {
    await fsp.rm(directory, { recursive: true, force: true });
    return { available: false, reason: `s3rver ${loaded.version} did not start: ${oneLine(error)}` };
  }
  const { child, port } = started;
  const endpoint = `http://127.0.0.1:${port}`;
  const restoreEnv = setEnv(SDK_ENV);
  const client = new S3Client({
    region: REGION,
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  let closed = false;

  return {
    available: true,
    description: `s3rver ${loaded.version} at ${endpoint}, bucket ${BUCKET}`,
    env: (prefix) => ({
      STOWAGE_S3_BUCKET: BUCKET,
      STOWAGE_S3_ENDPOINT: endpoint,
      STOWAGE_S3_REGION: REGION,
      STOWAGE_S3_FORCE_PATH_STYLE: 'true',
      STOWAGE_S3_PREFIX: prefix,
    }),
    // ListObjects (V1) pages by key: s3rver's V2 continuation tokens need DES, which Node 20's OpenSSL refuses.
    async deleteUnder(prefix) {
      let deleted = 0;
      let Marker: string | undefined;
      for (;;) {
        const page = await client.send(new ListObjectsCommand({ Bucket: BUCKET, Prefix: prefix, Marker }));
        const keys = (page.Contents ?? []).map((o) => o.Key).filter((k): k is string => !!k);
        for (const Key of keys) await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key }));
        deleted += keys.length;
        if (!page.IsTruncated || keys.length === 0) return deleted;
        Marker = keys[keys.length - 1];
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      client.destroy();
      await stopChild(child);
      restoreEnv();
      await fsp.rm(directory, { recursive: true, force: true });
    },
  };
}
