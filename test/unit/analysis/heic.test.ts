import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { HeicDecodeError, PixelLimitError } from '../../../src/analysis/errors.js';
import { decodeHeicToPng, isHeic } from '../../../src/analysis/heic.js';

const heic = readFileSync(new URL('../../fixtures/small.heic', import.meta.url));

/** An ftyp box with the given major and compatible brands. */
const ftyp = (major: string, ...compatible: string[]) => {
  const size = 16 + 4 * compatible.length;
  const box = Buffer.alloc(size);
  box.writeUInt32BE(size, 0);
  box.write('ftyp', 4, 'latin1');
  box.write(major, 8, 'latin1');
  compatible.forEach((brand, i) => box.write(brand, 16 + 4 * i, 'latin1'));
  return box;
};

describe('isHeic', () => {
  it('recognises HEIC by its ftyp brands', () => {
    expect(isHeic(heic)).toBe(true);
    expect(isHeic(ftyp('heic', 'mif1', 'heic'))).toBe(true);
    expect(isHeic(ftyp('heix'))).toBe(true);
    expect(isHeic(ftyp('mif1', 'mif1', 'heic'))).toBe(true);
    expect(isHeic(ftyp('msf1', 'hevc'))).toBe(true);
  });

  it('rejects AVIF, generic HEIF without HEVC, MP4 and other data', async () => {
    const avif = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).avif().toBuffer();
    expect(isHeic(avif)).toBe(false);
    expect(isHeic(ftyp('mif1', 'mif1', 'avif'))).toBe(false);
    expect(isHeic(ftyp('isom', 'isom', 'mp41'))).toBe(false);
    expect(isHeic(Buffer.from('not an image at all'))).toBe(false);
    expect(isHeic(Buffer.alloc(0))).toBe(false);
  });
});

describe('decodeHeicToPng', () => {
  it('decodes the HEVC pixels sharp cannot', async () => {
    await expect(sharp(heic).png().toBuffer()).rejects.toThrow(/HEVC|compression format/i);

    const png = await decodeHeicToPng(heic);
    const meta = await sharp(png).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 64, height: 48, channels: 3, hasAlpha: false });
    const { channels } = await sharp(png).stats();
    const [r, g, b] = channels.map((c) => c.mean);
    expect(Math.abs((r ?? 0) - 200)).toBeLessThanOrEqual(10);
    expect(Math.abs((g ?? 0) - 40)).toBeLessThanOrEqual(10);
    expect(Math.abs((b ?? 0) - 90)).toBeLessThanOrEqual(10);
    // One flat colour: every pixel is within a few levels of the mean.
    for (const c of channels) expect(c.max - c.min).toBeLessThanOrEqual(6);
  });

  it('checks the pixel limit before decoding', async () => {
    const error = await decodeHeicToPng(heic, { maxPixels: 64 * 48 - 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PixelLimitError);
    expect(error).toMatchObject({ pixels: 64 * 48, limit: 64 * 48 - 1 });
    await expect(decodeHeicToPng(heic, { maxPixels: 64 * 48 })).resolves.toBeInstanceOf(Buffer);
  });

  it('throws HeicDecodeError for non-HEIC and truncated input', async () => {
    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).jpeg().toBuffer();
    await expect(decodeHeicToPng(jpeg)).rejects.toBeInstanceOf(HeicDecodeError);
    await expect(decodeHeicToPng(heic.subarray(0, Math.floor(heic.length * 0.9)))).rejects.toBeInstanceOf(HeicDecodeError);
  });
});
