/**
 * (c) Media library queries over 1,000 and over 100,000 files, seeded straight into the database: the first
 * page and a page 75% deep (by cursor), with and without a searchQuery. Target: each 100k latency within 2x
 * of the 1k one (cursor pagination stays O(page)).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { fileVersions, files } from '../src/db/schema.js';

const KEY = 'private_bench_key';
const AUTH = `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`;
const SIZES = [1_000, 100_000];
const WARMUP = 5;
const RUNS = 25;
const PAGE = 100;
const SEARCH = 'size > "1kb" AND format IN ["jpg", "png"]';
const FORMATS = ['jpg', 'png', 'webp'];
const BASE_MS = Date.UTC(2026, 0, 1);

const idFor = (i: number) => i.toString(16).padStart(24, '0');

function seed(dataDir: string, count: number): void {
  const { db, close } = openDatabase(path.join(dataDir, 'stowage.db'));
  const BATCH = 1000;
  for (let start = 0; start < count; start += BATCH) {
    db.transaction((tx) => {
      const fileRows = [];
      const versionRows = [];
      for (let i = start; i < Math.min(count, start + BATCH); i++) {
        const id = idFor(i);
        const at = new Date(BASE_MS + i * 1000);
        const folder = `/folder-${i % 50}`;
        const name = `file-${i}.${FORMATS[i % 3]}`;
        fileRows.push({ id, filePath: `${folder}/${name}`, folderPath: folder, name, currentVersionId: id, versionCounter: 1, createdAt: at, updatedAt: at });
        versionRows.push({
          id, fileId: id, number: 1, isCurrent: true, folderPath: folder, name, fileCreatedAt: at, blobKey: `files/${id}`,
          size: 500 + (i % 10) * 300, mime: 'image/jpeg', format: FORMATS[i % 3] as string, fileType: 'image' as const,
          width: 100 + (i % 7), height: 100, tags: i % 5 === 0 ? ['sale'] : null, isPrivateFile: false, isPublished: true, createdAt: at, updatedAt: at,
        });
      }
      tx.insert(files).values(fileRows).run();
      tx.insert(fileVersions).values(versionRows).run();
    });
  }
  close();
}

const cursorAt = (i: number) => Buffer.from(JSON.stringify([BASE_MS + i * 1000, 1, idFor(i)])).toString('base64url');

async function time(url: string, query: string, variables: Record<string, unknown>): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: AUTH }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { errors?: unknown; data?: { files: { nodes: unknown[] } } };
  const elapsed = performance.now() - started;
  if (body.errors || body.data?.files.nodes.length !== PAGE) throw new Error(`library query failed: ${JSON.stringify(body).slice(0, 300)}`);
  return elapsed;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function runLibraryBench(tmp: string, log: (line: string) => void): Promise<{ table: string; results: Record<string, unknown> }> {
  const QUERY = 'query($after: String, $q: String) { files(first: 100, after: $after, searchQuery: $q, sort: ASC_CREATED) { nodes { name ... on File { size url } } } }';
  const cases = [
    { label: 'first page', variables: (_n: number) => ({}) },
    { label: 'page at 75% (cursor)', variables: (n: number) => ({ after: cursorAt(Math.floor(n * 0.75)) }) },
    { label: 'first page + searchQuery', variables: () => ({ q: SEARCH }) },
    { label: 'page at 75% + searchQuery', variables: (n: number) => ({ after: cursorAt(Math.floor(n * 0.75)), q: SEARCH }) },
  ];
  const latency: Record<string, Record<number, number>> = {};
  const apps: { n: number; url: string; close: () => Promise<void> }[] = [];
  try {
    for (const n of SIZES) {
      const dataDir = path.join(tmp, `library-${n}`);
      await fsp.mkdir(dataDir, { recursive: true });
      const seedStart = performance.now();
      seed(dataDir, n);
      log(`(c) seeded ${n} files in ${Math.round(performance.now() - seedStart)} ms`);
      const app = await createApp(loadConfig({ STOWAGE_DATA_DIR: dataDir, STOWAGE_PRIVATE_KEY: KEY, STOWAGE_LOG_LEVEL: 'silent' }));
      apps.push({ n, url: await app.listen(0, '127.0.0.1'), close: () => app.close() });
    }
    // Both libraries are queried in alternation, so machine noise hits them alike.
    for (const c of cases) {
      const samples = new Map<number, number[]>(apps.map((a) => [a.n, []]));
      for (let i = 0; i < WARMUP + RUNS; i++) {
        for (const app of apps) {
          const ms = await time(app.url, QUERY, c.variables(app.n));
          if (i >= WARMUP) samples.get(app.n)?.push(ms);
        }
      }
      latency[c.label] = Object.fromEntries([...samples].map(([n, xs]) => [n, median(xs)]));
    }
  } finally {
    for (const app of apps) await app.close();
  }
  const rows = [['(c) files query, median ms', '1,000 files', '100,000 files', 'ratio', 'target']];
  let allMet = true;
  for (const c of cases) {
    const small = latency[c.label]?.[1_000] as number;
    const large = latency[c.label]?.[100_000] as number;
    const ratio = large / small;
    allMet &&= ratio <= 2;
    rows.push([c.label, small.toFixed(2), large.toFixed(2), ratio.toFixed(2), ratio <= 2 ? '<= 2: MET' : '<= 2: NOT MET']);
  }
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((cell, i) => cell.padEnd(widths[i] as number)).join(' | ')} |`;
  const table = [line(rows[0] as string[]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
  return { table: `\n${table}\nsearchQuery: ${SEARCH}; page size ${PAGE}; ${RUNS} runs each over HTTP\n`, results: { latencyMs: latency, search: SEARCH, pageSize: PAGE, allWithin2x: allMet } };
}
