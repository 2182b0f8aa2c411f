import { describe, expect, it } from 'vitest';
import { parseBackgroundColour } from '../../../src/extensions/models/background-colour.js';
import { InvalidRemoveBgOptionsError } from '../../../src/extensions/models/errors.js';

describe('parseBackgroundColour', () => {
  it.each([
    ['81d4fa', { r: 0x81, g: 0xd4, b: 0xfa }],
    ['#81D4FA', { r: 0x81, g: 0xd4, b: 0xfa }],
    ['fff', { r: 255, g: 255, b: 255 }],
    ['#0f0', { r: 0, g: 255, b: 0 }],
    ['00ff00', { r: 0, g: 255, b: 0 }],
    ['red', { r: 255, g: 0, b: 0 }],
    ['LightBlue', { r: 173, g: 216, b: 230 }],
    [' rebeccapurple ', { r: 102, g: 51, b: 153 }],
    ['add', { r: 0xaa, g: 0xdd, b: 0xdd }],
  ])('parses %j', async (value, rgb) => {
    expect(await parseBackgroundColour(value)).toEqual(rgb);
  });

  it.each(['', 'notacolour', '#12345', 'ggg', 'rgb(1,2,3)', '#ff0000ff', 'red;'])('rejects %j', async (value) => {
    await expect(parseBackgroundColour(value)).rejects.toThrow(InvalidRemoveBgOptionsError);
  });
});
