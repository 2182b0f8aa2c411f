import sharp, { type JpegOptions } from 'sharp';
import { describe, expect, it } from 'vitest';
import { estimateJpegQuality, parseJpegQuantTables, toIjgTable } from '../../../src/analysis/jpeg-quality.js';

const jpegAt = (quality: number, options: JpegOptions = {}) =>
  sharp({ create: { width: 64, height: 64, channels: 3, background: '#4080c0' } })
    .jpeg({ quality, ...options })
    .toBuffer();

describe('parseJpegQuantTables', () => {
  it('reads the luminance and chrominance tables of a sharp JPEG', async () => {
    const tables = parseJpegQuantTables(await jpegAt(50));
    expect(tables.map((t) => t.id)).toEqual([0, 1]);
    // At quality 50 IJG uses the Annex K tables unscaled: luminance starts 16 11 10 16, row 2 starts 12.
    expect(tables[0]?.values.slice(0, 4)).toEqual([16, 11, 10, 16]);
    expect(tables[0]?.values[8]).toBe(12);
    expect(tables[1]?.values.slice(0, 4)).toEqual([17, 18, 24, 47]);
  });

  it('returns no table for non-JPEG or truncated data', async () => {
    expect(parseJpegQuantTables(Buffer.from('not a jpeg'))).toEqual([]);
    expect(parseJpegQuantTables(Buffer.from([0xff, 0xd8]))).toEqual([]);
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } }).png().toBuffer();
    expect(parseJpegQuantTables(png)).toEqual([]);
    const jpeg = await jpegAt(80);
    const dqt = jpeg.indexOf(Buffer.from([0xff, 0xdb]));
    expect(parseJpegQuantTables(jpeg.subarray(0, dqt + 10))).toEqual([]);
  });
});

describe('estimateJpegQuality', () => {
  it.each([10, 30, 50, 75, 85, 90, 95, 100])('estimates a sharp JPEG written at quality %i exactly', async (quality) => {
    expect(estimateJpegQuality(await jpegAt(quality))).toBe(quality);
  });

  it('estimates quality 75 within ±3 with chroma subsampling off and progressive on', async () => {
    const q = estimateJpegQuality(await jpegAt(75, { chromaSubsampling: '4:4:4', progressive: true }));
    expect(Math.abs(q - 75)).toBeLessThanOrEqual(3);
  });

  it('gives 0 when no table can be read', async () => {
    expect(estimateJpegQuality(Buffer.alloc(0))).toBe(0);
    expect(estimateJpegQuality(await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } }).webp().toBuffer())).toBe(0);
  });

  it('scales tables like libjpeg', () => {
    expect(toIjgTable([16, 11, 99], 50)).toEqual([16, 11, 99]);
    expect(toIjgTable([16, 11, 99], 100)).toEqual([1, 1, 1]);
    expect(toIjgTable([16, 11, 99], 1)).toEqual([255, 255, 255]);
    expect(toIjgTable([16, 11, 99], 75)).toEqual([8, 6, 50]);
  });
});
