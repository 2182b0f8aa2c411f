import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { assertTransformationFits, parseUploadTransformation } from '../../src/upload/upload-transformation.js';

const image = { mime: 'image/png', isImage: true, isVideo: false, ext: 'png' };
const gif = { mime: 'image/gif', isImage: true, isVideo: false, ext: 'gif' };
const video = { mime: 'video/mp4', isImage: false, isVideo: true, ext: 'mp4' };

describe('upload transformation parameter', () => {
  it('parses pre and typed post items', () => {
    const parsed = parseUploadTransformation({
      pre: 'w-100',
      post: [
        { type: 'transformation', value: 'h-50' },
        { type: 'thumbnail' },
        { type: 'abs', value: 'sr-240_360', protocol: 'dash' },
      ],
    });
    expect(parsed?.pre).toEqual({ value: 'w-100', plan: [{ w: { px: 100 } }] });
    expect(parsed?.post).toEqual([{ type: 'transformation', value: 'h-50' }, { type: 'thumbnail' }, { type: 'abs', value: 'sr-240_360', protocol: 'dash' }]);
    expect(parseUploadTransformation(null)).toBeNull();
  });

  it('checks post types against the detected file type', () => {
    const t = (type: string) => parseUploadTransformation({ post: [{ type, ...(type === 'abs' ? { value: 'sr-240', protocol: 'hls' } : {}) }] }) as NonNullable<ReturnType<typeof parseUploadTransformation>>;
    expect(() => assertTransformationFits(t('gif-to-video'), gif)).not.toThrow();
    expect(() => assertTransformationFits(t('gif-to-video'), image)).toThrow(/incompatible/);
    expect(() => assertTransformationFits(t('thumbnail'), video)).not.toThrow();
    expect(() => assertTransformationFits(t('abs'), image)).toThrow(/incompatible/);
    expect(() => assertTransformationFits(t('thumbnail'), { mime: 'application/pdf', isImage: false, isVideo: false, ext: 'pdf' })).toThrow(/only for image and video/);
  });

  it('never crashes: any input parses or fails naming the transformation parameter (property)', () => {
    const item = fc.record(
      { type: fc.oneof(fc.constantFrom('transformation', 'gif-to-video', 'thumbnail', 'abs'), fc.string()), value: fc.option(fc.oneof(fc.string(), fc.constantFrom('w-100', 'sr-240_360', 'so-1'))), protocol: fc.option(fc.constantFrom('hls', 'dash', 'rtmp')) },
      { requiredKeys: ['type'] },
    );
    fc.assert(
      fc.property(fc.record({ pre: fc.option(fc.oneof(fc.string(), fc.constant('w-100,h-100'))), post: fc.option(fc.array(item, { maxLength: 12 })) }), (input) => {
        try {
          parseUploadTransformation(input);
        } catch (e) {
          expect(e).toBeInstanceOf(AppError);
          expect((e as AppError).parameter).toBe('transformation');
        }
      }),
      { numRuns: 1000 },
    );
  });
});
