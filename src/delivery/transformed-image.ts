import { Readable } from 'node:stream';
import type { FileVersionRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import { withLocalFile } from '../storage/local-file.js';
import type { FaceFinder } from '../transform/face-finder.js';
import { assertEncodable, assertWithinPixelLimit, predictStepSizes } from '../transform/output-size.js';
import { chooseFormat, type Rendered, renderImage } from '../transform/render-image.js';
import { VIDEO_ONLY } from '../transform/render-video.js';
import { invalidTransformation, printTransformation, type TransformPlan } from '../transform/transform-plan.js';
import { derivativeKey } from '../storage/blob-keys.js';
import { type Derivative, derivativeMime } from './derivative.js';
import type { RenderQueue } from './render-queue.js';

/** @throws BAD_REQUEST naming the first video-only parameter in an image's plan. */
export function assertImagePlan(plan: TransformPlan): void {
  for (const step of plan) {
    const key = VIDEO_ONLY.find((k) => step[k] !== undefined) ?? (step.f === 'mp4' || step.f === 'webm' ? 'f' : undefined);
    if (key) throw invalidTransformation(key, 'is a video parameter; it does not apply to images.');
  }
}

/** Images rendered with a plan, once per (version, normalised plan, output format), cached in the blob store. */
export class TransformedImages {
  constructor(
    private readonly store: BlobStore,
    private readonly queue: RenderQueue,
    private readonly maxInputPixels: number,
    private readonly findFaces?: FaceFinder,
  ) {}

  /**
   * The blob key and type of `version` rendered with `plan` for a client that sent `accept`, with its bytes when
   * this call rendered it.
   * @throws BAD_REQUEST (tr) before anything is decoded when a step would exceed the pixel limit or the format's largest side.
   */
  async get(version: FileVersionRow, plan: TransformPlan, accept: string): Promise<Derivative> {
    if (version.fileType !== 'image' || version.format === 'svg' || version.format === 'heic') {
      throw new AppError('BAD_REQUEST', `Transformations are supported for raster images and videos here; this file is ${version.mime}.`, { parameter: 'tr' });
    }
    assertImagePlan(plan);
    const last = Object.assign({}, ...plan) as TransformPlan[number];
    const format = chooseFormat(last.f, accept, version.format ?? 'png');
    const source = version.width && version.height ? { width: version.width, height: version.height } : undefined;
    const bounds = predictStepSizes(source, plan, { customCoordinates: version.customCoordinates, maxInputPixels: this.maxInputPixels });
    assertWithinPixelLimit(bounds, this.maxInputPixels);
    assertEncodable(bounds, format);
    // fo-custom reads customCoordinates, which can change without a new version.
    const coordinates = plan.some((step) => step.fo === 'custom') ? `|${version.customCoordinates ?? ''}` : '';
    const key = derivativeKey(version.id, `${printTransformation(plan)}|${format}${coordinates}`, format);
    // Stored without an fsync, a derivative an OS crash cut to nothing is rendered again.
    if (((await this.store.stat(key))?.size ?? 0) > 0) return { key, mime: derivativeMime(key) };
    return this.queue.run(key, () => this.render(version, plan, accept), (rendered) => this.keep(key, rendered));
  }

  private async render(version: FileVersionRow, plan: TransformPlan, accept: string): Promise<Rendered> {
    if (version.width && version.height && version.width * version.height > this.maxInputPixels) {
      throw new AppError('BAD_REQUEST', `The image has ${version.width * version.height} pixels, more than the ${this.maxInputPixels} that can be transformed.`, { parameter: 'tr' });
    }
    // sharp reads the original itself: a JPEG is decoded shrunk, never held whole in memory.
    const originalSize = version.width && version.height ? { width: version.width, height: version.height } : undefined;
    return withLocalFile(this.store, version.blobKey, (file) =>
      renderImage(file, plan, { accept, originalFormat: version.format ?? 'png', customCoordinates: version.customCoordinates, maxInputPixels: this.maxInputPixels, originalSize, findFaces: this.findFaces }),
    );
  }

  /** Stores a render (outside the render slot) and hands its bytes to the requests waiting for it. */
  private async keep(key: string, rendered: Rendered): Promise<Derivative> {
    // A derivative can be rendered again, so it is not flushed to disk before it is served.
    await this.store.put(key, Readable.from([rendered.data]), { durable: false });
    return { key, mime: rendered.mime, body: rendered.data };
  }
}
