import { describe, expect, it } from 'vitest';
import { COLOUR_NAMES, colourShares, nameColour, rgbToLab } from '../../../src/extensions/models/colour-names.js';

const rgba = (...pixels: [number, number, number, number][]) => Uint8Array.from(pixels.flat());

describe('nameColour', () => {
  it.each([
    [[255, 0, 0], 'red'],
    [[139, 0, 0], 'red'],
    [[0, 0, 255], 'blue'],
    [[20, 30, 80], 'blue'],
    [[135, 190, 235], 'blue'],
    [[0, 255, 0], 'green'],
    [[86, 130, 3], 'green'],
    [[255, 255, 255], 'white'],
    [[0, 0, 0], 'black'],
    [[128, 128, 128], 'gray'],
    [[255, 165, 0], 'orange'],
    [[255, 255, 0], 'yellow'],
    [[128, 0, 128], 'purple'],
    [[255, 192, 203], 'pink'],
    [[139, 69, 19], 'brown'],
    [[245, 245, 220], 'beige'],
    [[0, 128, 128], 'turquoise'],
  ] as const)('names %j %s', ([r, g, b], name) => {
    expect(nameColour(r, g, b)).toBe(name);
  });

  it('only returns listed names', () => {
    for (let v = 0; v < 256; v += 51) {
      for (let w = 0; w < 256; w += 51) expect(COLOUR_NAMES).toContain(nameColour(v, w, 255 - v));
    }
  });
});

describe('rgbToLab', () => {
  it('maps white to L 100 and black to L 0, both neutral', () => {
    const white = rgbToLab(255, 255, 255);
    expect(white[0]).toBeCloseTo(100, 2);
    expect(Math.abs(white[1])).toBeLessThan(0.01);
    expect(Math.abs(white[2])).toBeLessThan(0.01);
    expect(rgbToLab(0, 0, 0)).toEqual([0, 0, 0]);
  });
});

describe('colourShares', () => {
  it('gives each name its share of the opaque pixels, largest first', () => {
    const shares = colourShares(rgba([255, 0, 0, 255], [250, 5, 5, 255], [255, 255, 255, 255], [0, 0, 255, 0]));
    expect(shares).toEqual([
      { name: 'red', share: 2 / 3 },
      { name: 'white', share: 1 / 3 },
    ]);
  });

  it('returns [] when every pixel is transparent, or there are none', () => {
    expect(colourShares(rgba([255, 0, 0, 0], [0, 0, 0, 127]))).toEqual([]);
    expect(colourShares(new Uint8Array(0))).toEqual([]);
  });

  it('breaks ties by name', () => {
    expect(colourShares(rgba([255, 255, 255, 255], [0, 0, 0, 255])).map((s) => s.name)).toEqual(['black', 'white']);
  });
});
