import { AppError } from '../errors.js';
import { blurredBackground, type Dimension, type TransformPlan, type TransformStep } from './transform-plan.js';

/** Whole pixels from `min` to `max`, both included. */
export interface Span {
  min: number;
  max: number;
}

export interface Size {
  width: number;
  height: number;
}

/**
 * What one step of a plan can produce, as `render-image.ts` runs it: the output's sides, and the largest image
 * the step holds at once (its output, or a canvas it materialises on the way, e.g. for `bg-blurred`).
 */
export interface StepBound {
  width: Span;
  height: Span;
  largest: Size;
  /**
   * The sides follow from known sizes alone (up to sharp's rounding). When false they also depend on the
   * pixels (`t`, `fo-face`) or on a source of unknown size: the spans still hold, but are only an envelope.
   */
  exact: boolean;
}

export interface SizeContext {
  /** The file's `x,y,width,height`, for `fo-custom`. */
  customCoordinates?: string | null;
  /** The largest source that can be decoded: the envelope of a source whose size is unknown. */
  maxInputPixels: number;
}

interface Box {
  width: Span;
  height: Span;
}

const fixed = (n: number): Span => ({ min: n, max: n });
const anyUpTo = (s: Span): Span => ({ min: 1, max: s.max });
const minOf = (a: Span, b: Span): Span => ({ min: Math.min(a.min, b.min), max: Math.min(a.max, b.max) });
const maxOf = (a: Span, b: Span): Span => ({ min: Math.max(a.min, b.min), max: Math.max(a.max, b.max) });
const plus = (s: Span, n: number): Span => ({ min: s.min + n, max: s.max + n });
const mapSpan = (s: Span, f: (n: number) => number): Span => ({ min: f(s.min), max: f(s.max) });
const areaOf = (box: Box) => box.width.max * box.height.max;
const largestOf = (boxes: Box[]): Size => {
  const box = boxes.reduce((a, b) => (areaOf(b) > areaOf(a) ? b : a));
  return { width: box.width.max, height: box.height.max };
};

/** `side × num / den`, widened by a pixel each way: sharp rounds the side it derives from the aspect ratio. */
const scaled = (side: Span, num: Span, den: Span): Span => ({
  min: Math.max(1, Math.floor((side.min * num.min) / den.max) - 1),
  max: Math.ceil((side.max * num.max) / den.min) + 1,
});

/** A `w`/`h` parameter in pixels, as `render-image.ts` rounds it (fractions are of `of`, the step's input side). */
const target = (d: Dimension | undefined, of: Span, dpr: number): Span | undefined =>
  d === undefined ? undefined : 'px' in d ? fixed(Math.round(d.px * dpr)) : mapSpan(of, (n) => Math.round(d.fraction * n * dpr));

/** The bounding box of `box` turned by `rt` degrees (sharp grows the canvas to hold the whole picture). */
function rotated(box: Box, rt: TransformStep['rt']): Box {
  if (rt === undefined || rt === 'auto') return box; // EXIF orientation is applied on load: `auto` changes nothing more
  const turn = ((rt % 360) + 360) % 360;
  if (turn % 180 === 0) return box;
  if (turn % 90 === 0) return { width: box.height, height: box.width };
  const cos = Math.abs(Math.cos((turn * Math.PI) / 180));
  const sin = Math.abs(Math.sin((turn * Math.PI) / 180));
  const side = (a: Span, b: Span): Span => ({ min: Math.max(1, Math.floor(a.min * cos + b.min * sin) - 1), max: Math.ceil(a.max * cos + b.max * sin) + 1 });
  return { width: side(box.width, box.height), height: side(box.height, box.width) };
}

/** The region `fo-custom` cuts out, when the coordinates are usable. */
function customRegion(coordinates: string | null | undefined): Box | undefined {
  const parts = coordinates?.split(',').map(Number);
  if (parts?.length !== 4 || !parts.every((n) => Number.isInteger(n) && n >= 0)) return undefined;
  const [, , width, height] = parts as [number, number, number, number];
  return width > 0 && height > 0 ? { width: fixed(width), height: fixed(height) } : undefined;
}

/** Sharp's resize of `canvas` to `w`×`h` (either may be missing) with `fit`; `fill` keeps the side not given. */
function resized(canvas: Box, w: Span | undefined, h: Span | undefined, fit: 'fill' | 'cover' | 'contain' | 'inside' | 'outside', withoutEnlargement: boolean): Box {
  let out: Box;
  if (w && h) {
    const widthForH = scaled(h, canvas.width, canvas.height);
    const heightForW = scaled(w, canvas.height, canvas.width);
    if (fit === 'inside') out = { width: minOf(w, widthForH), height: minOf(h, heightForW) };
    else if (fit === 'outside') out = { width: maxOf(w, widthForH), height: maxOf(h, heightForW) };
    else out = { width: w, height: h };
  } else if (w) out = { width: w, height: fit === 'fill' ? canvas.height : scaled(w, canvas.height, canvas.width) };
  else if (h) out = { width: fit === 'fill' ? canvas.width : scaled(h, canvas.width, canvas.height), height: h };
  else out = canvas;
  return withoutEnlargement ? { width: minOf(out.width, canvas.width), height: minOf(out.height, canvas.height) } : out;
}

/**
 * What one step makes of an input of `input`'s size, following `applyStep` in `render-image.ts` stage by stage:
 * sides asked for, the canvas before resizing (rotation, trim, custom region), the crop/pad/resize, the border.
 */
