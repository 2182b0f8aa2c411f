/**
 * Names the colours of a picture: every pixel takes the name of the nearest reference colour (CIE 1976 ΔE in
 * L*a*b*), and each name's share is the fraction of opaque pixels it took. The names are the basic colour
 * terms (Berlin & Kay) plus beige and turquoise; each has several sRGB references so that dark, light and
 * muted shades land on the name people would use.
 */

type Rgb = readonly [number, number, number];

const REFERENCES = {
  black: [[0, 0, 0], [28, 28, 28]],
  white: [[255, 255, 255], [240, 240, 240]],
  gray: [[128, 128, 128], [192, 192, 192], [80, 80, 80], [112, 128, 144]],
  red: [[255, 0, 0], [200, 30, 30], [139, 0, 0], [220, 20, 60], [114, 47, 55]],
  orange: [[255, 165, 0], [255, 127, 0], [230, 120, 40]],
  yellow: [[255, 255, 0], [255, 215, 0], [240, 220, 80]],
  green: [[0, 128, 0], [0, 255, 0], [34, 139, 34], [107, 142, 35], [144, 238, 144], [0, 100, 0]],
  turquoise: [[64, 224, 208], [0, 128, 128], [0, 255, 255]],
  blue: [[0, 0, 255], [30, 144, 255], [0, 0, 128], [135, 206, 235], [70, 130, 180], [65, 105, 225], [25, 25, 112]],
  purple: [[128, 0, 128], [148, 0, 211], [147, 112, 219], [75, 0, 130], [200, 180, 230]],
  pink: [[255, 192, 203], [255, 105, 180], [255, 20, 147], [219, 112, 147], [250, 128, 114]],
  brown: [[139, 69, 19], [160, 82, 45], [101, 67, 33], [165, 42, 42], [92, 64, 51]],
  beige: [[245, 245, 220], [222, 184, 135], [210, 180, 140]],
} as const satisfies Record<string, readonly Rgb[]>;

/** A colour name that {@link colourShares} can return. */
export type ColourName = keyof typeof REFERENCES;

/** Every colour name, in a fixed order. */
export const COLOUR_NAMES = Object.keys(REFERENCES) as ColourName[];

/** The share of a picture's opaque pixels that took one colour name. */
export interface ColourShare {
  name: ColourName;
  /** 0–1. */
  share: number;
}

/** sRGB channel (0–255) to linear light (0–1). */
function linear(channel: number): number {
  const c = channel / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

function labF(t: number): number {
  return t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116;
}

/** sRGB (0–255 each) to CIE L*a*b* with a D65 white point. */
export function rgbToLab(r: number, g: number, b: number): [number, number, number] {
  const [lr, lg, lb] = [linear(r), linear(g), linear(b)];
  const x = (0.4124564 * lr + 0.3575761 * lg + 0.1804375 * lb) / 0.95047;
  const y = 0.2126729 * lr + 0.7151522 * lg + 0.072175 * lb;
  const z = (0.0193339 * lr + 0.119192 * lg + 0.9503041 * lb) / 1.08883;
  const [fx, fy, fz] = [labF(x), labF(y), labF(z)];
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

const LAB_REFERENCES: { name: ColourName; lab: [number, number, number] }[] = COLOUR_NAMES.flatMap((name) =>
  REFERENCES[name].map(([r, g, b]) => ({ name, lab: rgbToLab(r, g, b) })),
);

/** The colour name nearest to an sRGB colour. */
export function nameColour(r: number, g: number, b: number): ColourName {
  const [l, a, bb] = rgbToLab(r, g, b);
  let best = LAB_REFERENCES[0]!;
  let bestDistance = Infinity;
  for (const reference of LAB_REFERENCES) {
    const distance = (reference.lab[0] - l) ** 2 + (reference.lab[1] - a) ** 2 + (reference.lab[2] - bb) ** 2;
    if (distance < bestDistance) {
      best = reference;
      bestDistance = distance;
    }
  }
  return best.name;
}

/**
 * The share of each colour name among the opaque pixels (alpha ≥ 128) of raw RGBA pixels, largest first (ties
 * by name); names that took no pixel are left out. Downscale the picture first (a few thousand pixels are
 * plenty): the cost is linear in the number of pixels. An all-transparent picture gives `[]`.
 */
export function colourShares(rgba: Uint8Array): ColourShare[] {
  const counts = new Map<ColourName, number>();
  const cache = new Map<number, ColourName>();
  let opaque = 0;
  for (let i = 0; i + 3 < rgba.length; i += 4) {
    if (rgba[i + 3]! < 128) continue;
    opaque++;
    const key = (rgba[i]! << 16) | (rgba[i + 1]! << 8) | rgba[i + 2]!;
    let name = cache.get(key);
    if (name === undefined) {
      name = nameColour(rgba[i]!, rgba[i + 1]!, rgba[i + 2]!);
      cache.set(key, name);
    }
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  if (opaque === 0) return [];
  return [...counts]
    .map(([name, count]) => ({ name, share: count / opaque }))
    .sort((x, y) => y.share - x.share || x.name.localeCompare(y.name));
}
