import sharp from 'sharp';
import { InvalidRemoveBgOptionsError } from './errors.js';

/** An opaque sRGB colour, 0–255 a channel. */
export interface RgbColour {
  r: number;
  g: number;
  b: number;
}

const HEX = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i;
const NAME = /^[a-z]+$/i;

/**
 * Parses ImageKit's `bg_color`: a hex colour of 3 or 6 digits, with or without `#` (`81d4fa`, `#fff`), or a CSS
 * colour name (`red`, `LightBlue`). Hex wins where a string is both (`add` is `#aadddd`). sharp's colour parser
 * does the work, so the names are exactly the CSS ones it knows.
 *
 * @throws InvalidRemoveBgOptionsError when `value` is neither.
 */
export async function parseBackgroundColour(value: string): Promise<RgbColour> {
  const trimmed = value.trim();
  const spec = HEX.test(trimmed) ? `#${trimmed.replace(/^#/, '')}` : NAME.test(trimmed) ? trimmed.toLowerCase() : undefined;
  if (spec !== undefined) {
    try {
      const pixel = await sharp({ create: { width: 1, height: 1, channels: 3, background: spec } }).raw().toBuffer();
      return { r: pixel[0]!, g: pixel[1]!, b: pixel[2]! };
    } catch {
      // not a colour sharp knows: reported below
    }
  }
  throw new InvalidRemoveBgOptionsError(
    `bgColor must be a hex colour (like 81d4fa or #fff) or a CSS colour name, got ${JSON.stringify(value)}`,
  );
}
