import { describe, expect, it } from 'vitest';
import { parseTransformation } from '../../../src/transform/transform-plan.js';
import { flattenVideoPlan } from '../../../src/transform/render-video.js';
import { assertVideoPlanWithinLimit, videoFrames } from '../../../src/transform/video-limits.js';

const source = { width: 640, height: 360 };
const frames = (tr: string) => videoFrames(flattenVideoPlan(parseTransformation(tr)), source);

describe('videoFrames', () => {
  it('follows each crop strategy as the ffmpeg filters do', () => {
    expect(frames('q-50')?.output).toEqual({ width: 640, height: 360 });
    expect(frames('w-320')?.output).toEqual({ width: 320, height: 180 });
    expect(frames('h-0.5')?.output).toEqual({ width: 320, height: 180 });
    expect(frames('w-300,ar-1-1')?.output).toEqual({ width: 300, height: 300 });
    expect(frames('w-4096,h-4096,c-force')?.output).toEqual({ width: 4096, height: 4096 });
    expect(frames('w-300,h-300,cm-pad_resize')?.output).toEqual({ width: 300, height: 300 });
    expect(frames('w-1280,h-1280,c-at_max')?.output).toEqual({ width: 640, height: 360 });
    expect(frames('w-1280,h-1280,c-at_max_enlarge')?.output).toEqual({ width: 1280, height: 720 });
    expect(frames('w-1280,h-1280,c-at_least')?.output).toEqual({ width: 2276, height: 1280 });
    expect(frames('vc-none')).toBeUndefined();
  });

  it('counts the frame maintain_ratio scales before it crops', () => {
    expect(frames('w-16000,h-2')).toEqual({ output: { width: 16000, height: 2 }, largest: { width: 16000, height: 9000 } });
  });
});

describe('assertVideoPlanWithinLimit', () => {
  const check = (tr: string) => () => assertVideoPlanWithinLimit(flattenVideoPlan(parseTransformation(tr)), source, 1920 * 1080);

  it('lets 1080p through and refuses more, naming the size and the limit', () => {
    expect(check('w-1920,h-1080,c-force')).not.toThrow();
    expect(check('w-4096,h-4096,c-force')).toThrow(/4096×4096 = 16777216 pixels, more than the 2073600 .*STOWAGE_MAX_VIDEO_OUTPUT_PIXELS/);
    expect(check('w-16000,h-2')).toThrow(/16000×9000/);
  });
});
