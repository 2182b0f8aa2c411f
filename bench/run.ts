/**
 * Upload benchmarks for Stowage (`npm run bench`). Not a test: it prints figures and exits 0 whether or not
 * the targets are met (it exits 1 only when a benchmark could not run at all, e.g. an upload failed).
 *
 * (a) One 300 MiB multipart upload, sent by a curl child process, against
 *       - baseline: a plain node:http + busboy server in this process piping the file part to disk, and
 *       - stowage:  the real app (createApp) with a temp data dir.
 *     An extra "baseline + hash + fsync" variant (same busboy server, but hashes the bytes with SHA-256 and fsyncs
 *     the file before answering, as Stowage does) is measured for context; the target ratio uses the plain baseline.
 *     1 warm-up + 3 measured runs per server, interleaved; the median is reported.
 *     The server's RSS is sampled every 10 ms during each upload; growth = peak - RSS after gc() just before.
 *     Also, in the same interleaving, Stowage with its blobs in S3 (see "S3 rows" below).
 * (b) ~100 KB JPEG uploads at concurrency 8 with fetch + FormData from this process: uploads/s, p50/p95; Stowage
 *     on SQLite and on PostgreSQL (the app with STOWAGE_DATABASE_URL, in a schema of a throwaway database), and
 *     on SQLite with its blobs in S3.
 * (c)-(g) see library-bench.ts (also on PostgreSQL), analysis-bench.ts, fanout-bench.ts, models-bench.ts,
 *     delivery-bench.ts; (h) see event-loop-bench.ts.
 *
 * PostgreSQL: the server at STOWAGE_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test) gets a
 * throwaway database `stowage_bench_<pid>_<time>` for (b) and (c), dropped WITH (FORCE) at the end, also on failure
 * (see postgres-bench-db.ts). When it cannot be reached (or STOWAGE_BENCH_POSTGRES_URL=off), the PostgreSQL rows are
 * skipped, with the reason printed, and the rest runs.
 *
 * S3 rows ("— S3 (s3rver on loopback)"): the app with STOWAGE_S3_* pointing at s3rver, which the benchmark starts in a
 * child process on a free loopback port (s3-bench-server.ts). s3rver is a local test server that stores every part
 * on the same disk, so these rows measure Stowage's S3 path overhead, not real S3. When s3rver is not installed
 * (npm ci --omit=dev) or does not start, the S3 rows are skipped, with the reason printed.
 *
 * `npm run bench -- --only=b,c` runs only the parts named (letters a-h). A partial run writes its figures to the
 * git-ignored results.local.json like any ordinary run; `--save-reference` (which writes results.json) needs a full run.
 *
 * Everything binds to 127.0.0.1 only; all temp files are removed at the end.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import busboy from 'busboy';
import sharp from 'sharp';
import { type App, createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { runAnalysisBench } from './analysis-bench.js';
import { runDeliveryBench } from './delivery-bench.js';
import { runEventLoopBench } from './event-loop-bench.js';
import { runFanoutBench } from './fanout-bench.js';
import { runLibraryBench } from './library-bench.js';
import { runModelsBench } from './models-bench.js';
import { type BenchPostgres, createBenchPostgres, postgresEnv } from './postgres-bench-db.js';
import { resultsFile } from './results-file.js';
import { judgeTargets, targetsTable } from './targets.js';
import { type BenchS3, S3_NOTE, startBenchS3 } from './s3-bench-server.js';

const MiB = 1024 * 1024;
const HOST = '127.0.0.1';
const KEY = 'private_bench_key';
const AUTH = `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`;

const LARGE_BYTES = 300 * MiB;
const LARGE_WARMUP = 1;
const LARGE_RUNS = 3;
const SMALL_TARGET_BYTES = 100 * 1000;
const SMALL_WARMUP = 20;
const SMALL_COUNT = 400;
const SMALL_CONCURRENCY = 8;
const RSS_SAMPLE_MS = 10;

const TARGET_RATIO = 0.8;
const TARGET_RSS_BYTES = 64 * 1000 * 1000; // "64 MB"

/** The S3 app's key prefix in the benchmark bucket (STOWAGE_S3_PREFIX). */
const S3_PREFIX = 'bench';
/** Ends the label of every S3 row. */
const S3_LABEL = 'S3 (s3rver on loopback)';

const MUTATION = 'mutation($f: Upload!){ uploadFile(file: $f, fileName: "big.bin", useUniqueFileName: true) { fileId size } }';
const SMALL_MUTATION = 'mutation($f: Upload!){ uploadFile(file: $f, fileName: "photo.jpg", useUniqueFileName: true) { fileId size } }';
const operations = (query: string) => JSON.stringify({ query, variables: { f: null } });
const MAP = JSON.stringify({ 0: ['variables.f'] });