export function stepBound(input: { width: Span; height: Span; exact: boolean }, step: TransformStep, ctx: SizeContext): StepBound {
  let exact = input.exact;
  let source: Box = { width: input.width, height: input.height };
  // fo-face without both sides crops to the faces first: somewhere inside the input, of a shape only the pixels tell.
  if (step.fo === 'face' && (!step.w || !step.h) && step.cm !== 'extract' && step.cm !== 'pad_extract') {
    source = { width: anyUpTo(source.width), height: anyUpTo(source.height) };
    exact = false;
  }
  const dpr = step.dpr ?? 1;
  let w = target(step.w, source.width, dpr);
  let h = target(step.h, source.height, dpr);
  if (step.ar && (w === undefined) !== (h === undefined)) {
    const [arW, arH] = step.ar;
    if (w) h = mapSpan(w, (n) => Math.round((n * arH) / arW));
    else if (h) w = mapSpan(h, (n) => Math.round((n * arW) / arH));
  }

  let canvas = rotated(source, step.rt);
  const held: Box[] = [];
  if (step.t !== undefined) {
    held.push(canvas);
    canvas = { width: anyUpTo(canvas.width), height: anyUpTo(canvas.height) };
    source = canvas; // render-image measures the trimmed picture: extract regions are clamped to it
    exact = false;
  }
  const custom = step.fo === 'custom' && step.cm !== 'extract' ? customRegion(ctx.customCoordinates) : undefined;
  if (custom) canvas = custom;

  let out: Box = canvas;
  let fixedSize = false;
  if (w !== undefined || h !== undefined) {
    if (step.cm === 'extract' || step.cm === 'pad_extract') {
      const ew = minOf(w ?? source.width, source.width);
      const eh = minOf(h ?? source.height, source.height);
      out = step.cm === 'pad_extract' ? { width: w ?? ew, height: h ?? eh } : { width: ew, height: eh };
      fixedSize = step.cm === 'pad_extract' && !!w && !!h;
    } else if (step.cm === 'pad_resize') {
      if (w && h && step.bg && blurredBackground(step.bg)) held.push(canvas);
      out = resized(canvas, w, h, 'contain', false);
      fixedSize = !!w && !!h;
    } else {
      const crop = step.c ?? 'maintain_ratio';
      const fit = crop === 'force' ? 'fill' : crop === 'at_max' || crop === 'at_max_enlarge' ? 'inside' : crop === 'at_least' ? 'outside' : 'cover';
      out = resized(canvas, w, h, fit, crop === 'at_max');
      fixedSize = !!w && !!h && (fit === 'fill' || fit === 'cover');
    }
  }
  if (step.b) out = { width: plus(out.width, 2 * step.b.width), height: plus(out.height, 2 * step.b.width) };
  held.push(out);
  return { width: out.width, height: out.height, largest: largestOf(held), exact: exact || fixedSize };
}

/**
 * Bounds on what each step of `plan` produces from a source of `source`'s size (`undefined`: unknown), never
 * below what sharp actually makes (property-tested against real renders).
 */
export function predictStepSizes(source: Size | undefined, plan: TransformPlan, ctx: SizeContext): StepBound[] {
  let input = source
    ? { width: fixed(source.width), height: fixed(source.height), exact: true }
    : { width: { min: 1, max: ctx.maxInputPixels }, height: { min: 1, max: ctx.maxInputPixels }, exact: false };
  return plan.map((step) => {
    const bound = stepBound(input, step, ctx);
    input = bound;
    return bound;
  });
}

/** @throws BAD_REQUEST (tr) when step number `index` (from 0), bounded by `bound`, would hold more than `maxPixels` pixels at once. */
export function assertStepWithinPixelLimit(bound: StepBound, index: number, maxPixels: number): void {
  const { width, height } = bound.largest;
  if (!bound.exact || width * height <= maxPixels) return;
  throw new AppError('BAD_REQUEST', `The transformation would produce ${width}×${height} = ${width * height} pixels (step ${index + 1}), more than the ${maxPixels} allowed (STOWAGE_MAX_IMAGE_PIXELS).`, {
    parameter: 'tr',
    details: { maxPixels, step: index + 1, width, height },
  });
}

/**
 * Refuses a plan before anything is decoded when a step certainly exceeds `maxPixels`; steps whose size depends
 * on the pixels are left to the same check at render time.
 * @throws BAD_REQUEST (tr) naming the step, its size and the limit.
 */
export function assertWithinPixelLimit(bounds: readonly StepBound[], maxPixels: number): void {
  for (const [i, bound] of bounds.entries()) assertStepWithinPixelLimit(bound, i, maxPixels);
}

/** The longest side each encoder takes (sharp refuses larger images, but only after rendering them). */
const MAX_ENCODED_SIDE: Record<string, number> = { webp: 16383, avif: 16384, jpg: 65535, gif: 65535 };

/** @throws BAD_REQUEST (tr) when the last step's output is certainly too large for `format`. */
export function assertEncodable(bounds: readonly StepBound[], format: string): void {
  const last = bounds[bounds.length - 1];
  const limit = MAX_ENCODED_SIDE[format];
  if (!last || !limit || !last.exact || Math.max(last.width.min, last.height.min) <= limit) return;
  throw new AppError('BAD_REQUEST', `The transformation would produce a ${last.width.min}×${last.height.min} image; ${format.toUpperCase()} images can be at most ${limit} px on a side.`, {
    parameter: 'tr',
    details: { maxSide: limit, format },
  });
}
