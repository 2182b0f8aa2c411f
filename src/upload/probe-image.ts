import type { Readable } from 'node:stream';
import sharp, { type Sharp } from 'sharp';

export interface ImageDimensions {
  width: number;
  height: number;
  hasAlpha: boolean;
}

/** EXIF orientations 5–8 turn the picture a quarter: the displayed width is the stored height. */
const isQuarterTurn = (orientation: number | undefined) => orientation !== undefined && orientation >= 5 && orientation <= 8;

async function readDimensions(input: Sharp): Promise<ImageDimensions | undefined> {
  const meta = await input.metadata();
  if (!meta.width || !meta.height) return undefined;
  // Animated images report the height of all pages stacked; a frame's height is pageHeight.
  const height = meta.pageHeight ?? meta.height;
  const hasAlpha = meta.hasAlpha ?? false;
  return isQuarterTurn(meta.orientation) ? { width: height, height: meta.width, hasAlpha } : { width: meta.width, height, hasAlpha };
}

/**
 * Reads an image's displayed dimensions from its header only (no pixel is decoded, so no pixel limit
 * applies). Tries the bytes already at hand first; formats whose header sits later in the file (some TIFF,
 * HEIF) are read from `openFull`. Undecodable data gives `undefined`.
 */
export async function probeImage(head: Buffer, headIsWholeFile: boolean, openFull: () => Promise<Readable>): Promise<ImageDimensions | undefined> {
  try {
    const dims = await readDimensions(sharp(head, { limitInputPixels: false }));
    if (dims) return dims;
  } catch {
    if (headIsWholeFile) return undefined;
  }
  try {
    const full = await openFull();
    const reader = sharp({ limitInputPixels: false });
    full.pipe(reader);
    return await readDimensions(reader);
  } catch {
    return undefined;
  }
}
