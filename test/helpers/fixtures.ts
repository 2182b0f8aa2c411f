import { randomBytes } from 'node:crypto';
import sharp from 'sharp';

/** A JPEG of the given size, solid colour; `orientation` sets the EXIF Orientation tag. */
export async function makeJpeg(width: number, height: number, options: { color?: string; orientation?: number } = {}): Promise<Buffer> {
  let image = sharp({ create: { width, height, channels: 3, background: options.color ?? '#3366cc' } }).jpeg({ quality: 90 });
  if (options.orientation) image = image.withMetadata({ orientation: options.orientation });
  return image.toBuffer();
}

export async function makePng(width: number, height: number, alpha = false): Promise<Buffer> {
  return sharp({ create: { width, height, channels: alpha ? 4 : 3, background: alpha ? { r: 255, g: 0, b: 0, alpha: 0.5 } : '#22aa44' } })
    .png()
    .toBuffer();
}

/** Random bytes that no magic number matches. */
export function randomBytesOf(size: number): Buffer {
  const buf = randomBytes(size);
  if (size > 1) {
    buf[0] = 0x00;
    buf[1] = 0x01;
  }
  return buf;
}
