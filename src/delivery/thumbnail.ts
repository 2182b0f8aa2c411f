import sharp from 'sharp';
import type { FileVersionRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { BlobStore } from '../storage/blob-store.js';

export const THUMBNAIL_SIZE = 200;
export const THUMBNAIL_MIME = 'image/webp';

/**
 * Makes (once per version) and caches the media-library thumbnail: the image turned upright, fit inside
 * 200x200 without enlarging, as WebP (keeps transparency). Concurrent requests for one version share the work.
 */
export class ThumbnailMaker {
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(
    private readonly store: BlobStore,
    private readonly maxInputPixels: number,
  ) {}

  /**
   * @returns the blob key of the thumbnail.
   * @throws AppError BAD_REQUEST when the image is over the pixel limit or cannot be decoded.
   */
  thumbnailOf(version: FileVersionRow): Promise<string> {
    const key = `thumbnails/${version.id}.webp`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.make(version, key).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async make(version: FileVersionRow, key: string): Promise<string> {
    if (await this.store.stat(key)) return key;
    if (version.width && version.height && version.width * version.height > this.maxInputPixels) {
      throw new AppError('BAD_REQUEST', `The image has ${version.width * version.height} pixels, more than the ${this.maxInputPixels} that can be transformed.`, {
        parameter: 'tr',
        details: { maxPixels: this.maxInputPixels },
      });
    }
    const original = await this.store.get(version.blobKey);
    const resize = sharp({ limitInputPixels: this.maxInputPixels, failOn: 'error' })
      .rotate()
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 });
    original.once('error', (err) => resize.destroy(err));
    original.pipe(resize);
    try {
      await this.store.put(key, resize);
    } catch (error) {
      original.destroy();
      throw new AppError('BAD_REQUEST', `The image could not be decoded for a thumbnail: ${(error as Error).message}`, { parameter: 'tr', cause: error });
    }
    return key;
  }
}
