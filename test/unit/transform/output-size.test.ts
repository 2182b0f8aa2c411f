import fc from 'fast-check';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { assertEncodable, assertWithinPixelLimit, predictStepSizes, type StepBound } from '../../../src/transform/output-size.js';
import { renderImage } from '../../../src/transform/render-image.js';
import { parseTransformation, type TransformPlan } from '../../../src/transform/transform-plan.js';

const ctx = { customCoordinates: null, maxInputPixels: 100_000_000 };
const predict = (width: number, height: number, tr: string, more: Partial<typeof ctx> = {}) => predictStepSizes({ width, height }, parseTransformation(tr), { ...ctx, ...more });
const maxSize = (b: StepBound) => [b.width.max, b.height.max];

describe('predicted output sizes', () => {
  it('knows the sides a request asks for, whatever the source', () => {
    const [step] = predict(100, 100, 'w-16383,h-16383,c-force');
    expect(step).toMatchObject({ width: { min: 16383, max: 16383 }, height: { min: 16383, max: 16383 }, exact: true });
    expect(() => assertWithinPixelLimit(predict(100, 100, 'w-16383,h-16383,c-force'), 100_000_000)).toThrow(
      'The transformation would produce 16383×16383 = 268402689 pixels (step 1), more than the 100000000 allowed (STOWAGE_MAX_IMAGE_PIXELS).',
    );
  });

  it('follows the aspect ratio where one side is derived from the other', () => {
    // A 10×1000 strip asked for 16383 px wide is 1.6 million px tall.
    expect(maxSize(predict(10, 1000, 'w-16383')[0] as StepBound)[1]).toBeGreaterThanOrEqual(1_638_300);
    expect(maxSize(predict(10, 1000, 'w-1000,h-1000,c-at_least')[0] as StepBound)[1]).toBeGreaterThanOrEqual(100_000);
    expect(maxSize(predict(10, 1000, 'w-5000,cm-pad_resize')[0] as StepBound)[1]).toBeGreaterThanOrEqual(500_000);
    expect(maxSize(predict(1000, 500, 'w-200,c-at_max')[0] as StepBound)).toEqual([200, 101]);
    expect(maxSize(predict(100, 50, 'w-2000,c-at_max')[0] as StepBound)).toEqual([100, 50]);
  });

  it('checks every step of a chain, naming the one that is too large', () => {
    const bounds = predict(640, 480, 'w-100:w-16383,h-16383,c-force:w-100');
    expect(() => assertWithinPixelLimit(bounds, 100_000_000)).toThrow(/\(step 2\)/);
  });

  it('counts rotations, borders and the canvas a blurred background copies', () => {
    expect(maxSize(predict(400, 100, 'rt-90')[0] as StepBound)).toEqual([100, 400]);
    expect(maxSize(predict(400, 100, 'rt-45')[0] as StepBound)[0]).toBeGreaterThanOrEqual(354);
    expect(maxSize(predict(100, 100, 'w-50,h-50,b-10_FF0000')[0] as StepBound)).toEqual([70, 70]);
    const [blurred] = predict(8000, 8000, 'w-100,h-100,cm-pad_resize,bg-blurred');
    expect(blurred?.largest).toEqual({ width: 8000, height: 8000 });
  });

  it('leaves sizes that depend on the pixels, or on an unknown source, to render time', () => {
    const [trimmed] = predict(10_000, 10_000, 't-true,w-16383');
    expect(trimmed?.exact).toBe(false);
    expect(() => assertWithinPixelLimit([trimmed as StepBound], 100_000_000)).not.toThrow();
    const unknown = predictStepSizes(undefined, parseTransformation('w-300:w-16383,h-16383,c-force'), ctx);
    expect(unknown[0]?.exact).toBe(false);
    expect(() => assertWithinPixelLimit(unknown, 100_000_000)).toThrow(/\(step 2\)/);
  });

  it("refuses sides an encoder cannot write, as sharp would after rendering", () => {
    expect(() => assertEncodable(predict(100, 200, 'w-10000'), 'webp')).toThrow('WEBP images can be at most 16383 px on a side');
    expect(() => assertEncodable(predict(100, 100, 'w-16383,h-16383,c-force'), 'webp')).not.toThrow();
    expect(() => assertEncodable(predict(100, 100, 'w-16383,h-16383,c-force'), 'png')).not.toThrow();
  });
});

// ---- The bounds against real renders --------------------------------------------------------------------------

/** A flat background with a block of another colour somewhere, so trim has something to cut. */
async function picture(width: number, height: number, block: [number, number, number, number]): Promise<Buffer> {
  const [x, y, w, h] = block;
  const bw = Math.max(1, Math.min(w, width - x));
  const bh = Math.max(1, Math.min(h, height - y));
  const inner = await sharp({ create: { width: bw, height: bh, channels: 3, background: '#1e90ff' } }).png().toBuffer();
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite([{ input: inner, left: Math.min(x, width - bw), top: Math.min(y, height - bh) }])
    .png()
    .toBuffer();
}

