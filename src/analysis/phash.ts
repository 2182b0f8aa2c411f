import { InvalidPHashError } from './errors.js';
import {
  assertWithinPixelLimit,
  DEFAULT_MAX_PIXELS,
  type ImageInput,
  openForDecode,
  readImageHeader,
  toFramePixels,
  toImageError,
} from './image-source.js';

/** Side of the greyscale square the DCT runs on. */
const SAMPLE_SIZE = 32;
/** Side of the low-frequency block that makes the 64 bits. */
const BLOCK_SIZE = 8;

export interface ComputePHashOptions {
  /** Largest frame (width × height) that may be decoded. Defaults to sharp's 268,402,689. */
  maxPixels?: number;
}

/**
 * `cos((2x + 1)·u·π / 2N)` for u = 1..8 (row u-1) and x = 0..N-1: the DCT-II basis for the coefficients
 * the hash uses. Normalisation factors are left out: every coefficient used has u, v ≥ 1, so they share
 * one factor, which cannot change a comparison against their median.
 */
const COSINES: readonly Float64Array[] = Array.from({ length: BLOCK_SIZE }, (_, row) => {
  const u = row + 1;
  return Float64Array.from({ length: SAMPLE_SIZE }, (_, x) => Math.cos(((2 * x + 1) * u * Math.PI) / (2 * SAMPLE_SIZE)));
});

/**
 * The DCT-II coefficients (u, v) for u, v = 1..8 of a 32×32 greyscale square, row-major (v outer), as 64
 * values. Row 0 and column 0 (the DC term and the pure horizontal/vertical averages) are left out, as in
 * the classic pHash.
 */
export function toLowFrequencyDct(pixels: Uint8Array | readonly number[]): Float64Array {
  if (pixels.length !== SAMPLE_SIZE * SAMPLE_SIZE) {
    throw new RangeError(`Expected ${SAMPLE_SIZE * SAMPLE_SIZE} greyscale samples, got ${pixels.length}`);
  }
  // Rows first: rowCoefficients[y][u] = Σx p(x, y)·cos_u(x).
  const rowCoefficients = new Float64Array(SAMPLE_SIZE * BLOCK_SIZE);
  for (let y = 0; y < SAMPLE_SIZE; y++) {
    for (let u = 0; u < BLOCK_SIZE; u++) {
      const basis = COSINES[u] as Float64Array;
      let sum = 0;
      for (let x = 0; x < SAMPLE_SIZE; x++) sum += (pixels[y * SAMPLE_SIZE + x] ?? 0) * (basis[x] ?? 0);
      rowCoefficients[y * BLOCK_SIZE + u] = sum;
    }
  }
  // Then columns: out[v][u] = Σy rowCoefficients[y][u]·cos_v(y).
  const out = new Float64Array(BLOCK_SIZE * BLOCK_SIZE);
  for (let v = 0; v < BLOCK_SIZE; v++) {
    const basis = COSINES[v] as Float64Array;
    for (let u = 0; u < BLOCK_SIZE; u++) {
      let sum = 0;
      for (let y = 0; y < SAMPLE_SIZE; y++) sum += (rowCoefficients[y * BLOCK_SIZE + u] ?? 0) * (basis[y] ?? 0);
      out[v * BLOCK_SIZE + u] = sum;
    }
  }
  return out;
}

/** 64 coefficients → 16 lowercase hex chars: bit i (most significant first) is set when value i > median. */
export function toPHashHex(coefficients: Float64Array): string {
  const sorted = Float64Array.from(coefficients).sort();
  const half = sorted.length / 2;
  const median = ((sorted[half - 1] ?? 0) + (sorted[half] ?? 0)) / 2;
  let hex = '';
  for (let i = 0; i < coefficients.length; i += 4) {
    let nibble = 0;
    for (let bit = 0; bit < 4; bit++) nibble = (nibble << 1) | ((coefficients[i + bit] ?? 0) > median ? 1 : 0);
    hex += nibble.toString(16);
  }
  return hex;
}

/**
 * The 64-bit DCT perceptual hash of an image as 16 lowercase hex characters (classic pHash): upright per
 * EXIF, transparent areas flattened onto white, greyscale, squashed to 32×32, 2-D DCT, the 8×8
 * low-frequency block without the DC row and column, each bit "above the median". Similar pictures give
 * hashes a small {@link hammingDistance} apart. Animated images are hashed by their first frame.
 *
 * @throws PixelLimitError when one frame has more than `maxPixels` pixels.
 * @throws UnsupportedImageError | CorruptImageError when the image cannot be decoded.
 */
export async function computePHash(input: ImageInput, options: ComputePHashOptions = {}): Promise<string> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const meta = await readImageHeader(input);
  assertWithinPixelLimit(meta, maxPixels);
  let samples: Buffer;
  try {
    samples = await decodePHashSamples(input, maxPixels);
  } catch (error) {
    throw toImageError(error, { pixels: toFramePixels(meta), limit: maxPixels });
  }
  return pHashOfSamples(samples);
}

/**
 * The first frame decoded into the hash's 32×32 greyscale square (the decode `computePHash` makes), for callers that
 * checked the header themselves. Rejects with sharp's own error when the data cannot be decoded.
 */
export const decodePHashSamples = (input: ImageInput, maxPixels: number): Promise<Buffer> =>
  openForDecode(input, maxPixels)
    .rotate()
    .flatten({ background: '#ffffff' })
    .greyscale()
    .resize(SAMPLE_SIZE, SAMPLE_SIZE, { fit: 'fill' })
    .extractChannel(0)
    .raw()
    .toBuffer();

/** The hash of samples from {@link decodePHashSamples}. */
export const pHashOfSamples = (samples: Uint8Array): string => toPHashHex(toLowFrequencyDct(samples));

const PHASH_PATTERN = /^[0-9a-f]{16}$/i;

/** True for a 16-character hexadecimal string. */
export const isPHash = (value: string): boolean => PHASH_PATTERN.test(value);

/**
 * Number of differing bits between two 64-bit hashes given as 16 hex characters (case-insensitive).
 *
 * @throws InvalidPHashError when either argument is not 16 hex characters.
 */
export function hammingDistance(a: string, b: string): number {
  for (const hash of [a, b]) {
    if (!isPHash(hash)) throw new InvalidPHashError(`Not a 16-hex-character perceptual hash: ${JSON.stringify(hash.slice(0, 40))}`);
  }
  let diff = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
  let count = 0;
  while (diff > 0n) {
    diff &= diff - 1n;
    count++;
  }
  return count;
}
