import { readFileHead } from './read-file-head.js';
import type { Metadata } from 'sharp';
import { CorruptImageError } from './errors.js';
import { estimateJpegQuality } from './jpeg-quality.js';
import { decodePHashSamples, pHashOfSamples } from './phash.js';
import {
  assertWithinPixelLimit,
  DEFAULT_MAX_PIXELS,
  type ImageInput,
  openForDecode,
  readImageHeader,
  toFramePixels,
  toImageError,
} from './image-source.js';

/** What Stowage records about an image (ImageKit's legacy `metadata` fields, minus size/pHash/EXIF). */
export interface ImageInfo {
  /** ImageKit-style format name: `jpg`, `png`, `webp`, `gif`, `avif`, `heic`, `tiff`, `svg`, else sharp's name. */
  format: string;
  /** Displayed width: EXIF orientation applied; one frame of an animation. */
  width: number;
  /** Displayed height: EXIF orientation applied; one frame of an animation. */
  height: number;
  /** The image has an alpha channel (palette transparency counts). */
  hasAlpha: boolean;
  /** Some pixel of the (first) frame has alpha below fully opaque. */
  hasTransparency: boolean;
  /** An ICC profile is embedded. */
  hasColorProfile: boolean;
  /** Pixels per inch from the header, or `null` when the file states none. */
  density: number | null;
  /** Estimated JPEG quality 1–100; `0` for other formats or when not derivable. */
  quality: number;
  /** A GIF or WebP with more than one frame. */
  isAnimated: boolean;
  /** Frames/pages in the file (1 for a still image). */
  pages: number;
  /** EXIF orientation 1–8 (1 when absent). */
  orientation: number;
}

export interface ReadImageInfoOptions {
  /** Largest frame (width × height) that may be decoded. Defaults to sharp's 268,402,689. */
  maxPixels?: number;
  /**
   * Also compute the perceptual hash when the decode that proves the data intact can make it (no alpha channel):
   * one decode instead of two. `pHash` is left out when it could not be made that way.
   */
  withPHash?: boolean;
}

/** Bytes of a JPEG file read to find its quantisation tables (they precede the first scan). */
const JPEG_HEAD_BYTES = 1024 * 1024;

/** Maps sharp's decoder name onto ImageKit's format names. */
export function toImageKitFormat(meta: Pick<Metadata, 'format' | 'compression'>): string {
  switch (meta.format) {
    case 'jpeg':
      return 'jpg';
    case 'heif':
      return meta.compression === 'av1' ? 'avif' : 'heic';
    default:
      return meta.format;
  }
}

/** EXIF orientations 5–8 turn the picture a quarter: the displayed width is the stored height. */
const isQuarterTurn = (orientation: number) => orientation >= 5 && orientation <= 8;

const isAnimatedFormat = (format: string) => format === 'gif' || format === 'webp';

/**
 * Reads an image's properties. The header is read first and the pixel limit checked before any decoding;
 * then the first frame is decoded once, which both proves the data is intact and answers
 * `hasTransparency` (exactly, at full resolution, when there is an alpha channel; otherwise through a
 * cheap shrink-on-load decode).
 *
 * HEIC (HEVC) pixels cannot be decoded by sharp's libvips, so for `heic` the decode is skipped:
 * `hasTransparency` then equals `hasAlpha`, and corruption past the header goes unnoticed.
 *
 * @throws PixelLimitError when one frame has more than `maxPixels` pixels.
 * @throws UnsupportedImageError when the data is not an image sharp can read.
 * @throws CorruptImageError when the header or the pixel data is damaged or truncated.
 */
export async function readImageInfo(input: ImageInput, options: ReadImageInfoOptions = {}): Promise<ImageInfo & { pHash?: string }> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const meta = await readImageHeader(input);
  if (!meta.width || !meta.height) throw new CorruptImageError('Image header has no dimensions');
  assertWithinPixelLimit(meta, maxPixels);

  const format = toImageKitFormat(meta);
  const orientation = meta.orientation ?? 1;
  const frameHeight = meta.pageHeight ?? meta.height;
  const pages = meta.pages ?? 1;
  const decoded = format === 'heic' ? { hasTransparency: meta.hasAlpha } : await decodeFirstFrame(input, meta, maxPixels, options.withPHash ?? false);

  return {
    format,
    width: isQuarterTurn(orientation) ? frameHeight : meta.width,
    height: isQuarterTurn(orientation) ? meta.width : frameHeight,
    hasAlpha: meta.hasAlpha,
    hasTransparency: decoded.hasTransparency,
    hasColorProfile: meta.hasProfile,
    density: meta.density ?? null,
    quality: format === 'jpg' ? estimateJpegQuality(await readHead(input, JPEG_HEAD_BYTES)) : 0,
    isAnimated: pages > 1 && isAnimatedFormat(format),
    pages,
    orientation,
    ...(decoded.pHash ? { pHash: decoded.pHash } : {}),
  };
}

/**
 * Decodes the first frame; returns whether any pixel is less than fully opaque, and with `withPHash` the perceptual
 * hash when this decode can make it: an opaque image is proven intact by the hash's own decode. Should that decode fail,
 * the plain one decides whether the image is corrupt (the hash is then left to the caller, as without `withPHash`).
 */
async function decodeFirstFrame(input: ImageInput, meta: Metadata, maxPixels: number, withPHash: boolean): Promise<{ hasTransparency: boolean; pHash?: string }> {
  const pixelContext = { pixels: toFramePixels(meta), limit: maxPixels };
  try {
    if (meta.hasAlpha) {
      // stats() reads every pixel of the input (it ignores pipeline operations) and reports isOpaque.
      const stats = await openForDecode(input, maxPixels).stats();
      return { hasTransparency: !stats.isOpaque };
    }
    if (withPHash) {
      const samples = await decodePHashSamples(input, maxPixels).catch(() => undefined);
      if (samples) return { hasTransparency: false, pHash: pHashOfSamples(samples) };
    }
    await openForDecode(input, maxPixels).resize(64, 64, { fit: 'inside' }).raw().toBuffer();
    return { hasTransparency: false };
  } catch (error) {
    throw toImageError(error, pixelContext);
  }
}

async function readHead(input: ImageInput, bytes: number): Promise<Uint8Array> {
  return typeof input === 'string' ? readFileHead(input, bytes) : input.subarray(0, bytes);
}
