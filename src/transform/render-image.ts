import fs from 'node:fs/promises';
import sharp, { type Sharp } from 'sharp';
import { centredRegion, cropAround, type FaceFinder, unionOf } from './face-finder.js';
import { assertStepWithinPixelLimit, stepBound } from './output-size.js';
import { blurredBackground, invalidTransformation, MAX_OUTPUT_SIDE, type TransformPlan, type TransformStep, toSharpColour } from './transform-plan.js';

export interface RenderContext {
  /** The request's Accept header, for `f-auto`. */
  accept: string;
  /** The original's ImageKit format (`jpg`, `png`, …). */
  originalFormat: string;
  /** The file's `x,y,width,height`, for `fo-custom`. */
  customCoordinates: string | null;
  maxInputPixels: number;
  /** The most pixels any step may hold at once; defaults to `maxInputPixels`. */
  maxOutputPixels?: number;
  /** The original's size as shown (EXIF orientation applied; one frame), when known: its header is then not read again. */
  originalSize?: { width: number; height: number };
  /** Finds faces for `fo-face`; without it `fo-face` is refused. */
  findFaces?: FaceFinder;
}

/** An encoded image: its bytes, or the path of a file holding them (sharp then reads only what it decodes). */
export type ImageInput = Buffer | string;

export interface Rendered {
  data: Buffer;
  mime: string;
}

const GRAVITY: Record<string, string> = {
  center: 'centre', top: 'north', bottom: 'south', left: 'west', right: 'east',
  top_left: 'northwest', top_right: 'northeast', bottom_left: 'southwest', bottom_right: 'southeast',
};

