import sharp from 'sharp';
import type { RgbColour } from './background-colour.js';
import type { RgbaImage } from './decode-rgba.js';
import { UndecodableImageError } from './errors.js';

/** What the cut-out is laid on, and how. */
export interface CutOutRendering {
  /** A plain colour, or an encoded picture resized to cover the cut-out; none keeps the background transparent. */
  background?: { colour: RgbColour } | { image: Buffer };
  /** Lay a soft shadow, offset down and to the right, under the subject. */
  shadow?: boolean;
}

/**
 * Puts a foreground mask into an image's alpha channel: the new alpha is the smaller of the image's own alpha
 * and the mask. With `semitransparency` false every pixel becomes fully opaque or fully transparent (mask ≥ 128
 * keeps it). Returns a new image; the input is not changed.
 */
export function applyMask(image: RgbaImage, mask: Uint8Array, semitransparency: boolean): RgbaImage {
  const pixels = image.width * image.height;
  if (mask.length !== pixels) throw new RangeError(`mask has ${mask.length} pixels, image has ${pixels}`);
  const data = Buffer.from(image.data);
  for (let p = 0; p < pixels; p++) {
    const m = semitransparency ? mask[p]! : mask[p]! >= 128 ? 255 : 0;
    data[4 * p + 3] = Math.min(data[4 * p + 3]!, m);
  }
  return { data, width: image.width, height: image.height };
}

/**
 * A black shadow of the subject: its alpha, blurred, at `opacity`, moved right and down by about 1.5% of the
 * shorter side. Same size as the subject.
 */
export async function dropShadow(subject: RgbaImage, opacity = 0.5): Promise<RgbaImage> {
  const { width, height } = subject;
  const pixels = width * height;
  const alpha = Buffer.alloc(pixels);
  for (let p = 0; p < pixels; p++) alpha[p] = subject.data[4 * p + 3]!;
  const side = Math.min(width, height);
  const sigma = Math.max(0.3, side * 0.02);
  const offset = Math.round(side * 0.015);
  const blurred = await sharp(alpha, { raw: { width, height, channels: 1 } }).blur(sigma).extractChannel(0).raw().toBuffer();
  const data = Buffer.alloc(pixels * 4);
  for (let y = offset; y < height; y++) {
    for (let x = offset; x < width; x++) {
      data[4 * (y * width + x) + 3] = Math.round(blurred[(y - offset) * width + (x - offset)]! * opacity);
    }
  }
  return { data, width, height };
}

function raw(image: RgbaImage) {
  return { raw: { width: image.width, height: image.height, channels: 4 as const } };
}

/** The RGB pixels of an encoded picture, resized (and cropped) to cover `width × height`, flattened on white. */
async function coverBackground(picture: Buffer, width: number, height: number): Promise<Buffer> {
  try {
    return await sharp(picture)
      .autoOrient()
      .resize(width, height, { fit: 'cover' })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UndecodableImageError(`Cannot decode bgImage (${picture.length} bytes): ${reason}`, { cause: error });
  }
}

/**
 * Encodes a cut-out as PNG: with no background, RGBA with the subject's alpha; on a colour or a picture, opaque
 * RGB. The shadow, when asked for, lies between the background and the subject.
 *
 * @throws UndecodableImageError when the background picture cannot be decoded.
 */
export async function renderCutOut(cut: RgbaImage, rendering: CutOutRendering = {}): Promise<Buffer> {
  const { width, height } = cut;
  let layer = cut;
  if (rendering.shadow) {
    const shadow = await dropShadow(cut);
    const data = await sharp({ create: { width, height, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .composite([
        { input: shadow.data, ...raw(shadow) },
        { input: cut.data, ...raw(cut) },
      ])
      .raw()
      .toBuffer();
    layer = { data, width, height };
  }

  const background = rendering.background;
  if (!background) return sharp(layer.data, raw(layer)).png().toBuffer();
  if ('colour' in background) {
    return sharp(layer.data, raw(layer)).flatten({ background: background.colour }).png().toBuffer();
  }
  const base = await coverBackground(background.image, width, height);
  const composed = await sharp(base, { raw: { width, height, channels: 3 } })
    .composite([{ input: layer.data, ...raw(layer) }])
    .raw()
    .toBuffer({ resolveWithObject: true });
  return sharp(composed.data, { raw: { width, height, channels: composed.info.channels } })
    .removeAlpha()
    .png()
    .toBuffer();
}
