/**
 * (g) Delivery of a transformed image: a 2000x1333 JPEG resized to w-500 over HTTP, cold (a new transformation
 * each request: decode, resize, encode, store) and cached, against sharp alone doing the same resize in process
 * (same output: JPEG, quality 80, metadata stripped); plus peak RSS growth under 16 concurrent cold requests.
 * Both sides are measured after a few untimed warm-up runs, Stowage once its upload's follow-up work is done.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

const KEY = 'private_bench_key';
const AUTH = `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`;
const COUNT = 40;
const CONCURRENCY = 16;
const WARM_UP = 4;
const SETTLE_MS = 1000;

async function photo(): Promise<Buffer> {
  const raw = Buffer.alloc(2000 * 1333 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7 + (i >> 12)) & 255;
  return sharp(raw, { raw: { width: 2000, height: 1333, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

async function perSecond(count: number, concurrency: number, work: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await work(next++);
  }));
  return count / ((performance.now() - started) / 1000);
}

export async function runDeliveryBench(dataDir: string, log: (line: string) => void): Promise<{ table: string; results: Record<string, unknown> }> {
  const jpeg = await photo();
  const resize = (i: number) => sharp(jpeg).resize(500 + (i % 3)).jpeg({ quality: 80 }).toBuffer();
  // Both sides are measured warm (libvips started, code compiled): a few untimed runs first.
  await perSecond(WARM_UP, 2, resize);
  const baseline = await perSecond(COUNT, 2, resize);
  const app = await createApp(loadConfig({ STOWAGE_DATA_DIR: path.join(dataDir, 'delivery'), STOWAGE_PRIVATE_KEY: KEY, STOWAGE_LOG_LEVEL: 'silent' }));
  const url = await app.listen(0, '127.0.0.1');
  try {
    const up = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: AUTH },
      body: JSON.stringify({ query: `mutation($f: Upload!) { uploadFile(file: $f, fileName: "big.jpg", useUniqueFileName: false) { fileId } }`, variables: { f: jpeg.toString('base64') } }),
    });
    if (!up.ok) throw new Error(`upload failed: ${up.status}`);
    const get = async (tr: string) => {
      const res = await fetch(`${url}/tr:${tr}/big.jpg`, { headers: { accept: 'image/jpeg' } });
      if (res.status !== 200) throw new Error(`delivery ${tr}: ${res.status}`);
      await res.arrayBuffer();
    };
    // The upload's own follow-up work (analysis) is not part of what is measured: let it finish first.
    await sleep(SETTLE_MS);
    await perSecond(WARM_UP, 2, (i) => get(`w-${400 + i}`));
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const cold = await perSecond(COUNT, CONCURRENCY, (i) => get(`w-${500 + i}`));
    clearInterval(sampler);
    await get('w-500');
    const cached = await perSecond(COUNT * 5, CONCURRENCY, () => get('w-500'));
    log(`(g) cold ${cold.toFixed(1)}/s, cached ${cached.toFixed(1)}/s, sharp alone ${baseline.toFixed(1)}/s`);
    const table = [
      '| (g) 2000x1333 JPEG → w-500, requests/s | sharp alone (in process) | Stowage over HTTP | ratio |',
      '|---|---|---|---|',
      `| cold (each a new transformation, 16 concurrent) | ${baseline.toFixed(1)} | ${cold.toFixed(1)} | ${(cold / baseline).toFixed(2)} |`,
      `| cached | ${baseline.toFixed(1)} | ${cached.toFixed(1)} | ${(cached / baseline).toFixed(2)} |`,
      `| peak RSS growth, 16 concurrent cold | | ${((peak - rssBefore) / 1e6).toFixed(1)} MB | |`,
    ].join('\n');
    return { table: `\n${table}\n`, results: { baseline, cold, cached, peakRssGrowthMB: (peak - rssBefore) / 1e6 } };
  } finally {
    await app.close();
  }
}
