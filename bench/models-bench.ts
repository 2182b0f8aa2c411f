/**
 * (f) Extension model latency per image on this CPU: local auto-tagging and background removal (first call,
 * which loads the model, and the median of later calls), against sharp decoding and resizing the same image.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { createLocalTagger } from '../src/extensions/models/auto-tagger.js';
import { createLocalBackgroundRemover } from '../src/extensions/models/background-remover.js';

const RUNS = 5;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

async function series(fn: () => Promise<unknown>): Promise<{ first: number; median: number }> {
  const first = await time(fn);
  const rest: number[] = [];
  for (let i = 0; i < RUNS; i++) rest.push(await time(fn));
  return { first, median: [...rest].sort((a, b) => a - b)[Math.floor(rest.length / 2)] as number };
}

export async function runModelsBench(log: (line: string) => void): Promise<{ table: string; results: Record<string, unknown> }> {
  const photo = await sharp(await fs.readFile(path.resolve('test/fixtures/person-at-table.jpg'))).resize(640).jpeg().toBuffer();
  const baseline = await series(() => sharp(photo).resize(320).raw().toBuffer());
  const tagger = createLocalTagger();
  const tagging = await series(() => tagger.tag(photo, { maxTags: 10, minConfidence: 10 }));
  log(`(f) tagging: first ${tagging.first.toFixed(0)} ms, then ${tagging.median.toFixed(0)} ms`);
  let removal: { first: number; median: number } | null = null;
  try {
    const remover = await createLocalBackgroundRemover();
    removal = await series(() => remover.removeBackground(photo));
  } catch (error) {
    log(`(f) background removal unavailable: ${(error as Error).message}`);
  }
  const row = (name: string, r: { first: number; median: number } | null) =>
    r ? `| ${name} | ${r.first.toFixed(0)} | ${r.median.toFixed(0)} | ${(r.median / baseline.median).toFixed(0)}× |` : `| ${name} | not installed | | |`;
  const table = [
    '| (f) one 640×477 photo, ms | first call (loads the model) | median of next 5 | vs sharp decode+resize |',
    '|---|---|---|---|',
    `| sharp decode + resize (baseline) | ${baseline.first.toFixed(1)} | ${baseline.median.toFixed(1)} | 1× |`,
    row('auto-tagging (CenterNet + colours)', tagging),
    row('background removal (IS-Net)', removal),
  ].join('\n');
  return { table: `\n${table}\n`, results: { baseline, tagging, removal } };
}