const benchDir = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------------- helpers

const log = (line: string) => process.stderr.write(`${line}\n`);

function collectGarbage(): void {
  if (globalThis.gc) {
    globalThis.gc();
    globalThis.gc();
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1] as number;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const mb = (bytes: number) => round(bytes / 1e6, 1);

/** Samples this process's RSS every few ms; `stop()` returns the peak seen. */
class RssSampler {
  private peak = 0;
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    this.peak = process.memoryUsage.rss();
    this.timer = setInterval(() => {
      const rss = process.memoryUsage.rss();
      if (rss > this.peak) this.peak = rss;
    }, RSS_SAMPLE_MS);
  }

  stop(): number {
    if (this.timer) clearInterval(this.timer);
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
    return this.peak;
  }
}

async function writeRandomFile(file: string, bytes: number): Promise<void> {
  const chunk = MiB;
  async function* chunks() {
    for (let left = bytes; left > 0; left -= chunk) yield randomBytes(Math.min(chunk, left));
  }
  await pipeline(Readable.from(chunks()), fs.createWriteStream(file));
}

/** Deterministic PRNG (mulberry32), so the JPEG is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 500x400 JPEG (quality 90): a colour gradient plus noise whose amplitude is tuned to land near `target` bytes. */
async function makeJpeg(target: number): Promise<Buffer> {
  const width = 500;
  const height = 400;
  const encode = async (amplitude: number) => {
    const rand = prng(42);
    const pixels = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 3;
        const base = [(x / width) * 255, (y / height) * 255, ((x + y) / (width + height)) * 255];
        for (let c = 0; c < 3; c++) {
          const v = (base[c] as number) + (rand() - 0.5) * amplitude;
          pixels[i + c] = Math.max(0, Math.min(255, Math.round(v)));
        }
      }
    }
    return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
  };
  let lo = 0;
  let hi = 255;
  let best = await encode(hi);
  for (let i = 0; i < 12; i++) {
    const mid = (lo + hi) / 2;
    const jpeg = await encode(mid);
    if (Math.abs(jpeg.length - target) < Math.abs(best.length - target)) best = jpeg;
    if (jpeg.length < target) lo = mid;
    else hi = mid;
    if (Math.abs(jpeg.length - target) < target * 0.01) break;
  }
  return best;
}

// ------------------------------------------------------------------------------------ baseline server

interface Server {
  url: string;
  close(): Promise<void>;
}

/**
 * The reference: node:http + busboy, the file part piped straight to a file with fs.createWriteStream, 200 once
 * the body is read and the file written. `?fsync=1` also hashes the bytes (SHA-256, as Stowage does) and fsyncs the
 * file before answering.
 */
async function startBaseline(dir: string): Promise<Server> {
  let counter = 0;
  const server = http.createServer((req, res) => {
    const fail = (error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    };
    if (req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    const doSync = (req.url ?? '').includes('fsync=1');
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers });
    } catch (error) {
      res.writeHead(400).end(String(error));
      return;
    }
    const written: Promise<number>[] = [];
    parser.on('file', (_name, stream) => {
      const file = path.join(dir, `upload-${++counter}`);
      const out = fs.createWriteStream(file);
      if (doSync) {
        const hash = createHash('sha256');
        stream.on('data', (chunk: Buffer) => hash.update(chunk));
        stream.once('end', () => hash.digest('hex'));
      }
      written.push(
        pipeline(stream, out).then(async () => {
          if (doSync) {
            const handle = await fsp.open(file, 'r+');
            try {
              await handle.sync();
            } finally {
              await handle.close();
            }
          }
          return out.bytesWritten;
        }),
      );
    });
    parser.on('error', fail);
    parser.on('close', () => {
      Promise.all(written).then((sizes) => {
        const body = JSON.stringify({ size: sizes[0] ?? 0 });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      }, fail);
    });
    req.pipe(parser);
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${HOST}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ------------------------------------------------------------------------------------- stowage server

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The app on a temp data dir; `env` adds settings (the PostgreSQL database). */
async function startStowage(dataDir: string, env: Record<string, string> = {}): Promise<Server & { app: App; blobDir: string }> {
  const port = await freePort();
  const config = loadConfig({
    HOST,
    PORT: String(port),
    STOWAGE_DATA_DIR: dataDir,
    STOWAGE_PRIVATE_KEY: KEY,
    STOWAGE_LOG_LEVEL: 'silent',
    STOWAGE_MAX_FILE_SIZE: String(400 * MiB),
    STOWAGE_MAX_VIDEO_SIZE: String(400 * MiB),
    STOWAGE_URL_ENDPOINT: `http://${HOST}:${port}`,
    ...env,
  });
  const app = await createApp(config);
  const url = await app.listen(port, HOST);
  return { app, url, blobDir: path.join(dataDir, 'blobs', 'files'), close: () => app.close() };
}

// ---------------------------------------------------------------------------------- (a) large uploads

interface CurlResult {
  status: number;
  body: string;
  wallMs: number;
}

/** One multipart upload by a curl child process; wall time is measured here, from spawn to exit. */
function curlUpload(url: string, file: string, query: string): Promise<CurlResult> {
  const args = [
    '-sS',
    '-H',
    'Expect:',
    '-u',
    `${KEY}:`,
    '--form-string',
    `operations=${operations(query)}`,
    '--form-string',
    `map=${MAP}`,
    '-F',
    `0=@${file};type=application/octet-stream`,
    '-w',
    '\n%{http_code}',
    url,
  ];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('error', reject);
    child.once('close', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) {
        reject(new Error(`curl exited with ${code}: ${err.trim()}`));
        return;
      }
      const cut = out.lastIndexOf('\n');
      resolve({ status: Number(out.slice(cut + 1)), body: out.slice(0, cut), wallMs });
    });
  });
}