const side = fc.oneof(fc.integer({ min: 1, max: 90 }).map(String), fc.integer({ min: 5, max: 95 }).map((n) => String(n / 100)));
const token = fc.oneof(
  side.map((v) => `w-${v}`),
  side.map((v) => `h-${v}`),
  fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 })).map(([a, b]) => `ar-${a}-${b}`),
  fc.constantFrom('c-maintain_ratio', 'c-force', 'c-at_max', 'c-at_max_enlarge', 'c-at_least'),
  fc.constantFrom('cm-pad_resize', 'cm-extract', 'cm-pad_extract'),
  fc.constantFrom('fo-center', 'fo-auto', 'fo-custom', 'fo-bottom_right'),
  fc.oneof(fc.constantFrom('rt-90', 'rt-180', 'rt-270', 'rt-N90', 'rt-auto'), fc.integer({ min: 1, max: 359 }).map((n) => `rt-${n}`)),
  fc.constantFrom('t-true', 't-30'),
  fc.integer({ min: 1, max: 6 }).map((n) => `b-${n}_FF0000`),
  fc.constantFrom('dpr-0.5', 'dpr-1.5', 'dpr-2'),
  fc.constantFrom('bg-blurred', 'bg-FF000050'),
  fc.constantFrom('r-5', 'r-max', 'o-50', 'fl-h', 'bl-2', 'e-grayscale'),
);
const stepText = fc.uniqueArray(token, { minLength: 1, maxLength: 5, selector: (t) => t.split('-')[0] }).map((tokens) => tokens.join(','));
const planText = fc.array(stepText, { minLength: 1, maxLength: 3 }).map((steps) => steps.join(':'));
const source = fc.record({
  width: fc.integer({ min: 1, max: 48 }),
  height: fc.integer({ min: 1, max: 48 }),
  block: fc.tuple(fc.nat(47), fc.nat(47), fc.integer({ min: 1, max: 48 }), fc.integer({ min: 1, max: 48 })),
  custom: fc.option(fc.tuple(fc.nat(47), fc.nat(47), fc.integer({ min: 1, max: 48 }), fc.integer({ min: 1, max: 48 })), { nil: undefined }),
});

function parsed(text: string): TransformPlan | undefined {
  try {
    return parseTransformation(text);
  } catch {
    return undefined;
  }
}

/** Renders `plan` and measures the result; `undefined` when sharp (or the plan) refuses it. */
async function measure(original: Buffer, plan: TransformPlan, customCoordinates: string | null, maxOutputPixels?: number) {
  try {
    const { data } = await renderImage(original, plan, { accept: '', originalFormat: 'png', customCoordinates, maxInputPixels: 1_000_000, maxOutputPixels });
    const meta = await sharp(data).metadata();
    return { width: meta.width as number, height: meta.height as number };
  } catch (error) {
    return error as Error;
  }
}

describe('predicted output sizes against sharp', () => {
  it('never under-estimates (nor over-states the minimum of) what any step of a render produces', async () => {
    await fc.assert(
      fc.asyncProperty(source, planText, async ({ width, height, block, custom }, text) => {
        const plan = parsed(text);
        if (!plan) return;
        const customCoordinates = custom && custom[0] + custom[2] <= width && custom[1] + custom[3] <= height ? custom.join(',') : null;
        const original = await picture(width, height, block);
        const bounds = predictStepSizes({ width, height }, plan, { customCoordinates, maxInputPixels: 1_000_000 });
        for (let i = 0; i < plan.length; i++) {
          const actual = await measure(original, plan.slice(0, i + 1), customCoordinates);
          if (actual instanceof Error) return; // an impossible extract area and the like: nothing was produced
          const bound = bounds[i] as StepBound;
          expect(actual.width, `step ${i + 1} width`).toBeGreaterThanOrEqual(bound.width.min);
          expect(actual.width, `step ${i + 1} width`).toBeLessThanOrEqual(bound.width.max);
          expect(actual.height, `step ${i + 1} height`).toBeGreaterThanOrEqual(bound.height.min);
          expect(actual.height, `step ${i + 1} height`).toBeLessThanOrEqual(bound.height.max);
          expect(bound.largest.width * bound.largest.height).toBeGreaterThanOrEqual(actual.width * actual.height);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('never lets a step of a render exceed a (scaled-down) pixel limit: refused by the plan check or at render time', async () => {
    const limit = 1500;
    await fc.assert(
      fc.asyncProperty(source, planText, async ({ width, height, block }, text) => {
        const plan = parsed(text);
        if (!plan) return;
        const original = await picture(width, height, block);
        for (let i = 0; i < plan.length; i++) {
          const prefix = plan.slice(0, i + 1);
          const actual = await measure(original, prefix, null, limit);
          if (actual instanceof Error) return; // refused (or impossible): nothing this large was produced
          expect(actual.width * actual.height, `step ${i + 1} of ${text}`).toBeLessThanOrEqual(limit);
        }
      }),
      { numRuns: 100 },
    );
  });
});
