import fs from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import type { Config } from '../config.js';
import type { RenderQueue } from '../delivery/render-queue.js';
import { assertImagePlan } from '../delivery/transformed-image.js';
import { AppError, fileTooLarge, isAppError } from '../errors.js';
import { type BlobStore, BlobTooLargeError } from '../storage/blob-store.js';
import type { FaceFinder } from '../transform/face-finder.js';
import { renderImage } from '../transform/render-image.js';
import { assertWithinPixelLimit, predictStepSizes, type Size } from '../transform/output-size.js';
import type { TransformPlan } from '../transform/transform-plan.js';
import { type DetectedType, detectType, SNIFF_BYTES } from './detect-type.js';
import { assertTypeAllowed } from './type-policy.js';
import { preTransformFailed } from './upload-transformation.js';
import { type SpooledBlob, spoolWhilePutting } from './spool.js';

export interface PreTransformDeps {
  store: BlobStore;
  config: Pick<Config, 'limits' | 'types'>;
  /** The image render slots deliveries use: a pre-transformation waits for one like any render. */
  renders: RenderQueue;
  findFaces?: FaceFinder;
}

/** The uploaded image, already stored under `blobKey`. */
export interface StoredUpload {
  blobKey: string;
  /** A local file holding the stored bytes (see `spoolWhilePutting`): read instead of the store. */
  localFile: string;
  type: DetectedType;
  sha256: string;
  fileName: string;
}

/** The image's size as displayed (EXIF orientations 5 to 8 swap its sides), read from its header. */
async function displayedSize(file: string): Promise<Size> {
  const meta = await sharp(file, { limitInputPixels: false }).metadata();
  const turned = (meta.orientation ?? 1) >= 5;
  return { width: (turned ? meta.height : meta.width) ?? 1, height: (turned ? meta.width : meta.height) ?? 1 };
}

/** The render queue's refusals (queue full, still rendering) concern the `transformation` parameter here. */
const asUploadError = (error: unknown) =>
  isAppError(error) && error.status >= 500 ? new AppError(error.code, error.message, { parameter: 'transformation', details: error.details, cause: error }) : error;

/**
 * Replaces the stored image with its pre-transformation (ImageKit applies `pre` before storing). The plan's output
 * is checked against STOWAGE_MAX_IMAGE_PIXELS before decoding; the render waits for an image render slot; the result
 * obeys the file size limit like any upload (sharp hands over its encoded output whole, so the limit is applied to
 * that buffer before a byte of it is written). The original is read from `upload.localFile`, never from the store;
 * the result is stored with a local copy of its own, which the caller releases (and the original's).
 * @throws BAD_REQUEST (transformation) when it cannot be applied, FILE_TOO_LARGE (file) when the result is over the
 * limit, TOO_MANY_TRANSFORMATIONS / TRANSFORMATION_TIMEOUT when no render slot frees in time; the caller then
 * deletes the blob.
 */
export async function preTransformImage(deps: PreTransformDeps, upload: StoredUpload, pre: { value: string; plan: TransformPlan }): Promise<{ stored: SpooledBlob; sha256: string; type: DetectedType }> {
  const { store, config } = deps;
  const { type } = upload;
  if (type.ext === 'svg' || type.ext === 'heic' || type.ext === 'heif') {
    throw preTransformFailed(new Error(`pre-transformations apply to raster images; this file is ${type.mime}.`));
  }
  const maxPixels = config.limits.maxImagePixels;
  try {
    assertImagePlan(pre.plan);
    const source = await displayedSize(upload.localFile);
    assertWithinPixelLimit(predictStepSizes(source, pre.plan, { maxInputPixels: maxPixels }), maxPixels);
  } catch (error) {
    throw preTransformFailed(error);
  }
  // Read inside the slot, so uploads waiting for one do not each hold their original in memory.
  const render = async () => {
    const original = await fs.readFile(upload.localFile);
    try {
      return await renderImage(original, pre.plan, { accept: '', originalFormat: type.ext ?? 'png', customCoordinates: null, maxInputPixels: maxPixels, findFaces: deps.findFaces });
    } catch (error) {
      throw preTransformFailed(error);
    }
  };
  const rendered = await deps.renders.run(`upload-pre:${upload.sha256}:${pre.value}`, render).catch((error: unknown) => {
    throw asUploadError(error);
  });
  const renderedType = await detectType(rendered.data.subarray(0, SNIFF_BYTES), upload.fileName);
  assertTypeAllowed(renderedType.mime, config.types);
  const maxBytes = config.limits.maxFileBytes;
  try {
    const stored = await spoolWhilePutting(store, upload.blobKey, Readable.from([rendered.data]), { maxBytes });
    return { stored, sha256: createHash('sha256').update(rendered.data).digest('hex'), type: renderedType };
  } catch (error) {
    throw error instanceof BlobTooLargeError ? fileTooLarge(maxBytes) : error;
  }
}