interface LargeRun {
  wallMs: number;
  mibPerSec: number;
  rssBeforeBytes: number;
  rssGrowthBytes: number;
  cpuMs: number;
  /** Event-loop utilisation of this (server) process during the upload, 0..1. */
  elu: number;
}

type LargeTarget = 'baseline' | 'baselineFsync' | 'stowage' | 'stowageS3';

async function largeUpload(kind: LargeTarget, url: string, file: string, cleanup: () => Promise<void>): Promise<LargeRun> {
  collectGarbage();
  await new Promise((r) => setTimeout(r, 50));
  const rssBefore = process.memoryUsage.rss();
  const sampler = new RssSampler();
  const cpuBefore = process.cpuUsage();
  const eluBefore = performance.eventLoopUtilization();
  sampler.start();
  const result = await curlUpload(url, file, MUTATION);
  const peak = sampler.stop();
  const cpu = process.cpuUsage(cpuBefore);
  const elu = performance.eventLoopUtilization(eluBefore).utilization;
  if (result.status !== 200) throw new Error(`${kind}: HTTP ${result.status}: ${result.body.slice(0, 500)}`);
  const json = JSON.parse(result.body) as { size?: number; data?: { uploadFile?: { size?: number } }; errors?: unknown };
  const size = kind.startsWith('stowage') ? json.data?.uploadFile?.size : json.size;
  if (size !== LARGE_BYTES) throw new Error(`${kind}: expected size ${LARGE_BYTES}, got ${result.body.slice(0, 500)}`);
  await cleanup();
  return {
    wallMs: result.wallMs,
    mibPerSec: LARGE_BYTES / MiB / (result.wallMs / 1000),
    rssBeforeBytes: rssBefore,
    rssGrowthBytes: Math.max(0, peak - rssBefore),
    cpuMs: (cpu.user + cpu.system) / 1000,
    elu,
  };
}

// ---------------------------------------------------------------------------------- (b) small uploads

interface SmallResult {
  count: number;
  elapsedMs: number;
  uploadsPerSec: number;
  p50Ms: number;
  p95Ms: number;
  cpuMs: number;
  elu: number;
}

async function smallUploads(url: string, jpeg: Buffer, count: number, check: (json: unknown) => boolean): Promise<SmallResult> {
  const blob = new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' });
  const latencies: number[] = [];
  let next = 0;
  const one = async () => {
    const form = new FormData();
    form.set('operations', operations(SMALL_MUTATION));
    form.set('map', MAP);
    form.set('0', blob, 'photo.jpg');
    const t0 = performance.now();
    const response = await fetch(url, { method: 'POST', headers: { authorization: AUTH }, body: form });
    const text = await response.text();
    latencies.push(performance.now() - t0);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (response.status !== 200 || !check(json)) throw new Error(`HTTP ${response.status}: ${text.slice(0, 500)}`);
  };
  const worker = async () => {
    while (next < count) {
      next++;
      await one();
    }
  };
  const cpuBefore = process.cpuUsage();
  const eluBefore = performance.eventLoopUtilization();
  const started = performance.now();
  await Promise.all(Array.from({ length: SMALL_CONCURRENCY }, worker));
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const elu = performance.eventLoopUtilization(eluBefore).utilization;
  return {
    count,
    elapsedMs,
    uploadsPerSec: count / (elapsedMs / 1000),
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    cpuMs: (cpu.user + cpu.system) / 1000,
    elu,
  };
}

// -------------------------------------------------------------------------------------------- main

const ALL_PARTS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] as const;
type Part = (typeof ALL_PARTS)[number];