const MIME: Record<string, string> = { jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp', avif: 'image/avif', gif: 'image/gif' };

/** Which format `f-auto` (or no `f`) serves: AVIF or WebP when the client accepts them, else the original's. */
export function chooseFormat(requested: TransformStep['f'], accept: string, original: string): string {
  if (requested && requested !== 'auto' && requested !== 'orig') return requested;
  if (requested === 'auto') {
    if (/image\/avif/.test(accept)) return 'avif';
    if (/image\/webp/.test(accept)) return 'webp';
  }
  return MIME[original] ? original : 'png';
}

/**
 * `cm-pad_resize,bg-blurred`: the picture fit inside w×h, centred on a blurred copy of itself that covers w×h,
 * brightened or darkened by `brightness`.
 */
async function padOnBlurredCopy(image: Sharp, w: number, h: number, blurred: { intensity: number; brightness: number }, maxInputPixels: number): Promise<Sharp> {
  const source = await image.png({ compressionLevel: 0 }).toBuffer();
  const [content, backdrop] = await Promise.all([
    sharp(source, { limitInputPixels: maxInputPixels }).resize(w, h, { fit: 'inside' }).png({ compressionLevel: 0 }).toBuffer({ resolveWithObject: true }),
    sharp(source, { limitInputPixels: maxInputPixels })
      .resize(w, h, { fit: 'cover' })
      .blur(Math.max(0.3, blurred.intensity / 2))
      .linear(1, blurred.brightness)
      .png({ compressionLevel: 0 })
      .toBuffer(),
  ]);
  const left = Math.floor((w - content.info.width) / 2);
  const top = Math.floor((h - content.info.height) / 2);
  return sharp(await sharp(backdrop).composite([{ input: content.data, left, top }]).png({ compressionLevel: 0 }).toBuffer());
}

/** `step` as it stands at the resize: sides in pixels, faces cropped, and any trim (with the rotation before it) done. */
const asApplied = (step: TransformStep, w: number | undefined, h: number | undefined, trimmed: boolean): TransformStep => ({
  ...step,
  w: w === undefined ? undefined : { px: w },
  h: h === undefined ? undefined : { px: h },
  ar: undefined,
  dpr: undefined,
  fo: step.fo === 'face' ? undefined : step.fo,
  ...(trimmed ? { rt: undefined, t: undefined } : {}),
});

/** Width and height as shown: with `oriented`, after the EXIF orientation (5-8 turn the picture a quarter). */
async function displayedSize(image: Sharp, oriented: boolean): Promise<[number, number]> {
  const meta = await image.metadata();
  const turned = oriented && (meta.orientation ?? 1) >= 5;
  return [(turned ? meta.height : meta.width) ?? 1, (turned ? meta.width : meta.height) ?? 1];
}

/**
 * Adds step number `index` to a pipeline over `input`; the result is left unencoded so the caller picks the format.
 * @throws BAD_REQUEST (tr) before resizing when the step would hold more than `maxOutputPixels` at once.
 */
async function applyStep(input: ImageInput, step: TransformStep, ctx: RenderContext, index: number): Promise<Sharp> {
  const first = index === 0;
  let image: Sharp = sharp(input, { limitInputPixels: ctx.maxInputPixels, animated: false, autoOrient: first });
  let [srcW, srcH] = first && ctx.originalSize ? [ctx.originalSize.width, ctx.originalSize.height] : await displayedSize(image, first);
  let focus: { x: number; y: number } | undefined;
  if (step.fo === 'face') {
    if (!ctx.findFaces) throw invalidTransformation('fo', 'face detection is not available here; use fo-auto or fo-custom.');
    const faces = unionOf(await ctx.findFaces(typeof input === 'string' ? await fs.readFile(input) : input));
    if (faces) focus = { x: faces.left + faces.width / 2, y: faces.top + faces.height / 2 };
    // Without both sides to fill, fo-face crops to the faces (z < 1 takes in more around them).
    if (faces && focus && (!step.w || !step.h) && step.cm !== 'extract' && step.cm !== 'pad_extract') {
      const zoom = step.z ?? 1;
      const largest = cropAround(srcW, srcH, faces.width / faces.height, focus.x, focus.y);
      const width = Math.max(1, Math.min(largest.width, Math.round(faces.width / zoom)));
      const height = Math.max(1, Math.min(largest.height, Math.round(faces.height / zoom)));
      image = sharp(await image.extract(centredRegion(srcW, srcH, width, height, focus.x, focus.y)).toBuffer(), { limitInputPixels: ctx.maxInputPixels });
      [srcW, srcH, focus] = [width, height, undefined];
    }
  }
  const dpr = step.dpr ?? 1;
  const side = (d: TransformStep['w'], of: number) => (d ? Math.round(('px' in d ? d.px : d.fraction * of) * dpr) : undefined);
  let w = side(step.w, srcW);
  let h = side(step.h, srcH);
  if (step.ar && (w === undefined) !== (h === undefined)) {
    if (w !== undefined) h = Math.round((w * step.ar[1]) / step.ar[0]);
    else if (h !== undefined) w = Math.round((h * step.ar[0]) / step.ar[1]);
  }
  if ((w ?? 0) > MAX_OUTPUT_SIDE || (h ?? 0) > MAX_OUTPUT_SIDE) throw invalidTransformation('w', `the output would exceed ${MAX_OUTPUT_SIDE} px.`);

  if (step.rt !== undefined) image = step.rt === 'auto' ? image.rotate() : image.rotate(step.rt, { background: { r: 0, g: 0, b: 0, alpha: 0 } });
  const trimmed = step.t !== undefined;
  if (trimmed) {
    // What trim leaves depends on the pixels: measure it, so the size check below knows what gets resized.
    const cut = await image.trim({ threshold: step.t === true ? 10 : step.t }).png({ compressionLevel: 0 }).toBuffer({ resolveWithObject: true });
    image = sharp(cut.data, { limitInputPixels: ctx.maxInputPixels });
    [srcW, srcH] = [cut.info.width, cut.info.height];
  }

  const blurred = step.bg ? blurredBackground(step.bg) : undefined;
  const background = step.bg && !blurred ? toSharpColour(step.bg) : { r: 255, g: 255, b: 255, alpha: 1 };
  if (step.fo === 'custom' && ctx.customCoordinates && step.cm !== 'extract') {
    const [left, top, width, height] = ctx.customCoordinates.split(',').map(Number) as [number, number, number, number];
    image = sharp(await image.extract({ left, top, width, height }).toBuffer(), { limitInputPixels: ctx.maxInputPixels });
  }
  // Every size is known now (faces found, trim measured): refuse before anything large is allocated.
  const bound = stepBound({ width: { min: srcW, max: srcW }, height: { min: srcH, max: srcH }, exact: true }, asApplied(step, w, h, trimmed), ctx);
  assertStepWithinPixelLimit(bound, index, ctx.maxOutputPixels ?? ctx.maxInputPixels);
  if (w !== undefined || h !== undefined) {
    if (step.cm === 'extract' || step.cm === 'pad_extract') {
      const ew = Math.min(w ?? srcW, srcW);
      const eh = Math.min(h ?? srcH, srcH);
      const xc = step.xc ?? focus?.x;
      const yc = step.yc ?? focus?.y;
      let left = step.x ?? (xc !== undefined ? Math.round(xc - ew / 2) : Math.floor((srcW - ew) / 2));
      let top = step.y ?? (yc !== undefined ? Math.round(yc - eh / 2) : Math.floor((srcH - eh) / 2));
      left = Math.max(0, Math.min(left, srcW - ew));
      top = Math.max(0, Math.min(top, srcH - eh));
      image = image.extract({ left, top, width: ew, height: eh });
      if (step.cm === 'pad_extract' && ((w ?? ew) > ew || (h ?? eh) > eh)) {
        const padX = (w ?? ew) - ew;
        const padY = (h ?? eh) - eh;
        image = sharp(await image.toBuffer()).extend({ left: Math.floor(padX / 2), right: Math.ceil(padX / 2), top: Math.floor(padY / 2), bottom: Math.ceil(padY / 2), background });
      }
    } else if (step.cm === 'pad_resize' && blurred && w !== undefined && h !== undefined) {
      image = await padOnBlurredCopy(image, w, h, blurred, ctx.maxInputPixels);
    } else if (step.cm === 'pad_resize') {
      image = image.resize(w, h, { fit: 'contain', background });
    } else {
      const crop = step.c ?? 'maintain_ratio';
      const fit = crop === 'force' ? 'fill' : crop === 'at_max' || crop === 'at_max_enlarge' ? 'inside' : crop === 'at_least' ? 'outside' : 'cover';
      const position = step.fo === 'auto' ? sharp.strategy.attention : (GRAVITY[step.fo ?? 'center'] ?? 'centre');
      if (focus && fit === 'cover' && w !== undefined && h !== undefined) {
        image = image.extract(cropAround(srcW, srcH, w / h, focus.x, focus.y));
      }
      image = image.resize(w, h, { fit, position, withoutEnlargement: crop === 'at_max' });
    }
  }
  if (step.fl === 'h' || step.fl === 'h_v') image = image.flop();
  if (step.fl === 'v' || step.fl === 'h_v') image = image.flip();
  if (step.bl !== undefined) image = image.blur(Math.max(0.3, step.bl / 2));
  for (const effect of step.e ?? []) {
    if (effect === 'grayscale') image = image.greyscale();
    if (effect === 'contrast') image = image.normalise();
    if (effect === 'sharpen') image = image.sharpen();
    if (effect === 'usm') image = image.sharpen({ sigma: 1, m1: 1, m2: 2 });
  }
  if (step.b) image = sharp(await image.toBuffer()).extend({ top: step.b.width, bottom: step.b.width, left: step.b.width, right: step.b.width, background: toSharpColour(step.b.color) });
  if (step.r !== undefined || step.o !== undefined) {
    const current = await image.png().toBuffer({ resolveWithObject: true });
    const { width, height } = current.info;
    image = sharp(current.data).ensureAlpha();
    if (step.r !== undefined) {
      const radius = step.r === 'max' ? Math.min(width, height) / 2 : step.r;
      const mask = step.r === 'max' ? `<ellipse cx="${width / 2}" cy="${height / 2}" rx="${width / 2}" ry="${height / 2}"/>` : `<rect width="${width}" height="${height}" rx="${radius}" ry="${radius}"/>`;
      image = sharp(await image.composite([{ input: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${mask}</svg>`), blend: 'dest-in' }]).png().toBuffer());
    }
    if (step.o !== undefined) image = sharp(await image.ensureAlpha().linear([1, 1, 1, step.o / 100], [0, 0, 0, 0]).png().toBuffer());
  }
  return image;
}

/**
 * Runs a transformation plan on an image with sharp, step by step, and encodes the result in the format the
 * last step's `f` (or the Accept header for `f-auto`) asks for. EXIF and colour profiles are stripped unless
 * `md-true` / `cp-true`.
 * @throws BAD_REQUEST (tr) for an unsupported combination or an output over the size cap.
 */
export async function renderImage(original: ImageInput, plan: TransformPlan, ctx: RenderContext): Promise<Rendered> {
  let current: ImageInput = original;
  let out: Sharp | undefined;
  for (const [i, step] of plan.entries()) {
    out = await applyStep(current, step, ctx, i);
    // Between steps the next one needs the real size of this one's output: hand it over as fast, lossless PNG.
    if (i < plan.length - 1) current = await out.png({ compressionLevel: 0 }).toBuffer();
  }
  out ??= sharp(original);
  const last: TransformStep = Object.assign({}, ...plan);
  const format = chooseFormat(last.f, ctx.accept, ctx.originalFormat);
  if (last.bg && !blurredBackground(last.bg) && (format === 'jpg' || format === 'avif')) out = out.flatten({ background: toSharpColour(last.bg) });
  if (last.md) out = out.withMetadata();
  else if (last.cp) out = out.keepIccProfile();
  const quality = last.q ?? 80;
  switch (format) {
    case 'jpg':
      out = out.jpeg({ quality, progressive: last.pr ?? false });
      break;
    case 'png':
      out = out.png({ progressive: last.pr ?? false });
      break;
    case 'webp':
      out = out.webp({ quality, lossless: last.lo ?? false });
      break;
    case 'avif':
      out = out.avif({ quality, lossless: last.lo ?? false });
      break;
    case 'gif':
      out = out.gif();
      break;
  }
  return { data: await out.toBuffer(), mime: MIME[format] ?? 'application/octet-stream' };
}
