import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { FileVersionRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import { withLocalFile } from '../storage/local-file.js';
import { chooseFormat, renderImage } from '../transform/render-image.js';
import { printTransformation, type TransformPlan } from '../transform/transform-plan.js';

const EXT_MIME: Record<string, string> = { jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp', avif: 'image/avif', gif: 'image/gif' };

/**
 * Transformed images, made once per (version, normalised plan, output format), cached in the blob store, with
 * concurrent identical requests sharing one computation and at most `concurrency` renders at a time.
 */
export class TransformedImages {
  private readonly inFlight = new Map<string, Promise<{ key: string; mime: string }>>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly store: BlobStore,
    private readonly maxInputPixels: number,
    private readonly concurrency = 2,
  ) {}

  /** The blob key and type of `version` rendered with `plan` for a client that sent `accept`. */
  get(version: FileVersionRow, plan: TransformPlan, accept: string): Promise<{ key: string; mime: string }> {
    const last = Object.assign({}, ...plan) as TransformPlan[number];
    const format = chooseFormat(last.f, accept, version.format ?? 'png');
    const digest = createHash('sha1').update(`${printTransformation(plan)}|${format}`).digest('hex').slice(0, 20);
    const key = `derived/${version.id}/${digest}.${format}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.make(version, plan, accept, key, format).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    while (this.running >= this.concurrency) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  private async make(version: FileVersionRow, plan: TransformPlan, accept: string, key: string, format: string) {
    const mime = EXT_MIME[format] ?? 'application/octet-stream';
    if (await this.store.stat(key)) return { key, mime };
    if (version.fileType !== 'image' || version.format === 'svg' || version.format === 'heic') {
      throw new AppError('BAD_REQUEST', `Transformations are supported for raster images here; this file is ${version.mime}.`, { parameter: 'tr' });
    }
    if (version.width && version.height && version.width * version.height > this.maxInputPixels) {
      throw new AppError('BAD_REQUEST', `The image has ${version.width * version.height} pixels, more than the ${this.maxInputPixels} that can be transformed.`, { parameter: 'tr' });
    }
    const rendered = await this.slot(async () => {
      const original = await withLocalFile(this.store, version.blobKey, (file) => fs.readFile(file));
      return renderImage(original, plan, { accept, originalFormat: version.format ?? 'png', customCoordinates: version.customCoordinates, maxInputPixels: this.maxInputPixels });
    });
    await this.store.put(key, Readable.from([rendered.data]));
    return { key, mime: rendered.mime };
  }
}
