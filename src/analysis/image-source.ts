import sharp, { type Metadata, type Sharp, type SharpOptions } from 'sharp';
import { CorruptImageError, PixelLimitError, UnsupportedImageError } from './errors.js';

/** Image bytes, or the path of an image file. */
export type ImageInput = Buffer | Uint8Array | string;

/** sharp's own default for `limitInputPixels` (0x3FFF²). */
export const DEFAULT_MAX_PIXELS = 268_402_689;

/**
 * Reads an image header with sharp. Only the header is parsed, so no pixel limit applies here; callers check
 * the dimensions with {@link assertWithinPixelLimit} before they decode anything.
 *
 * @throws UnsupportedImageError when sharp does not recognise the format.
 * @throws CorruptImageError when the header cannot be parsed.
 */
export async function readImageHeader(input: ImageInput): Promise<Metadata> {
  try {
    return await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw toImageError(error);
  }
}

/** Pixels in the frame sharp decodes by default: one page of a multi-page image. */
export const toFramePixels = (meta: Pick<Metadata, 'width' | 'height' | 'pageHeight'>): number =>
  meta.width * (meta.pageHeight ?? meta.height);

/**
 * Throws unless the header's frame fits within `maxPixels`.
 *
 * @throws PixelLimitError carrying the pixel count and the limit.
 */
export function assertWithinPixelLimit(meta: Pick<Metadata, 'width' | 'height' | 'pageHeight'>, maxPixels: number): void {
  const pixels = toFramePixels(meta);
  if (pixels > maxPixels) throw new PixelLimitError(pixels, maxPixels);
}

/**
 * A sharp instance for decoding, with the pixel limit enforced by libvips as well (defence in depth) and
 * decoding errors, not just warnings, treated as failures.
 */
export const openForDecode = (input: ImageInput, maxPixels: number, options: SharpOptions = {}): Sharp =>
  sharp(input, { limitInputPixels: maxPixels, failOn: 'error', ...options });

/**
 * Maps a sharp/libvips error onto the analysis error classes. Errors that are already analysis errors pass
 * through unchanged. `pixels`/`limit` describe the decode that failed, for libvips' own pixel-limit error.
 */
export function toImageError(error: unknown, pixelContext?: { pixels: number; limit: number }): Error {
  if (error instanceof PixelLimitError || error instanceof CorruptImageError || error instanceof UnsupportedImageError) {
    return error;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/unsupported image format/i.test(message)) {
    return new UnsupportedImageError('Input is not an image in a supported format', { cause: error });
  }
  if (/exceeds pixel limit/i.test(message)) {
    // libvips counts differently from the header check (e.g. all pages of a multi-page image).
    return new PixelLimitError(pixelContext?.pixels ?? Number.NaN, pixelContext?.limit ?? Number.NaN);
  }
  return new CorruptImageError(`Image is corrupt or truncated: ${message}`, { cause: error });
}
