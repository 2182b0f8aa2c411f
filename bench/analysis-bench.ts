/**
 * (d) Media analysis throughput: images per second through the upload pipeline's `analyzeFile` (header, first-frame
 * decode for transparency, JPEG quality, EXIF/IPTC/XMP, pHash) against sharp's bare `metadata()` on the same files.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { resolveFfmpegPaths } from '../src/analysis/binaries.js';
import { createLimiter } from '../src/analysis/concurrency.js';
import { analyzeFile } from '../src/upload/analyze-file.js';
import { detectType } from '../src/upload/detect-type.js';

const COUNT = 60;
const CONCURRENCY = 2;

async function makeImages(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    const file = path.join(dir, `photo-${i}.jpg`);
    const raw = Buffer.alloc(1600 * 1067 * 3);
    for (let p = 0; p < raw.length; p++) raw[p] = (p * (i + 7) + (p >> 10)) & 255;
    await sharp(raw, { raw: { width: 1600, height: 1067, channels: 3 } })
      .jpeg({ quality: 85 })
      .withExif({ IFD0: { Make: 'Bench', Model: `Camera ${i}` }, IFD2: { DateTimeOriginal: '2026:01:02 03:04:05' } })
      .toFile(file);
    files.push(file);
  }
  return files;
}

async function throughput(files: string[], work: (file: string) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < files.length) await work(files[next++] as string);
    }),
  );
  return files.length / ((performance.now() - started) / 1000);
}

export async function runAnalysisBench(tmp: string, log: (line: string) => void): Promise<{ table: string; results: Record<string, unknown> }> {
  const dir = path.join(tmp, 'analysis');
  await fsp.mkdir(dir, { recursive: true });
  const files = await makeImages(dir);
  log(`(d) made ${files.length} 1600x1067 JPEGs`);
  const type = await detectType((await fsp.readFile(files[0] as string)).subarray(0, 4100), 'x.jpg');
  const deps = {
    maxImagePixels: 100_000_000,
    ...(({ ffprobe, ffmpeg }) => ({ ffprobePath: ffprobe, ffmpegPath: ffmpeg }))(resolveFfmpegPaths(process.env)),
    imageLimiter: createLimiter(CONCURRENCY),
    probeLimiter: createLimiter(CONCURRENCY),
    log: () => {},
  };
  await throughput(files.slice(0, 5), (f) => analyzeFile(f, type, deps));
  const baseline = await throughput(files, (f) => sharp(f).metadata());
  const stowage = await throughput(files, (f) => analyzeFile(f, type, deps));
  const ratio = stowage / baseline;
  const table = [
    '| (d) image analysis, 1600x1067 JPEG, images/s @2 | sharp metadata() | Stowage analyzeFile | ratio |',
    '|---|---|---|---|',
    `| ${COUNT} images | ${baseline.toFixed(1)} | ${stowage.toFixed(1)} | ${ratio.toFixed(3)} |`,
  ].join('\n');
  return { table: `\n${table}\n`, results: { images: COUNT, concurrency: CONCURRENCY, baselinePerSec: baseline, stowagePerSec: stowage, ratio } };
}
