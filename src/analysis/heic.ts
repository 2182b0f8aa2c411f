import { createRequire } from 'node:module';
import sharp from 'sharp';
import { HeicDecodeError } from './errors.js';
import { assertWithinPixelLimit, DEFAULT_MAX_PIXELS, readImageHeader } from './image-source.js';

/**
 * The parts of libheif-js (an Emscripten build of libheif with the libde265 HEVC decoder, LGPL-3.0) used
 * here. It ships no declarations for its entry points, so the shape is written down.
 */
interface HeifImageHandle {
  get_width(): number;
  get_height(): number;
  is_primary(): boolean;
  has_alpha_channel(): boolean;
  /** Decodes into `target.data` as RGBA; calls back with `target`, or `null` on failure. */
  display(
    target: { data: Uint8ClampedArray; width: number; height: number },
    callback: (result: { data: Uint8ClampedArray } | null) => void,
  ): void;
  free(): void;
}

interface HeifDecoder {
  /** Parses the container; returns the top-level images (empty when the data cannot be parsed). */
  decode(data: Uint8Array): HeifImageHandle[];
  /** The libheif context; `delete()` releases it. */
  decoder: { delete(): void } | null;
}

interface LibHeif {
  HeifDecoder: new () => HeifDecoder;
  ready?: Promise<unknown>;
}

let libheif: LibHeif | undefined;

/** Loads the wasm build on first use (~150 ms), so importing this module costs nothing. */
function loadLibHeif(): LibHeif {
  if (!libheif) {
    const require = createRequire(import.meta.url);
    // The bundle embeds the wasm binary: nothing is read from disk or fetched at run time.
    libheif = require('libheif-js/wasm-bundle') as LibHeif;
  }
  return libheif;
}

/** ISO-BMFF major brands of HEIF still images and sequences that carry HEVC. */
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);

/**
 * True when the data starts with an ISO-BMFF `ftyp` box whose major brand is an HEVC image brand (`heic`,
 * `heix`, `hevc`…), or is the generic `mif1`/`msf1` with an HEVC brand among the compatible brands. AVIF
 * is not HEIC: sharp decodes it itself.
 */
export function isHeic(data: Uint8Array): boolean {
  if (data.length < 12) return false;
  const text = (from: number, to: number) => Buffer.from(data.subarray(from, to)).toString('latin1');
  if (text(4, 8) !== 'ftyp') return false;
  const major = text(8, 12);
  if (major !== 'mif1' && major !== 'msf1') return HEIC_BRANDS.has(major);
  // Generic HEIF brand: an HEVC brand must be among the compatible brands.
  const declared = (((data[0] ?? 0) << 24) | ((data[1] ?? 0) << 16) | ((data[2] ?? 0) << 8) | (data[3] ?? 0)) >>> 0;
  const boxEnd = Math.min(declared, data.length);
  for (let at = 16; at + 4 <= boxEnd; at += 4) {
    if (HEIC_BRANDS.has(text(at, at + 4))) return true;
  }
  return false;
}

export interface DecodeHeicOptions {
  /** Largest image (width × height) that may be decoded. Defaults to sharp's 268,402,689. */
  maxPixels?: number;
}

function decodePixels(image: HeifImageHandle, width: number, height: number): Promise<Uint8ClampedArray> {
  return new Promise((resolve, reject) => {
    const target = { data: new Uint8ClampedArray(width * height * 4), width, height };
    image.display(target, (result) => {
      if (result) resolve(result.data);
      else reject(new HeicDecodeError('libheif could not decode the HEIC image'));
    });
  });
}

/**
 * Decodes the primary image of a HEIC file (the first one when none is marked primary) to a PNG, with
 * libheif-js (wasm; sharp's prebuilt libvips has no HEVC decoder). The pixel limit is checked twice before
 * decoding: on the header as sharp reads it, then on the image libheif is about to decode. The PNG keeps
 * an alpha channel only when the HEIC has one.
 *
 * @throws HeicDecodeError when the data is not HEIC or libheif cannot parse or decode it.
 * @throws PixelLimitError when the image has more than `maxPixels` pixels.
 */
export async function decodeHeicToPng(data: Uint8Array, options: DecodeHeicOptions = {}): Promise<Buffer> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!isHeic(data)) throw new HeicDecodeError('Input is not a HEIC image');
  const header = await readImageHeader(data).catch((error: unknown) => {
    throw new HeicDecodeError('HEIC header cannot be read', { cause: error });
  });
  assertWithinPixelLimit(header, maxPixels);

  const lib = loadLibHeif();
  await lib.ready;
  const decoder = new lib.HeifDecoder();
  const images = decoder.decode(data);
  try {
    const image = images.find((i) => i.is_primary()) ?? images[0];
    if (!image) throw new HeicDecodeError('HEIC file contains no image libheif can read');
    const width = image.get_width();
    const height = image.get_height();
    assertWithinPixelLimit({ width, height }, maxPixels);
    const rgba = await decodePixels(image, width, height);
    const png = sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), {
      raw: { width, height, channels: 4 },
      limitInputPixels: maxPixels,
    });
    return await (image.has_alpha_channel() ? png : png.removeAlpha()).png().toBuffer();
  } finally {
    for (const image of images) image.free();
    decoder.decoder?.delete();
  }
}
