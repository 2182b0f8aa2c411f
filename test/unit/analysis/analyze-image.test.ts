import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeImageFile } from '../../../src/analysis/analyze-image.js';
import { createImageAnalysisPool, type ImageAnalysisPool } from '../../../src/analysis/image-analysis-pool.js';
import { makePng } from '../../helpers/fixtures.js';
import { scene } from '../../helpers/images.js';
import { jpegWithAllMetadata } from '../../helpers/metadata-fixtures.js';

const MAX_PIXELS = 100_000_000;
let dir: string;
let pool: ImageAnalysisPool;
const files: Record<string, string> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stowage-analyze-image-'));
  pool = createImageAnalysisPool(2);
  const write = async (name: string, data: Buffer) => {
    files[name] = join(dir, name);
    await writeFile(files[name], data);
  };
  const jpeg = await sharp(await scene(320, 240)).jpeg({ quality: 75 }).toBuffer();
  await write('metadata.jpg', await jpegWithAllMetadata());
  await write('scene.jpg', jpeg);
  await write('alpha.png', await makePng(40, 30, true));
  await write('truncated.jpg', jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  await write('not-an-image.bin', Buffer.from('just some text, no image at all'));
  files['small.heic'] = join(import.meta.dirname, '../../fixtures/small.heic');
});
afterAll(async () => {
  await pool.close();
  await rm(dir, { recursive: true, force: true });
});

describe('analyzeImageFile in a worker thread', () => {
  it.each(['metadata.jpg', 'scene.jpg', 'alpha.png', 'small.heic', 'truncated.jpg', 'not-an-image.bin'])('gives the same outcome as on this thread for %s', async (name) => {
    const path = files[name] as string;
    const here = await analyzeImageFile(path, MAX_PIXELS);
    const there = await pool.run({ path, maxPixels: MAX_PIXELS });
    expect(there).toEqual(here);
  });

  it('reports the outcomes that are not an analysis as data, with what the caller needs', async () => {
    expect(await pool.run({ path: files['metadata.jpg'] as string, maxPixels: 32 * 24 - 1 })).toEqual({ status: 'too-large', pixels: 32 * 24, limit: 32 * 24 - 1 });
    expect(await pool.run({ path: files['truncated.jpg'] as string, maxPixels: MAX_PIXELS })).toMatchObject({ status: 'corrupt', message: expect.stringMatching(/corrupt or truncated/) });
    expect(await pool.run({ path: files['not-an-image.bin'] as string, maxPixels: MAX_PIXELS })).toEqual({ status: 'unsupported' });
  });

  it('carries EXIF, IPTC and XMP and the pHash across', async () => {
    const outcome = await pool.run({ path: files['metadata.jpg'] as string, maxPixels: MAX_PIXELS });
    expect(outcome).toMatchObject({ status: 'analyzed', info: { format: 'jpg', width: 32, height: 24 }, pHash: expect.stringMatching(/^[0-9a-f]{16}$/) });
    if (outcome.status !== 'analyzed') throw new Error('not analysed');
    expect(outcome.embeddedMetadata).toMatchObject({ Keywords: ['sunset', 'plage été'], City: 'Nice' });
    expect(outcome.exif?.gps).toMatchObject({ GPSVersionID: [2, 2, 0, 0] });
  });

  it('fails a task on a file that cannot be read, and goes on', async () => {
    await expect(pool.run({ path: join(dir, 'missing.jpg'), maxPixels: MAX_PIXELS })).rejects.toMatchObject({ message: expect.stringMatching(/ENOENT/) });
    expect(await pool.run({ path: files['scene.jpg'] as string, maxPixels: MAX_PIXELS })).toMatchObject({ status: 'analyzed' });
  });
});
