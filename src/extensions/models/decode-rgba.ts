import sharp from 'sharp';
import { UndecodableImageError } from './errors.js';

/** Raw pixels: `width × height × 4` bytes, 8-bit sRGB with straight (not premultiplied) alpha, row by row. */
export interface RgbaImage {
  data: Buffer;
  width: number;
  height: number;
}

/**
 * Decodes any image sharp reads (first page of an animation) into raw RGBA: EXIF orientation applied,
 * converted to 8-bit sRGB, an opaque alpha channel added when the image has none. With `size` the picture is
 * stretched to exactly that size (no cropping, aspect ratio not kept), which lets sharp shrink large JPEGs
 * while decoding them.
 *
 * @throws UndecodableImageError when sharp cannot decode `image`.
 */
export async function decodeRgba(image: Buffer, size?: { width: number; height: number }): Promise<RgbaImage> {
  try {
    let pipeline = sharp(image).autoOrient();
    if (size) pipeline = pipeline.resize(size.width, size.height, { fit: 'fill' });
    const { data, info } = await pipeline
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`expected 4 channels after decoding, got ${info.channels}`);
    return { data, width: info.width, height: info.height };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UndecodableImageError(`Cannot decode the image (${image.length} bytes): ${reason}`, { cause: error });
  }
}