/** The parts `--only=b,c` (or `--only b,c`) selects; all of them without it. */
function selectedParts(argv: readonly string[]): Set<Part> {
  const at = argv.findIndex((a) => a === '--only' || a.startsWith('--only='));
  if (at < 0) return new Set(ALL_PARTS);
  const arg = argv[at] as string;
  const value = arg === '--only' ? argv[at + 1] : arg.slice('--only='.length);
  const letters = (value ?? '').split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
  const bad = letters.filter((x) => !(ALL_PARTS as readonly string[]).includes(x));
  if (letters.length === 0 || bad.length) throw new Error(`--only takes parts ${ALL_PARTS.join(',')} separated by commas, e.g. --only=b,c; got ${JSON.stringify(value ?? '')}`);
  return new Set(letters as Part[]);
}

type SmallTarget = LargeTarget | 'stowagePostgres';

/** One (a) target's figures over its measured runs. */
interface LargeSummary {
  runsMs: number[];
  medianMs: number;
  mibPerSec: number;
  medianCpuMs: number;
  medianEventLoopUtilization: number;
  peakRssGrowthMB: number;
  rssGrowthMBPerRun: number[];
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  const argv = process.argv.slice(2);
  const parts = selectedParts(argv);
  const partial = parts.size < ALL_PARTS.length;
  if (partial && argv.includes('--save-reference')) throw new Error('--save-reference writes the reference figures, which need a full run: drop --only');
  if (partial) log(`running only part(s) ${[...parts].join(', ')}`);
  if (!globalThis.gc) log('warning: run with --expose-gc (npm run bench does) for meaningful RSS figures');
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'stowage-bench-'));
  const servers: Server[] = [];
  let postgres: BenchPostgres = { available: false, reason: 'not needed by the selected parts' };
  try {
    if (parts.has('b') || parts.has('c')) {
      postgres = await createBenchPostgres(process.env, log);
      if (!postgres.available) log(`PostgreSQL rows skipped: ${postgres.reason}`);
    }
    const results: Record<string, unknown> = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? null,
      runtimeSeconds: 0,
      ...(partial ? { parts: [...parts] } : {}),
      postgres: postgres.available ? { server: postgres.server, database: postgres.name } : { skipped: postgres.reason },
    };
    const yesNo = (ok: boolean) => (ok ? 'MET' : 'NOT MET');
    const rows: string[][] = [['benchmark', 'baseline', 'stowage', 'ratio', 'target']];
    const summary: string[] = [];

    if (parts.has('a') || parts.has('b')) {
      const baselineDir = path.join(tmp, 'baseline');
      await fsp.mkdir(baselineDir);
      const baseline = await startBaseline(baselineDir);
      servers.push(baseline);
      const stowage = await startStowage(path.join(tmp, 'stowage'));
      servers.push(stowage);
      const gqlUrl = `${stowage.url}/graphql`;
      const clearBaselineFiles = async () => {
        for (const name of await fsp.readdir(baselineDir)) await fsp.rm(path.join(baselineDir, name), { force: true });
      };
      // Stowage on SQLite with its blobs in S3 (s3rver in a child process); closed before s3rver (servers close in reverse).
      const s3: BenchS3 = await startBenchS3(path.join(tmp, 's3rver'));
      let stowageS3: (Server & { app: App }) | undefined;
      if (s3.available) {
        servers.push({ url: s3.description, close: () => s3.close() });
        stowageS3 = await startStowage(path.join(tmp, 'stowage-s3'), s3.env(S3_PREFIX));
        servers.push(stowageS3);
        log(`S3 rows: Stowage on SQLite with its blobs in ${s3.description} (prefix ${S3_PREFIX}/)`);
      } else {
        log(`S3 rows skipped: ${s3.reason}`);
      }
      results.s3 = s3.available ? { server: s3.description, prefix: S3_PREFIX, metadata: 'SQLite', note: S3_NOTE } : { skipped: s3.reason };

      if (parts.has('a')) {
        const bigFile = path.join(tmp, 'big.bin');
        log(`writing ${LARGE_BYTES / MiB} MiB of random bytes to ${bigFile} ...`);
        await writeRandomFile(bigFile, LARGE_BYTES);
        // Stored 300 MiB files are removed after each run (outside the timing) to keep disk use flat.
        const clearStowageBlobs = async () => {
          for (const name of await fsp.readdir(stowage.blobDir).catch(() => [] as string[])) {
            await fsp.rm(path.join(stowage.blobDir, name), { force: true, recursive: true });
          }
        };
        const clearS3Blobs = async () => {
          if (s3.available) await s3.deleteUnder(`${S3_PREFIX}/files/`);
        };
        const targets: Partial<Record<LargeTarget, () => Promise<LargeRun>>> = {
          baseline: () => largeUpload('baseline', `${baseline.url}/upload`, bigFile, clearBaselineFiles),
          baselineFsync: () => largeUpload('baselineFsync', `${baseline.url}/upload?fsync=1`, bigFile, clearBaselineFiles),
          stowage: () => largeUpload('stowage', gqlUrl, bigFile, clearStowageBlobs),
          ...(stowageS3 ? { stowageS3: () => largeUpload('stowageS3', `${stowageS3.url}/graphql`, bigFile, clearS3Blobs) } : {}),
        };
        const order = (['baseline', 'baselineFsync', 'stowage', 'stowageS3'] as const).filter((kind) => targets[kind]);

        // (a) 300 MiB uploads, interleaved.
        const runs: Record<LargeTarget, LargeRun[]> = { baseline: [], baselineFsync: [], stowage: [], stowageS3: [] };
        for (let i = 0; i < LARGE_WARMUP; i++) {
          for (const kind of order) {
            const r = await (targets[kind] as () => Promise<LargeRun>)();
            log(`(a) warm-up  ${kind.padEnd(13)} ${round(r.wallMs, 0)} ms  ${round(r.mibPerSec)} MiB/s`);
          }
        }
        for (let i = 0; i < LARGE_RUNS; i++) {
          for (const kind of order) {
            const r = await (targets[kind] as () => Promise<LargeRun>)();
            runs[kind].push(r);
            log(
              `(a) run ${i + 1}    ${kind.padEnd(13)} ${round(r.wallMs, 0)} ms  ${round(r.mibPerSec)} MiB/s  ` +
                `RSS +${mb(r.rssGrowthBytes)} MB  server CPU ${round(r.cpuMs, 0)} ms  event loop ${round(r.elu * 100, 0)}% busy`,
            );
          }
        }
        await fsp.rm(bigFile, { force: true });
        const large = Object.fromEntries(
          order.map((kind) => {
            const rs = runs[kind];
            const wallMs = median(rs.map((r) => r.wallMs));
            return [
              kind,
              {
                runsMs: rs.map((r) => round(r.wallMs, 0)),
                medianMs: round(wallMs, 0),
                mibPerSec: round(LARGE_BYTES / MiB / (wallMs / 1000)),
                medianCpuMs: round(median(rs.map((r) => r.cpuMs)), 0),
                medianEventLoopUtilization: round(median(rs.map((r) => r.elu)), 2),
                peakRssGrowthMB: mb(Math.max(...rs.map((r) => r.rssGrowthBytes))),
                rssGrowthMBPerRun: rs.map((r) => mb(r.rssGrowthBytes)),
              },
            ];
          }),
        ) as Record<Exclude<LargeTarget, 'stowageS3'>, LargeSummary> & { stowageS3?: LargeSummary };
        const largeRatio = large.stowage.mibPerSec / large.baseline.mibPerSec;
        const largeRatioFsync = large.stowage.mibPerSec / large.baselineFsync.mibPerSec;
        const stowagePeakRss = Math.max(...runs.stowage.map((r) => r.rssGrowthBytes));
        const ratioOk = largeRatio >= TARGET_RATIO;
        const rssOk = stowagePeakRss < TARGET_RSS_BYTES;
        rows.push(
          [
            '(a) 300 MiB upload, MiB/s (median of 3)',
            String(large.baseline.mibPerSec),
            String(large.stowage.mibPerSec),
            round(largeRatio, 2).toFixed(2),
            `>= ${TARGET_RATIO}: ${yesNo(ratioOk)}`,
          ],
          [
            '(a) 300 MiB upload, ms (median of 3)',
            String(large.baseline.medianMs),
            String(large.stowage.medianMs),
            round(large.baseline.medianMs / large.stowage.medianMs, 2).toFixed(2),
            '',
          ],
          [
            '(a) context: vs baseline + hash + fsync, MiB/s',
            String(large.baselineFsync.mibPerSec),
            String(large.stowage.mibPerSec),
            round(largeRatioFsync, 2).toFixed(2),
            '(info)',
          ],
          [
            '(a) server CPU per upload, ms (median)',
            String(large.baseline.medianCpuMs),
            String(large.stowage.medianCpuMs),
            round(large.stowage.medianCpuMs / large.baseline.medianCpuMs, 2).toFixed(2),
            '(info; stowage/baseline)',
          ],
          [
            '(a) server event loop busy, % (median)',
            String(round(large.baseline.medianEventLoopUtilization * 100, 0)),
            String(round(large.stowage.medianEventLoopUtilization * 100, 0)),
            '',
            '(info)',
          ],
          [
            '(a) peak RSS growth, MB (max of 3)',
            String(large.baseline.peakRssGrowthMB),
            String(large.stowage.peakRssGrowthMB),
            '',
            `stowage < 64 MB: ${yesNo(rssOk)}`,
          ],
        );
        summary.push(
          `RSS: stowage peak RSS growth during the 300 MiB uploads = ${mb(stowagePeakRss)} MB (per run: ${large.stowage.rssGrowthMBPerRun.join(', ')} MB; ` +
            `baseline: ${large.baseline.rssGrowthMBPerRun.join(', ')} MB); target < 64 MB: ${yesNo(rssOk)}`,
          `Throughput: stowage/baseline = ${round(largeRatio, 2).toFixed(2)} (target >= ${TARGET_RATIO}): ${yesNo(ratioOk)}`,
          `Runs (ms): baseline ${large.baseline.runsMs.join(', ')}; baseline+hash+fsync ${large.baselineFsync.runsMs.join(', ')}; stowage ${large.stowage.runsMs.join(', ')}`,
        );
        const largeS3 = large.stowageS3;
        if (largeS3) {
          const s3RssOk = largeS3.peakRssGrowthMB * 1e6 < TARGET_RSS_BYTES;
          rows.push(
            [
              `(a) 300 MiB upload, MiB/s (median of 3) — ${S3_LABEL}`,
              String(large.baseline.mibPerSec),
              String(largeS3.mibPerSec),
              round(largeS3.mibPerSec / large.baseline.mibPerSec, 2).toFixed(2),
              '(info; not real S3)',
            ],
            [`(a) 300 MiB upload, ms (median of 3) — ${S3_LABEL}`, String(large.baseline.medianMs), String(largeS3.medianMs), round(large.baseline.medianMs / largeS3.medianMs, 2).toFixed(2), ''],
            [
              `(a) S3 vs local disk, MiB/s (baseline column = Stowage on local disk) — ${S3_LABEL}`,
              String(large.stowage.mibPerSec),
              String(largeS3.mibPerSec),
              round(largeS3.mibPerSec / large.stowage.mibPerSec, 2).toFixed(2),
              '(info; S3/local)',
            ],
            [
              `(a) server CPU per upload, ms (median; not s3rver) — ${S3_LABEL}`,
              String(large.baseline.medianCpuMs),
              String(largeS3.medianCpuMs),
              round(largeS3.medianCpuMs / large.baseline.medianCpuMs, 2).toFixed(2),
              '(info; stowage/baseline)',
            ],
            [
              `(a) server event loop busy, % (median) — ${S3_LABEL}`,
              String(round(large.baseline.medianEventLoopUtilization * 100, 0)),
              String(round(largeS3.medianEventLoopUtilization * 100, 0)),
              '',
              '(info)',
            ],
            [`(a) peak RSS growth, MB (max of 3; not s3rver) — ${S3_LABEL}`, String(large.baseline.peakRssGrowthMB), String(largeS3.peakRssGrowthMB), '', `(info) stowage < 64 MB: ${yesNo(s3RssOk)}`],
          );
          summary.push(
            `S3 (a): Stowage on S3 (s3rver) / on local disk = ${round(largeS3.mibPerSec / large.stowage.mibPerSec, 2).toFixed(2)} (${largeS3.mibPerSec} vs ${large.stowage.mibPerSec} MiB/s); ` +
              `peak RSS growth per run ${largeS3.rssGrowthMBPerRun.join(', ')} MB; runs (ms) ${largeS3.runsMs.join(', ')}`,
          );
        } else {
          rows.push([`(a) 300 MiB upload, MiB/s (median of 3) — ${S3_LABEL}`, String(large.baseline.mibPerSec), 'skipped', '', 'see "S3 rows skipped"']);
        }
        results.large = {
          bytes: LARGE_BYTES,
          warmup: LARGE_WARMUP,
          runs: LARGE_RUNS,
          client: 'curl child process',
          ...large,
          ratio: round(largeRatio, 3),
          ratioVsBaselineFsync: round(largeRatioFsync, 3),
          targetRatio: TARGET_RATIO,
          ratioMet: ratioOk,
          stowagePeakRssGrowthMB: mb(stowagePeakRss),
          targetRssGrowthMB: TARGET_RSS_BYTES / 1e6,
          rssMet: rssOk,
          ...(largeS3 ? { s3VsLocalDisk: round(largeS3.mibPerSec / large.stowage.mibPerSec, 3) } : { s3Skipped: s3.available ? 'no result' : s3.reason }),
        };
      }

      if (parts.has('b')) {
        const jpeg = await makeJpeg(SMALL_TARGET_BYTES);
        log(`test JPEG: 500x400, ${jpeg.length} bytes`);
        // Stowage on PostgreSQL: its own data dir (blobs) and a schema of the benchmark database (metadata).
        let stowagePostgres: (Server & { blobDir: string }) | undefined;
        if (postgres.available) {
          stowagePostgres = await startStowage(path.join(tmp, 'stowage-postgres'), postgresEnv(postgres, 'small_uploads'));
          servers.push(stowagePostgres);
        }

        // (b) ~100 KB JPEGs at concurrency 8.
        const isBaselineOk = (json: unknown) => (json as { size?: number })?.size === jpeg.length;
        const isStowageOk = (json: unknown) => (json as { data?: { uploadFile?: { size?: number } } })?.data?.uploadFile?.size === jpeg.length;
        const smallTargets: Partial<Record<SmallTarget, (n: number) => Promise<SmallResult>>> = {
          baseline: (n) => smallUploads(`${baseline.url}/upload`, jpeg, n, isBaselineOk),
          baselineFsync: (n) => smallUploads(`${baseline.url}/upload?fsync=1`, jpeg, n, isBaselineOk),
          stowage: (n) => smallUploads(gqlUrl, jpeg, n, isStowageOk),
          ...(stowagePostgres ? { stowagePostgres: (n: number) => smallUploads(`${stowagePostgres.url}/graphql`, jpeg, n, isStowageOk) } : {}),
          ...(stowageS3 ? { stowageS3: (n: number) => smallUploads(`${stowageS3.url}/graphql`, jpeg, n, isStowageOk) } : {}),
        };
        const smallOrder = (['baseline', 'baselineFsync', 'stowage', 'stowagePostgres', 'stowageS3'] as const).filter((kind) => smallTargets[kind]);
        const small: Partial<Record<SmallTarget, SmallResult>> = {};
        for (const kind of smallOrder) {
          const run = smallTargets[kind] as (n: number) => Promise<SmallResult>;
          await run(SMALL_WARMUP);
          collectGarbage();
          const s = await run(SMALL_COUNT);
          small[kind] = s;
          log(`(b) ${kind.padEnd(15)} ${round(s.uploadsPerSec)} uploads/s  p50 ${round(s.p50Ms)} ms  p95 ${round(s.p95Ms)} ms  CPU ${round(s.cpuMs / s.count, 2)} ms/upload  event loop ${round(s.elu * 100, 0)}% busy`);
        }
        const base = small.baseline as SmallResult;
        const baseFsync = small.baselineFsync as SmallResult;
        const dialectRows = (label: string, s: SmallResult | undefined, cpuNote: string, skippedNote = 'PostgreSQL rows skipped') => {
          const jpegLabel = `(b) ${round(jpeg.length / 1000, 0)} KB JPEG, uploads/s @${SMALL_CONCURRENCY} — ${label}`;
          if (!s) return [[jpegLabel, String(round(base.uploadsPerSec)), 'skipped', '', `see "${skippedNote}"`]];
          return [
            [jpegLabel, String(round(base.uploadsPerSec)), String(round(s.uploadsPerSec)), round(s.uploadsPerSec / base.uploadsPerSec, 2).toFixed(2), '(context)'],
            [`(b) p50 latency, ms — ${label}`, String(round(base.p50Ms)), String(round(s.p50Ms)), '', ''],
            [`(b) p95 latency, ms — ${label}`, String(round(base.p95Ms)), String(round(s.p95Ms)), '', ''],
            [
              `(b) context: vs baseline + hash + fsync, uploads/s — ${label}`,
              String(round(baseFsync.uploadsPerSec)),
              String(round(s.uploadsPerSec)),
              round(s.uploadsPerSec / baseFsync.uploadsPerSec, 2).toFixed(2),
              '(info)',
            ],
            [
              `(b) process CPU per upload, ms (client+server${cpuNote}) — ${label}`,
              String(round(base.cpuMs / base.count, 2)),
              String(round(s.cpuMs / s.count, 2)),
              round(s.cpuMs / s.count / (base.cpuMs / base.count), 2).toFixed(2),
              '(info; stowage/baseline)',
            ],
            [`(b) event loop busy, % (client+server) — ${label}`, String(round(base.elu * 100, 0)), String(round(s.elu * 100, 0)), '', '(info)'],
          ];
        };
        rows.push(...dialectRows('SQLite', small.stowage, ''), ...dialectRows('PostgreSQL', small.stowagePostgres, '; not the PostgreSQL server'));
        if (small.stowagePostgres) {
          summary.push(
            `Small uploads, Stowage on PostgreSQL / on SQLite = ${round((small.stowagePostgres.uploadsPerSec) / (small.stowage as SmallResult).uploadsPerSec, 2).toFixed(2)} ` +
              `(PostgreSQL at ${postgres.available ? postgres.server : '?'}, schema small_uploads)`,
          );
        } else {
          summary.push(`(b) PostgreSQL rows skipped: ${postgres.available ? 'no result' : postgres.reason}`);
        }
        const local = small.stowage as SmallResult;
        rows.push(...dialectRows(`${S3_LABEL}, SQLite metadata`, small.stowageS3, '; not s3rver', 'S3 rows skipped'));
        if (small.stowageS3) {
          rows.push([
            `(b) S3 vs local disk, uploads/s (baseline column = Stowage on local disk, SQLite) — ${S3_LABEL}`,
            String(round(local.uploadsPerSec)),
            String(round(small.stowageS3.uploadsPerSec)),
            round(small.stowageS3.uploadsPerSec / local.uploadsPerSec, 2).toFixed(2),
            '(info; S3/local)',
          ]);
          summary.push(
            `S3 (b): Stowage on S3 (s3rver) / on local disk, both on SQLite = ${round(small.stowageS3.uploadsPerSec / local.uploadsPerSec, 2).toFixed(2)} ` +
              `(${round(small.stowageS3.uploadsPerSec)} vs ${round(local.uploadsPerSec)} uploads/s; p50 ${round(small.stowageS3.p50Ms)} vs ${round(local.p50Ms)} ms, p95 ${round(small.stowageS3.p95Ms)} vs ${round(local.p95Ms)} ms)`,
          );
        }
        results.small = {
          jpegBytes: jpeg.length,
          concurrency: SMALL_CONCURRENCY,
          warmup: SMALL_WARMUP,
          count: SMALL_COUNT,
          client: 'fetch + FormData in the server process',
          ...Object.fromEntries(
            smallOrder.map((kind) => {
              const s = small[kind] as SmallResult;
              return [kind, { uploadsPerSec: round(s.uploadsPerSec), p50Ms: round(s.p50Ms), p95Ms: round(s.p95Ms), elapsedMs: round(s.elapsedMs, 0), cpuMsPerUpload: round(s.cpuMs / s.count, 2), eventLoopUtilization: round(s.elu, 2) }];
            }),
          ),
          ratio: round((small.stowage as SmallResult).uploadsPerSec / base.uploadsPerSec, 3),
          ...(small.stowagePostgres
            ? { ratioPostgres: round(small.stowagePostgres.uploadsPerSec / base.uploadsPerSec, 3), postgresVsSqlite: round(small.stowagePostgres.uploadsPerSec / (small.stowage as SmallResult).uploadsPerSec, 3) }
            : { postgresSkipped: postgres.available ? 'no result' : postgres.reason }),
          ...(small.stowageS3 ? { ratioS3: round(small.stowageS3.uploadsPerSec / base.uploadsPerSec, 3), s3VsLocalDisk: round(small.stowageS3.uploadsPerSec / local.uploadsPerSec, 3) } : { s3Skipped: s3.available ? 'no result' : s3.reason }),
        };
      }
      summary.push(s3.available ? `Note on the S3 rows: ${S3_NOTE}.` : `S3 rows skipped: ${s3.reason}`);
    }

    // ------------------------------------------------------------------------------------------ report
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
    const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c] as number)).join(' | ')} |`;
    const table = [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
    if (rows.length > 1) {
      const runtimeS = round((performance.now() - startedAt) / 1000);
      const out = [
        '',
        `Stowage upload benchmark — node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${runtimeS} s`,
        '',
        table,
        '',
        ...summary,
        '',
      ].join('\n');
      process.stdout.write(out);
      results.table = table;
    }

    if (parts.has('c')) {
      const library = await runLibraryBench(tmp, log, postgres);
      process.stdout.write(library.table);
      results.library = library.results;
    }
    if (parts.has('d')) {
      const analysis = await runAnalysisBench(tmp, log);
      process.stdout.write(analysis.table);
      results.analysis = analysis.results;
    }
    if (parts.has('e')) {
      const fanout = await runFanoutBench(path.join(tmp, 'fanout'), log);
      process.stdout.write(fanout.table);
      results.fanout = fanout.results;
    }
    if (parts.has('g')) {
      const delivery = await runDeliveryBench(tmp, log);
      process.stdout.write(delivery.table);
      results.delivery = delivery.results;
    }
    if (parts.has('h')) {
      const eventLoop = await runEventLoopBench(tmp, log);
      process.stdout.write(eventLoop.table);
      results.eventLoop = eventLoop.results;
    }
    // Last: it loads the models into this process (about 1 GB), which would slow every part after it.
    if (parts.has('f')) {
      const models = await runModelsBench(log);
      process.stdout.write(models.table);
      results.models = models.results;
    }

    const targets = judgeTargets(results);
    process.stdout.write(`\nTargets\n\n${targetsTable(targets)}\n`);
    results.targets = targets;
    results.runtimeSeconds = round((performance.now() - startedAt) / 1000);
    const file = resultsFile(benchDir, argv);
    await fsp.writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`\nResults written to ${path.relative(process.cwd(), file)}${partial ? ` (parts ${[...parts].join(', ')} only)` : ''}\n`);
  } finally {
    for (const server of servers.reverse()) await server.close().catch(() => {});
    if (postgres.available) await postgres.drop();
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error('benchmark failed:', error);
    process.exit(1);
  },
);
