import { rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorruptImageError, PixelLimitError, UnsupportedImageError } from '../../../src/analysis/errors.js';
import { readImageInfo, toImageKitFormat } from '../../../src/analysis/image-info.js';
import { pngHeaderOnly, scene, solid } from '../../helpers/images.js';


let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stowage-image-info-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readImageInfo', () => {
  it('reads a JPEG: format, size, quality estimate', async () => {
    const jpeg = await sharp(await scene(320, 240)).jpeg({ quality: 75 }).toBuffer();
    const info = await readImageInfo(jpeg);
    expect(info).toMatchObject({
      format: 'jpg',
      width: 320,
      height: 240,
      hasAlpha: false,
      hasTransparency: false,
      hasColorProfile: false,
      density: 72, // the SVG rendering's density, kept in the JFIF header
      isAnimated: false,
      pages: 1,
      orientation: 1,
    });
    expect(Math.abs(info.quality - 75)).toBeLessThanOrEqual(3);
  });

  it('reads a file path as well as a buffer', async () => {
    const path = join(dir, 'q60.jpg');
    await solid(50, 40, { r: 10, g: 20, b: 30 }).jpeg({ quality: 60 }).toFile(path);
    const info = await readImageInfo(path);
    expect(info).toMatchObject({ format: 'jpg', width: 50, height: 40 });
    expect(Math.abs(info.quality - 60)).toBeLessThanOrEqual(3);
  });

  it('tells an alpha channel from actual transparency', async () => {
    const rgb = await solid(30, 20, { r: 255, g: 0, b: 0 }).png().toBuffer();
    const opaqueRgba = await solid(30, 20, { r: 255, g: 0, b: 0, alpha: 1 }, 4).png().toBuffer();
    // Fully opaque except one pixel with alpha 254.
    const pixels = Buffer.alloc(30 * 20 * 4, 255);
    pixels[(7 * 30 + 11) * 4 + 3] = 254;
    const onePixel = await sharp(pixels, { raw: { width: 30, height: 20, channels: 4 } }).png().toBuffer();
    const palette = await solid(30, 20, { r: 0, g: 0, b: 255, alpha: 0.5 }, 4).png({ palette: true }).toBuffer();

    expect(await readImageInfo(rgb)).toMatchObject({ format: 'png', hasAlpha: false, hasTransparency: false, quality: 0, density: null });
    expect(await readImageInfo(opaqueRgba)).toMatchObject({ hasAlpha: true, hasTransparency: false });
    expect(await readImageInfo(onePixel)).toMatchObject({ hasAlpha: true, hasTransparency: true });
    expect(await readImageInfo(palette)).toMatchObject({ hasAlpha: true, hasTransparency: true });
  });

  it('reports the first frame of an animated GIF', async () => {
    const frames = 3;
    const tall = await solid(40, 30 * frames, { r: 255, g: 0, b: 0 })
      .composite([{ input: { create: { width: 40, height: 30, channels: 3, background: '#0000ff' } }, top: 30, left: 0 }])
      .raw()
      .toBuffer();
    const gif = await sharp(tall, { raw: { width: 40, height: 30 * frames, channels: 3, pageHeight: 30 } }).gif().toBuffer();
    expect(await readImageInfo(gif)).toMatchObject({ format: 'gif', width: 40, height: 30, isAnimated: true, pages: 3 });

    const still = await solid(40, 30, { r: 0, g: 255, b: 0 }).gif().toBuffer();
    expect(await readImageInfo(still)).toMatchObject({ format: 'gif', isAnimated: false, pages: 1 });
  });

  it('swaps width and height for EXIF orientation 6', async () => {
    const jpeg = await solid(80, 60, { r: 128, g: 128, b: 128 }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    expect(await readImageInfo(jpeg)).toMatchObject({ width: 60, height: 80, orientation: 6 });
  });

  it('reports density and an embedded colour profile', async () => {
    const jpeg = await solid(20, 20, { r: 1, g: 2, b: 3 }).withIccProfile('srgb').withMetadata({ density: 300 }).jpeg().toBuffer();
    expect(await readImageInfo(jpeg)).toMatchObject({ density: 300, hasColorProfile: true });
  });

  it('names formats the ImageKit way', async () => {
    const base = solid(16, 16, { r: 9, g: 9, b: 9 });
    expect((await readImageInfo(await base.clone().webp().toBuffer())).format).toBe('webp');
    expect((await readImageInfo(await base.clone().avif().toBuffer())).format).toBe('avif');
    expect((await readImageInfo(await base.clone().tiff().toBuffer())).format).toBe('tiff');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="12" height="8"><rect width="12" height="8"/></svg>');
    expect(await readImageInfo(svg)).toMatchObject({ format: 'svg', width: 12, height: 8 });
    expect(toImageKitFormat({ format: 'heif', compression: 'hevc' })).toBe('heic');
  });

  it('reads a HEIC header without decoding its HEVC pixels', async () => {
    const heic = readFileSync(new URL('../../fixtures/small.heic', import.meta.url));
    expect(await readImageInfo(heic)).toMatchObject({ format: 'heic', width: 64, height: 48, hasTransparency: false, quality: 0 });
  });

  it('rejects a 20000×20000 header before decoding, with bounded memory', async () => {
    const before = process.memoryUsage().rss;
    const error = await readImageInfo(pngHeaderOnly(20_000, 20_000), { maxPixels: 50_000_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PixelLimitError);
    expect(error).toMatchObject({ pixels: 400_000_000, limit: 50_000_000 });
    // Decoding would need 1.6 GB for RGBA; nothing close to that may have been allocated.
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
  });

  it('throws CorruptImageError for a truncated JPEG and a truncated PNG', async () => {
    const jpeg = await sharp(await scene(320, 240)).jpeg({ quality: 90 }).toBuffer();
    const truncatedJpeg = jpeg.subarray(0, Math.floor(jpeg.length / 2));
    await expect(readImageInfo(truncatedJpeg)).rejects.toBeInstanceOf(CorruptImageError);

    const png = await scene(320, 240);
    await expect(readImageInfo(png.subarray(0, png.length - 200))).rejects.toThrow(/corrupt or truncated/);
    await expect(readImageInfo(jpeg.subarray(0, 100))).rejects.toBeInstanceOf(CorruptImageError);
  });

  it('throws UnsupportedImageError for data that is no image', async () => {
    await expect(readImageInfo(Buffer.from('%PDF-1.4 not an image'))).rejects.toBeInstanceOf(UnsupportedImageError);
  });
});
