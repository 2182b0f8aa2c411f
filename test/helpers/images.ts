import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

// Test images made on the fly with sharp (SVG rendering or raw pixels): nothing here comes from outside.

/** Renders an SVG document to a PNG of the given size. */
export const svgToPng = (svg: string): Promise<Buffer> => sharp(Buffer.from(svg)).png().toBuffer();

/** A structured picture: sky gradient, a sun, two hills and a house. */
export const scene = (width = 640, height = 480): Promise<Buffer> =>
  svgToPng(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 640 480">
    <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#1e3c72"/><stop offset="1" stop-color="#c9d6ff"/></linearGradient></defs>
    <rect width="640" height="480" fill="url(#sky)"/>
    <circle cx="500" cy="110" r="60" fill="#ffd200"/>
    <ellipse cx="160" cy="470" rx="300" ry="170" fill="#2e7d32"/>
    <ellipse cx="520" cy="500" rx="260" ry="150" fill="#1b5e20"/>
    <rect x="110" y="250" width="120" height="90" fill="#8d6e63"/>
    <polygon points="100,250 170,190 240,250" fill="#b71c1c"/>
  </svg>`);

/** A different composition: a dark frame with a large white disc low on the left and a bar at the top right. */
export const shapes = (width = 640, height = 480): Promise<Buffer> =>
  svgToPng(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 640 480">
    <rect width="640" height="480" fill="#202020"/>
    <circle cx="180" cy="330" r="130" fill="#f5f5f5"/>
    <rect x="380" y="40" width="220" height="70" fill="#e0e0e0"/>
    <rect x="420" y="260" width="60" height="180" fill="#707070"/>
  </svg>`);

/** Eight vertical stripes, black and white in turn. */
export const stripes = (width = 640, height = 480): Promise<Buffer> =>
  svgToPng(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 8 1" preserveAspectRatio="none">
    <rect width="8" height="1" fill="#fff"/>
    ${Array.from({ length: 4 }, (_, i) => `<rect x="${i * 2}" width="1" height="1" fill="#000"/>`).join('')}
  </svg>`);

/** Deterministic pseudo-random bytes (mulberry32), so tests built on them cannot flake. */
export function seededBytes(length: number, seed = 42): Buffer {
  const out = Buffer.alloc(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

/** Greyscale noise from {@link seededBytes}, as a PNG. */
export const noise = (width = 640, height = 480, seed = 42): Promise<Buffer> =>
  sharp(seededBytes(width * height, seed), { raw: { width, height, channels: 1 } }).png().toBuffer();

/** A solid colour image in the given format. */
export const solid = (
  width: number,
  height: number,
  background: { r: number; g: number; b: number; alpha?: number },
  channels: 3 | 4 = 3,
) => sharp({ create: { width, height, channels, background } });

/**
 * A PNG that is little more than a header: IHDR with the given size and one tiny IDAT (libpng wants to see
 * the first IDAT before it reports the header), nowhere near the pixel data the size calls for.
 */
export function pngHeaderOnly(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, deflate, no filter, no interlace
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]);
}
