import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { parseTransformation, printTransformation } from '../../../src/transform/transform-plan.js';

describe('transformation parser', () => {
  it('parses chained steps into a typed plan', () => {
    expect(parseTransformation('w-400,h-0.5,c-force:rt-N90,e-grayscale,bg-FF000050,f-webp,q-70')).toEqual([
      { w: { px: 400 }, h: { fraction: 0.5 }, c: 'force' },
      { rt: -90, e: ['grayscale'], bg: 'FF000050', f: 'webp', q: 70 },
    ]);
    expect(parseTransformation('ar-4-3,w-300,cm-pad_resize,bg-white,b-5_fff,r-max,fl-v_h,orig-true')).toEqual([
      { ar: [4, 3], w: { px: 300 }, cm: 'pad_resize', bg: 'FFFFFF', b: { width: 5, color: 'FFFFFF' }, r: 'max', fl: 'h_v', orig: true },
    ]);
    expect(parseTransformation('n-ik_ml_thumbnail')).toEqual([{ n: 'ik_ml_thumbnail' }]);
    expect(parseTransformation('so-1.5,du-2,vc-vp9,ac-opus,f-webm,sr-720_240_240')).toEqual([{ so: 1.5, du: 2, vc: 'vp9', ac: 'opus', f: 'webm', sr: [240, 720] }]);
    expect(parseTransformation('w-300,h-300,cm-pad_resize,bg-blurred_25_N30')).toEqual([{ w: { px: 300 }, h: { px: 300 }, cm: 'pad_resize', bg: 'blurred_25_N30' }]);
  });

  it.each([
    ['w-abc', 'w', /not a number/],
    ['w-0', 'w', /from 1 to 16383/],
    ['w-20000', 'w', /from 1 to 16383/],
    ['q-101', 'q', /from 1 to 100/],
    ['c-squash', 'c', /must be one of maintain_ratio/],
    ['f-bmp', 'f', /must be one of auto, jpg/],
    ['bg-nothex', 'bg', /not a colour/],
    ['zz-1', 'zz', /not a supported transformation parameter/],
    ['w-100,,h-100', 'tr', /empty parameter/],
    ['cm-extract', 'cm', /extract needs w/],
    ['pr-yes', 'pr', /true or false/],
    ['bg-constructor', 'bg', /not a colour/],
    ['bg-blurred_0', 'bg', /not a blurred background/],
    ['bg-blurred_auto_N300', 'bg', /not a blurred background/],
    ['so-2,eo-1', 'eo', /must be after the start offset/],
    ['du-1,eo-2', 'du', /cannot be combined with eo/],
    ['vc-hevc', 'vc', /must be one of h264, vp9, av1, none/],
    ['vc-none,ac-none', 'vc', /nothing to deliver/],
    ['sr-100', 'sr', /must be one of 240, 360/],
  ])('refuses %s naming %s', (input, parameter, message) => {
    try {
      parseTransformation(input);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).details?.transformationParameter).toBe(parameter);
      expect((e as AppError).message).toMatch(message);
    }
  });

  const token = fc.oneof(
    fc.integer({ min: 1, max: 16383 }).map((n) => `w-${n}`),
    fc.integer({ min: 1, max: 16383 }).map((n) => `h-${n}`),
    fc.constantFrom('h-0.5', 'w-0.25', 'ar-16-9', 'c-at_max', 'c-force', 'cm-pad_resize', 'fo-auto', 'fo-top_left', 'f-auto', 'f-avif', 'bg-blurred', 'bg-00FF0080', 'rt-auto', 'rt-N45', 'r-max', 'fl-h', 'e-contrast', 'e-sharpen', 'pr-true', 'lo-false', 'md-true', 't-true', 'n-named_1', 'bg-blurred_auto', 'bg-blurred_30_N20', 'vc-h264', 'vc-none', 'ac-opus', 'f-mp4', 'sr-240_1080', 'sr-360'),
    fc.integer({ min: 0, max: 600 }).map((n) => `so-${n / 10}`),
    fc.integer({ min: 1, max: 600 }).map((n) => `du-${n / 10}`),
    fc.integer({ min: 1, max: 100 }).map((n) => `q-${n}`),
    fc.integer({ min: 0, max: 100 }).map((n) => `o-${n}`),
    fc.integer({ min: 1, max: 100 }).map((n) => `bl-${n}`),
    fc.integer({ min: 0, max: 360 }).map((n) => `rt-${n}`),
  );
  const transformation = fc.array(fc.array(token, { minLength: 1, maxLength: 6 }).map((t) => t.join(',')), { minLength: 1, maxLength: 3 }).map((s) => s.join(':'));

  it('round-trips: parse(print(plan)) equals plan (property)', () => {
    fc.assert(
      fc.property(transformation, (text) => {
        const plan = parseTransformation(text);
        expect(parseTransformation(printTransformation(plan))).toEqual(plan);
      }),
      { numRuns: 1000 },
    );
  });

  it('never crashes: any input parses or fails with a tr error (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), transformation.map((s) => s.replace(/\d/g, (d) => (d === '1' ? 'x' : d)))), (text) => {
        try {
          parseTransformation(text);
        } catch (e) {
          expect(e).toBeInstanceOf(AppError);
          expect((e as AppError).parameter).toBe('tr');
        }
      }),
      { numRuns: 2000 },
    );
  });
});
