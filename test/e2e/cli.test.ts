import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scene, seededBytes, shapes } from '../helpers/images.js';
import { startOriginServer } from '../helpers/origin-server.js';
import { freePort, startTestApp, TEST_KEY, type TestApp } from '../helpers/test-app.js';

// The `stowage` CLI run as a user runs it: a separate process talking to a real server over HTTP.

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(REPO, 'bin/stowage.mjs');
const MAX_FILE_SIZE = 200_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let t: TestApp;
let work: string;
/** Local path relative to `work/photos` → size in bytes. */
const tree: Record<string, number> = {};
const cleanups: (() => Promise<unknown> | void)[] = [];

/** Runs a command to its end with the test server's URL and key in its environment, stdout a pipe (not a TTY). */
function run(command: string, args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<Run> {
  const child = spawn(command, args, {
    cwd: options.cwd ?? work,
    env: { ...process.env, STOWAGE_URL: t.url, STOWAGE_PRIVATE_KEY: TEST_KEY, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const cli = (args: string[], options?: { env?: Record<string, string>; cwd?: string }) => run(process.execPath, [BIN, ...args], options);

/** filePath → {size, tags, fileId} of every file in a folder and below it, through the API. */
async function library(folder: string): Promise<Record<string, { size: number; tags: string[] | null; fileId: string }>> {
  const res = await t.gql<{ files: { nodes: { filePath: string; size: number; tags: string[] | null; fileId: string }[] } }>(
    'query ($path: String) { files(path: $path, recursive: true, first: 1000) { nodes { ... on File { fileId filePath size tags } } } }',
    { path: folder },
  );
  return Object.fromEntries((res.data?.files.nodes ?? []).map((f) => [f.filePath, { size: f.size, tags: f.tags, fileId: f.fileId }]));
}

async function writeFile(relative: string, data: Buffer | string): Promise<void> {
  const file = path.join(work, relative);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, data);
}

beforeAll(async () => {
  t = await startTestApp({ STOWAGE_MAX_FILE_SIZE: String(MAX_FILE_SIZE), STOWAGE_URL_ALLOWLIST: '127.0.0.1/32' });
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-cli-'));
  const files: Record<string, Buffer | string> = {
    'photos/2024/a.jpg': await sharp(await scene(320, 240)).jpeg().toBuffer(),
    'photos/2024/summer trip/b.png': await shapes(200, 150),
    'photos/c.png': await scene(64, 48),
    'photos/notes.txt': 'shot list: beach, hills\n',
  };
  for (const [relative, data] of Object.entries(files)) {
    await writeFile(relative, data);
    tree[relative.slice('photos/'.length)] = Buffer.byteLength(data);
  }
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await t?.close();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe('stowage (the CLI)', () => {
  it('runs as `npx stowage` from the repo and by its absolute path from elsewhere', async () => {
    const viaNpx = await run('npx', ['--no-install', 'stowage', '--help'], { cwd: REPO });
    expect(viaNpx.code).toBe(0);
    expect(viaNpx.stdout).toContain('Usage: stowage');
    for (const command of ['upload', 'ls', 'rm', 'url']) expect(viaNpx.stdout).toContain(command);
    const elsewhere = await run(BIN, ['upload', '--help'], { cwd: os.tmpdir() });
    expect(elsewhere.code).toBe(0);
    expect(elsewhere.stdout).toContain('--concurrency');
  });

  it('uploads a folder tree under --folder, keeping the folder and its structure, with plain lines when stdout is not a terminal', async () => {
    const result = await cli(['upload', 'photos', '--folder', '/imports', '--no-unique', '--tags', 'cli,import', '--concurrency', '2']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const expected = Object.fromEntries(
      Object.entries(tree).map(([relative, size]) => [`/imports/photos/${relative.replace('summer trip', 'summer_trip')}`, { size, tags: ['cli', 'import'] }]),
    );
    const stored = await library('/imports');
    expect(Object.fromEntries(Object.entries(stored).map(([p, f]) => [p, { size: f.size, tags: f.tags }]))).toEqual(expected);

    expect(result.stdout).toContain('uploaded photos/2024/a.jpg → /imports/photos/2024/a.jpg (');
    expect(result.stdout).toContain('uploaded photos/2024/summer trip/b.png → /imports/photos/2024/summer_trip/b.png (');
    expect(result.stdout).toMatch(/^progress: 4\/4 files, [\d.]+ KB\/[\d.]+ KB/m);
    expect(result.stdout).toMatch(/^summary: 4 uploaded \([\d.]+ KB\), 0 skipped, 0 failed/m);
    expect(result.stdout).not.toMatch(/\u2588|\x1b\[/);
  });

  it('--json prints each uploaded file as a JSON line and nothing else on stdout', async () => {
    const result = await cli(['upload', 'photos/2024', 'photos/notes.txt', '--folder', 'json', '--json']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    const files = lines.map((line) => JSON.parse(line) as { fileId: string; filePath: string; name: string; size: number; mime: string });
    expect(files).toHaveLength(3);
    const byMime = Object.fromEntries(files.map((f) => [f.mime, f]));
    // Unique names by default, as on ImageKit.
    expect(byMime['image/jpeg']?.filePath).toMatch(/^\/json\/2024\/a_[A-Za-z0-9_-]+\.jpg$/);
    expect(byMime['image/png']?.filePath).toMatch(/^\/json\/2024\/summer_trip\/b_[A-Za-z0-9_-]+\.png$/);
    expect(byMime['text/plain']).toMatchObject({ size: tree['notes.txt'] });
    expect(byMime['text/plain']?.filePath).toMatch(/^\/json\/notes_[A-Za-z0-9_-]+\.txt$/);
    expect(result.stderr).toMatch(/^summary: 3 uploaded/m);
  });

  it('draws an overall bar and per-file bars when run in a terminal', async () => {
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const command = [process.execPath, BIN, 'upload', 'photos', '--folder', '/tty'].map(quote).join(' ');
    const result = await run('script', ['-qefc', command, '/dev/null']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('\u2588'); // the bar's filled cells
    expect(result.stdout).toMatch(/100% \| 4\/4 files \| [\d.]+ KB\/[\d.]+ KB \| [\d.]+ [KMG]?B\/s \| ETA/);
    expect(result.stdout).toMatch(/\d+% \| [\d.]+ [KM]?B\/[\d.]+ [KM]?B \| photos\/2024\/a\.jpg/);
    expect(result.stdout).toMatch(/summary: 4 uploaded/);
    expect(result.stdout).not.toContain('progress: ');
    expect(Object.keys(await library('/tty'))).toHaveLength(4);
  });

  it('reports a file over the size limit as failed with its reason, skips what cannot be uploaded, uploads the rest and exits non-zero', async () => {
    await writeFile('mixed/ok.txt', 'fine\n');
    await writeFile('mixed/big.bin', seededBytes(MAX_FILE_SIZE + 50_000));
    await fs.symlink('.', path.join(work, 'mixed/loop'));
    const socket = net.createServer().listen(path.join(work, 'mixed/control.sock'));
    cleanups.push(() => new Promise((r) => socket.close(r)));

    const result = await cli(['upload', 'mixed', 'missing.jpg', '--folder', '/mixed', '--no-unique']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^summary: 1 uploaded \(5 B\), 2 skipped, 2 failed/m);
    expect(result.stdout).toContain(`failed mixed/big.bin: FILE_TOO_LARGE: Your request contains invalid file parameter. The file size exceeds ${MAX_FILE_SIZE} bytes limit.`);
    expect(result.stdout).toContain('failed missing.jpg: no such file or directory');
    expect(result.stdout).toContain('skipped mixed/control.sock: a socket');
    expect(result.stdout).toContain('skipped mixed/loop: symlink loop');
    expect(result.stderr).toContain('failed mixed/big.bin: FILE_TOO_LARGE');
    // A validation error is not retried.
    expect(result.stderr).not.toContain('retrying');
    expect(Object.keys(await library('/mixed'))).toEqual(['/mixed/mixed/ok.txt']);
  });

  it('retries a transient failure (a proxy answering 503 once) and then uploads', async () => {
    let requests = 0;
    const target = new URL(t.url);
    const proxy = http.createServer((req, res) => {
      requests += 1;
      if (requests === 1) {
        req.resume();
        req.once('end', () => res.writeHead(503, { 'content-type': 'text/plain' }).end('upstream restarting'));
        return;
      }
      const upstream = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => proxy.close(r)));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

    const result = await cli(['upload', 'photos/c.png', '--folder', '/retried', '--no-unique', '--url', proxyUrl]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('retrying photos/c.png (attempt 2 of 3): HTTP_503');
    expect(result.stdout).toContain('uploaded photos/c.png → /retried/c.png');
    expect(requests).toBe(2);
    expect((await library('/retried'))['/retried/c.png']?.size).toBe(tree['c.png']);
  });

  it('uploads a URL by having the server fetch it', async () => {
    const png = await scene(40, 30);
    const origin = await startOriginServer({ '/pics/cat.png': (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(png) });
    cleanups.push(origin.close);
    const result = await cli(['upload', `${origin.url}/pics/cat.png`, '--folder', '/web', '--no-unique']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`uploaded ${origin.url}/pics/cat.png → /web/cat.png`);
    expect((await library('/web'))['/web/cat.png']?.size).toBe(png.length);
  });

  it('ls lists a folder (recursively, by search query, as JSON), url signs, rm deletes', async () => {
    expect(await cli(['upload', 'photos', '--folder', '/manage', '--no-unique'])).toMatchObject({ code: 0, stderr: '' });
    const stored = await library('/manage');
    expect(Object.keys(stored)).toHaveLength(4);

    // Two files a page: the listing has to follow the cursor.
    const listed = await cli(['ls', '/manage', '--recursive', '--page-size', '2']);
    // stderr in the comparison: a failure shows the CLI's error line.
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    const rows = listed.stdout.trim().split('\n').map((line) => line.trim().split(/\s{2,}/));
    expect(rows.map((row) => row[2]).sort()).toEqual(Object.keys(stored).sort());
    expect(rows.every(([id, , filePath]) => stored[filePath as string]?.fileId === id)).toBe(true);

    const onlyTop = await cli(['ls', '/manage/photos']);
    const topPaths = onlyTop.stdout.trim().split('\n').map((line) => line.split(/\s+/).pop());
    expect(topPaths.sort()).toEqual(['/manage/photos/c.png', '/manage/photos/notes.txt']);

    const searched = await cli(['ls', '/manage', '-r', '--query', 'name = "notes.txt"', '--json']);
    expect(searched).toMatchObject({ code: 0, stderr: '' });
    const found = searched.stdout.trim().split('\n').map((line) => JSON.parse(line) as { filePath: string });
    expect(found.map((f) => f.filePath)).toEqual(['/manage/photos/notes.txt']);

    const jpg = stored['/manage/photos/2024/a.jpg']?.fileId as string;
    const signed = await cli(['url', jpg, '--transform', 'w-50', '--expires', '600']);
    expect(signed).toMatchObject({ code: 0, stderr: '' });
    const url = signed.stdout.trim();
    expect(url).toMatch(/\/tr:w-50\/manage\/photos\/2024\/a\.jpg\?ik-t=\d+&ik-s=[0-9a-f]{40}$/);
    const image = await fetch(url.replace('localhost', '127.0.0.1'));
    expect(image.status).toBe(200);
    expect((await sharp(Buffer.from(await image.arrayBuffer())).metadata()).width).toBe(50);

    const removed = await cli(['rm', jpg]);
    expect(removed).toMatchObject({ code: 0, stdout: `deleted ${jpg}\n` });
    expect(await library('/manage')).not.toHaveProperty(['/manage/photos/2024/a.jpg']);
    const again = await cli(['rm', jpg]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`error: ${jpg}: NOT_FOUND: The requested file does not exist.\n`);
  });

  it('a wrong key exits non-zero with the FORBIDDEN line, and an upload stops sending', async () => {
    const listed = await cli(['ls', '--key', 'private_wrong']);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toBe('error: FORBIDDEN: Your account cannot be authenticated.\n');

    const uploaded = await cli(['upload', 'photos', '--folder', '/refused', '--concurrency', '1'], { env: { STOWAGE_PRIVATE_KEY: 'private_wrong' } });
    expect(uploaded.code).toBe(1);
    expect(uploaded.stderr).toContain('error: FORBIDDEN: Your account cannot be authenticated.');
    expect(uploaded.stdout).toMatch(/^summary: 0 uploaded \(0 B\), 0 skipped, 4 failed/m);
    expect(uploaded.stdout).toContain('not sent: FORBIDDEN');
    expect(await library('/refused')).toEqual({});
  });

  it('says which URL it could not reach, and asks for a key when there is none', async () => {
    const port = await freePort();
    const unreachable = await cli(['ls', '--url', `http://127.0.0.1:${port}`]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(new RegExp(`^error: UNREACHABLE: could not reach http://127\\.0\\.0\\.1:${port}/graphql \\(.*ECONNREFUSED`));

    const keyless = await cli(['ls'], { env: { STOWAGE_PRIVATE_KEY: '' } });
    expect(keyless.code).toBe(1);
    expect(keyless.stderr).toContain('error: no private key: pass --key');
  });
});
