import sharp from 'sharp';
import { createLimiter } from '../analysis/concurrency.js';
import { decodeRgba } from '../extensions/models/decode-rgba.js';
import { FACE_INPUT_SIZE, type FaceDetector, loadFaceDetector } from '../extensions/models/face-detector.js';

/** A region of an image, in its upright pixels. */
export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Finds the faces in an encoded image; regions in the image's upright pixels, best first. */
export type FaceFinder = (image: Buffer) => Promise<Region[]>;

/**
 * The face finder `fo-face` uses: BlazeFace on a 256-pixel stretch of the picture, boxes scaled back to the
 * picture. The model loads on first use; TensorFlow.js runs one inference at a time, so calls are queued.
 * The server runs it in a model process (src/extensions/model-hosts.ts), off its event loop.
 */
export function createFaceFinder(load: () => Promise<FaceDetector> = loadFaceDetector): FaceFinder {
  let detector: Promise<FaceDetector> | undefined;
  const one = createLimiter(1);
  const loaded = () => {
    if (!detector) {
      const loading = load();
      // A failed load is retried by the next call; it must not become an unhandled rejection meanwhile.
      loading.catch(() => {
        if (detector === loading) detector = undefined;
      });
      detector = loading;
    }
    return detector;
  };
  return async (image) => {
    const model = loaded();
    const { width = 0, height = 0, orientation = 1 } = await sharp(image).metadata();
    const [w, h] = orientation >= 5 ? [height, width] : [width, height];
    const square = await decodeRgba(image, { width: FACE_INPUT_SIZE, height: FACE_INPUT_SIZE });
    const faces = await one.run(async () => (await model).detect(square));
    const sx = w / FACE_INPUT_SIZE;
    const sy = h / FACE_INPUT_SIZE;
    return faces.map((f) => {
      const left = Math.max(0, Math.round(f.left * sx));
      const top = Math.max(0, Math.round(f.top * sy));
      return { left, top, width: Math.min(w - left, Math.round(f.width * sx)), height: Math.min(h - top, Math.round(f.height * sy)) };
    }).filter((r) => r.width > 0 && r.height > 0);
  };
}

/** The smallest region holding every one of `regions`. */
export function unionOf(regions: readonly Region[]): Region | undefined {
  if (regions.length === 0) return undefined;
  const left = Math.min(...regions.map((r) => r.left));
  const top = Math.min(...regions.map((r) => r.top));
  const right = Math.max(...regions.map((r) => r.left + r.width));
  const bottom = Math.max(...regions.map((r) => r.top + r.height));
  return { left, top, width: right - left, height: bottom - top };
}

/** A `width`×`height` region centred on (`cx`, `cy`), moved as little as needed to lie inside a `srcW`×`srcH` picture. */
export function centredRegion(srcW: number, srcH: number, width: number, height: number, cx: number, cy: number): Region {
  const clamp = (v: number, max: number) => Math.max(0, Math.min(Math.round(v), max));
  return { left: clamp(cx - width / 2, srcW - width), top: clamp(cy - height / 2, srcH - height), width, height };
}

/**
 * The largest `ratio` (width / height) crop of a `srcW`×`srcH` picture centred on (`cx`, `cy`) as far as the
 * picture's edges allow.
 */
export function cropAround(srcW: number, srcH: number, ratio: number, cx: number, cy: number): Region {
  const width = Math.min(srcW, Math.round(srcH * ratio));
  const height = Math.min(srcH, Math.round(width / ratio));
  return centredRegion(srcW, srcH, width, height, cx, cy);
}
