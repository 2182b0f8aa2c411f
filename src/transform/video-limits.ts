import { AppError } from '../errors.js';
import type { TransformStep } from './transform-plan.js';
import { even, targetSides, type VideoSource } from './render-video.js';

export interface VideoSize {
  width: number;
  height: number;
}

const evenSize = (width: number, height: number): VideoSize => ({ width: even(width), height: even(height) });

/** `source` scaled to fit inside (`grow` false) or cover (`grow` true) `w`×`h`, keeping its aspect ratio. */
function fitted(source: VideoSize, w: number, h: number, grow: boolean): VideoSize {
  const scale = grow ? Math.max(w / source.width, h / source.height) : Math.min(w / source.width, h / source.height);
  return evenSize(source.width * scale, source.height * scale);
}

/** What `videoFilters` makes of a source: the video's size, and the largest frame on the way (the scaled frame `maintain_ratio` crops). */
export interface VideoFrames {
  output: VideoSize;
  largest: VideoSize;
}

const same = (size: VideoSize): VideoFrames => ({ output: size, largest: size });
const area = (size: VideoSize) => size.width * size.height;

/**
 * The frames `videoFilters` makes of `source` for `step` (to the even pixel), or `undefined` when no picture is
 * made (`vc-none`). Rotation turns the picture but keeps its pixel count, so it is left out.
 */
export function videoFrames(step: TransformStep, source: VideoSize): VideoFrames | undefined {
  if (step.vc === 'none') return undefined;
  const { w, h } = targetSides(step, source);
  if (w !== undefined && h !== undefined) {
    const [W, H] = [even(w), even(h)];
    const crop = step.cm === 'pad_resize' ? 'pad_resize' : (step.c ?? 'maintain_ratio');
    if (crop === 'at_max') return same(fitted(source, Math.min(W, source.width), Math.min(H, source.height), false));
    if (crop === 'at_max_enlarge') return same(fitted(source, W, H, false));
    if (crop === 'at_least') return same(fitted(source, W, H, true));
    if (crop === 'maintain_ratio') return { output: { width: W, height: H }, largest: fitted(source, W, H, true) };
    return same({ width: W, height: H }); // force, pad_resize (scaled to fit inside, then padded)
  }
  if (w !== undefined) return same(evenSize(w, (w * source.height) / source.width));
  if (h !== undefined) return same(evenSize((h * source.width) / source.height, h));
  return same(evenSize(source.width, source.height));
}

/**
 * Refuses, before ffmpeg starts, frames larger than `maxPixels`: a render's time and memory grow with its pixels.
 * @throws BAD_REQUEST (tr) naming the size and the limit.
 */
export function assertVideoWithinPixelLimit(size: VideoSize | undefined, maxPixels: number): void {
  if (!size || area(size) <= maxPixels) return;
  throw new AppError(
    'BAD_REQUEST',
    `The video would need frames of ${size.width}×${size.height} = ${area(size)} pixels, more than the ${maxPixels} a video may have here (STOWAGE_MAX_VIDEO_OUTPUT_PIXELS); ask for a smaller w or h.`,
    { parameter: 'tr', details: { maxPixels, width: size.width, height: size.height } },
  );
}

/** @throws BAD_REQUEST (tr) when rendering `step` of `source` would make a frame over `maxPixels`, on the way or in the end. */
export const assertVideoPlanWithinLimit = (step: TransformStep, source: Pick<VideoSource, 'width' | 'height'>, maxPixels: number): void =>
  assertVideoWithinPixelLimit(videoFrames(step, source)?.largest, maxPixels);
