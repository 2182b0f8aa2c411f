import fc from 'fast-check';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidPHashError, PixelLimitError, UnsupportedImageError } from '../../../src/analysis/errors.js';
import { computePHash, hammingDistance, isPHash, toLowFrequencyDct, toPHashHex } from '../../../src/analysis/phash.js';
import { noise, scene, shapes, stripes } from '../../helpers/images.js';

const hex16 = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 16, maxLength: 16 });

describe('hammingDistance', () => {
  it('counts differing bits', () => {
    expect(hammingDistance('0000000000000000', '0000000000000000')).toBe(0);
    expect(hammingDistance('0000000000000000', 'ffffffffffffffff')).toBe(64);
    expect(hammingDistance('0000000000000001', '0000000000000003')).toBe(1);
    expect(hammingDistance('8000000000000000', '0000000000000001')).toBe(2);
    expect(hammingDistance('ABCDEF0123456789', 'abcdef0123456789')).toBe(0);
  });

  it('rejects anything but 16 hex characters', () => {
    for (const bad of ['', '123', 'g000000000000000', '00000000000000000', '0x00000000000000']) {
      expect(() => hammingDistance(bad, '0000000000000000')).toThrow(InvalidPHashError);
      expect(() => hammingDistance('0000000000000000', bad)).toThrow(InvalidPHashError);
    }
  });

  it('is a metric on 64-bit hashes', () => {
    fc.assert(
      fc.property(hex16, hex16, hex16, (a, b, c) => {
        const ab = hammingDistance(a, b);
        expect(hammingDistance(a, a)).toBe(0);
        expect(ab === 0).toBe(a === b);
        expect(ab).toBe(hammingDistance(b, a));
        expect(ab).toBeGreaterThanOrEqual(0);
        expect(ab).toBeLessThanOrEqual(64);
        expect(hammingDistance(a, c)).toBeLessThanOrEqual(ab + hammingDistance(b, c));
      }),
      { numRuns: 500 },
    );
  });
});

describe('DCT and bit packing', () => {
  it('gives all-zero AC coefficients for a flat image', () => {
    const dct = toLowFrequencyDct(new Uint8Array(1024).fill(200));
    expect(dct).toHaveLength(64);
    for (const c of dct) expect(Math.abs(c)).toBeLessThan(1e-9);
  });

  it('puts the (u = 1, v = 1) cosine pattern into the first coefficient and nowhere else', () => {
    const samples = Array.from({ length: 1024 }, (_, i) => {
      const x = i % 32;
      const y = Math.floor(i / 32);
      return 128 + 60 * Math.cos(((2 * x + 1) * Math.PI) / 64) * Math.cos(((2 * y + 1) * Math.PI) / 64);
    });
    const dct = toLowFrequencyDct(samples);
    const [first, ...rest] = Array.from(dct);
    expect(first).toBeGreaterThan(1000);
    for (const c of rest) expect(Math.abs(c)).toBeLessThan(1e-6);
  });

  it('sets the bits above the median, most significant first', () => {
    const values = Float64Array.from({ length: 64 }, (_, i) => (i < 4 ? 10 : i >= 60 ? 5 : 0));
    expect(toPHashHex(values)).toBe('f00000000000000f');
  });

  it('refuses a sample grid of the wrong size', () => {
    expect(() => toLowFrequencyDct(new Uint8Array(100))).toThrow(RangeError);
  });
});

describe('computePHash', () => {
  let images: { scene: Buffer; shapes: Buffer; stripes: Buffer; noise: Buffer };
  beforeAll(async () => {
    images = { scene: await scene(), shapes: await shapes(), stripes: await stripes(), noise: await noise() };
  });

  it('returns 16 lowercase hex characters, the same every time', async () => {
    const first = await computePHash(images.scene);
    expect(first).toMatch(/^[0-9a-f]{16}$/);
    expect(isPHash(first)).toBe(true);
    expect(await computePHash(images.scene)).toBe(first);
  });

  it.each(['scene', 'shapes', 'noise'] as const)('keeps %s within 8 bits after JPEG q50 at half size', async (name) => {
    const original = await computePHash(images[name]);
    const degraded = await sharp(images[name]).resize(320).jpeg({ quality: 50 }).toBuffer();
    expect(hammingDistance(original, await computePHash(degraded))).toBeLessThanOrEqual(8);
  });

  it('tells unrelated pictures apart by at least 20 bits', async () => {
    const hashes = await Promise.all([images.scene, images.shapes, images.stripes, images.noise].map((i) => computePHash(i)));
    for (let i = 0; i < hashes.length; i++) {
      for (let j = i + 1; j < hashes.length; j++) {
        expect(hammingDistance(hashes[i] as string, hashes[j] as string), `images ${i} and ${j}`).toBeGreaterThanOrEqual(20);
      }
    }
  });

  it('hashes the upright picture of an EXIF-rotated JPEG', async () => {
    const upright = await computePHash(images.scene);
    const sideways = await sharp(images.scene).rotate(-90).jpeg({ quality: 90 }).withMetadata({ orientation: 6 }).toBuffer();
    const unrotated = await sharp(images.scene).rotate(-90).jpeg({ quality: 90 }).toBuffer();
    expect(hammingDistance(upright, await computePHash(sideways))).toBeLessThanOrEqual(4);
    expect(hammingDistance(upright, await computePHash(unrotated))).toBeGreaterThanOrEqual(20);
  });

  it('enforces the pixel limit before decoding', async () => {
    const error = await computePHash(images.scene, { maxPixels: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PixelLimitError);
    expect(error).toMatchObject({ pixels: 640 * 480, limit: 1000 });
  });

  it('rejects data that is not an image', async () => {
    await expect(computePHash(Buffer.from('definitely not an image'))).rejects.toBeInstanceOf(UnsupportedImageError);
  });
});
