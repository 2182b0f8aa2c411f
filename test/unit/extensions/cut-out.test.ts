import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { applyMask, dropShadow, renderCutOut } from '../../../src/extensions/models/cut-out.js';
import type { RgbaImage } from '../../../src/extensions/models/decode-rgba.js';
import { UndecodableImageError } from '../../../src/extensions/models/errors.js';

/** A w×h red picture, opaque, and a mask keeping its left half (soft column in the middle). */
function fixture(width = 40, height = 20): { image: RgbaImage; mask: Uint8Array } {
  const data = Buffer.alloc(width * height * 4);
  const mask = new Uint8Array(width * height);
  for (let p = 0; p < width * height; p++) {
    data.set([255, 0, 0, 255], 4 * p);
    const x = p % width;
    mask[p] = x < width / 2 - 1 ? 255 : x === width / 2 - 1 ? 100 : 0;
  }
  return { image: { data, width, height }, mask };
}

const decode = async (png: Buffer) => sharp(png).raw().toBuffer({ resolveWithObject: true });

describe('applyMask', () => {
  it('puts the mask into alpha, keeping soft values unless semitransparency is off', () => {
    const { image, mask } = fixture();
    const soft = applyMask(image, mask, true);
    expect([soft.data[3], soft.data[4 * 19 + 3], soft.data[4 * 20 + 3]]).toEqual([255, 100, 0]);
    const hard = applyMask(image, mask, false);
    expect([hard.data[3], hard.data[4 * 19 + 3], hard.data[4 * 20 + 3]]).toEqual([255, 0, 0]);
    expect(image.data[4 * 20 + 3]).toBe(255); // input untouched
  });

  it('never makes a transparent pixel opaque', () => {
    const { image, mask } = fixture();
    image.data[3] = 10;
    expect(applyMask(image, mask, true).data[3]).toBe(10);
  });

  it('rejects a mask of another size', () => {
    expect(() => applyMask(fixture().image, new Uint8Array(3), true)).toThrow(RangeError);
  });
});

describe('renderCutOut', () => {
  const { image, mask } = fixture();
  const cut = applyMask(image, mask, true);

  it('encodes RGBA PNG with the background transparent', async () => {
    const { data, info } = await decode(await renderCutOut(cut));
    expect([info.width, info.height, info.channels]).toEqual([40, 20, 4]);
    expect([...data.subarray(0, 4)]).toEqual([255, 0, 0, 255]);
    expect(data[4 * 39 + 3]).toBe(0);
  });

  it('lays the cut-out on a colour as opaque RGB', async () => {
    const { data, info } = await decode(await renderCutOut(cut, { background: { colour: { r: 0, g: 255, b: 0 } } }));
    expect(info.channels).toBe(3);
    expect([...data.subarray(0, 3)]).toEqual([255, 0, 0]);
    expect([...data.subarray(3 * 39, 3 * 40)]).toEqual([0, 255, 0]);
  });

  it('lays the cut-out on a picture resized to cover', async () => {
    const background = await sharp({ create: { width: 7, height: 9, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 1 } } })
      .png()
      .toBuffer();
    const { data, info } = await decode(await renderCutOut(cut, { background: { image: background } }));
    expect([info.width, info.height, info.channels]).toEqual([40, 20, 3]);
    expect([...data.subarray(0, 3)]).toEqual([255, 0, 0]);
    expect([...data.subarray(3 * 39, 3 * 40)]).toEqual([0, 0, 255]);
  });

  it('rejects a background picture it cannot decode', async () => {
    await expect(renderCutOut(cut, { background: { image: Buffer.from('nope') } })).rejects.toThrow(UndecodableImageError);
  });

  it('adds a soft dark shadow down and to the right of the subject only', async () => {
    const width = 200;
    const height = 200;
    const data = Buffer.alloc(width * height * 4);
    for (let y = 50; y < 150; y++) for (let x = 50; x < 150; x++) data.set([255, 255, 255, 255], 4 * (y * width + x));
    const square: RgbaImage = { data, width, height };
    const shadow = await dropShadow(square);
    const alphaAt = (img: { data: Buffer }, x: number, y: number) => img.data[4 * (y * width + x) + 3]!;
    expect(alphaAt(shadow, 152, 152)).toBeGreaterThan(20);
    expect(alphaAt(shadow, 47, 47)).toBeLessThan(alphaAt(shadow, 152, 152));
    expect(alphaAt(shadow, 5, 5)).toBe(0);

    const rendered = await decode(await renderCutOut(square, { shadow: true }));
    const px = (x: number, y: number) => [...rendered.data.subarray(4 * (y * width + x), 4 * (y * width + x) + 4)];
    expect(px(100, 100)).toEqual([255, 255, 255, 255]); // subject on top of its shadow
    expect(px(152, 152)[3]).toBeGreaterThan(20);
    expect(px(152, 152).slice(0, 3)).toEqual([0, 0, 0]);
    expect(px(5, 5)[3]).toBe(0);
  });
});
