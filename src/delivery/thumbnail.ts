import fs from 'node:fs/promises';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import type { Limiter } from '../analysis/concurrency.js';
import { decodeHeicToPng } from '../analysis/heic.js';
import { redactProcessOutput } from '../analysis/redact-output.js';
import { extractVideoFrame } from '../analysis/video-frame.js';
import type { FileVersionRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import { thumbnailKey } from '../storage/blob-keys.js';
import type { BlobStore } from '../storage/blob-store.js';
import { withLocalFile } from '../storage/local-file.js';
import type { RenderQueue } from './render-queue.js';

export const THUMBNAIL_SIZE = 200;
export const THUMBNAIL_MIME = 'image/webp';
/** Where in a video the thumbnail frame is taken (the very first frame is often black). */
const VIDEO_FRAME_AT_SECONDS = 1;

export interface ThumbnailOptions {
  maxInputPixels: number;
  ffmpegPath: string;
  /** Bounds concurrent ffmpeg processes. */
  limiter: Limiter;
  /** Address space the frame-grabbing ffmpeg may use. Default: unlimited. */
  maxMemoryBytes?: number;
  /** Aborting kills a running frame grab (the server is closing). */
  signal?: AbortSignal;
}

/** Which versions get a thumbnail: images, and video whose probe found a picture. */
export const hasThumbnail = (v: Pick<FileVersionRow, 'fileType' | 'mime' | 'videoCodec'>) => v.fileType === 'image' || (v.mime.startsWith('video/') && v.videoCodec !== null);

const isHevcHeic = (v: FileVersionRow) => v.format === 'heic';

/**
 * Makes (once per version) and caches the media-library thumbnail: the picture turned upright, fit inside
 * 200x200 without enlarging, as WebP (keeps transparency). Videos use a frame near the start; HEIC is decoded with
 * libheif; animated images use their first frame. Thumbnails are made in `queue`'s slots: concurrent requests for
 * one version share the work, and a failure answers again without another attempt while the queue remembers it.
 */
export class ThumbnailMaker {
  constructor(
    private readonly store: BlobStore,
    private readonly queue: RenderQueue,
    private readonly options: ThumbnailOptions,
  ) {}

  /**
   * @returns the blob key of the thumbnail.
   * @throws AppError BAD_REQUEST when the picture is over the pixel limit or cannot be decoded.
   */
  async thumbnailOf(version: FileVersionRow): Promise<string> {
    const key = thumbnailKey(version.id);
    if (await this.store.stat(key)) return key;
    return this.queue.run(key, () => this.make(version, key));
  }

  /** The picture to shrink, as a stream of encoded image bytes. */
  private async source(version: FileVersionRow): Promise<Readable> {
    if (version.mime.startsWith('video/')) {
      const frame = await withLocalFile(this.store, version.blobKey, (file) =>
        extractVideoFrame(file, {
          ffmpegPath: this.options.ffmpegPath,
          atSeconds: VIDEO_FRAME_AT_SECONDS,
          maxWidth: 1280,
          limiter: this.options.limiter,
          maxMemoryBytes: this.options.maxMemoryBytes,
          signal: this.options.signal,
        }),
      );
      return Readable.from([frame]);
    }
    if (isHevcHeic(version)) {
      const png = await withLocalFile(this.store, version.blobKey, async (file) => decodeHeicToPng(await fs.readFile(file), { maxPixels: this.options.maxInputPixels }));
      return Readable.from([png]);
    }
    return this.store.get(version.blobKey);
  }

  private async make(version: FileVersionRow, key: string): Promise<string> {
    const { maxInputPixels } = this.options;
    if (version.fileType === 'image' && version.width && version.height && version.width * version.height > maxInputPixels) {
      throw new AppError('BAD_REQUEST', `The image has ${version.width * version.height} pixels, more than the ${maxInputPixels} that can be transformed.`, {
        parameter: 'tr',
        details: { maxPixels: maxInputPixels },
      });
    }
    try {
      const original = await this.source(version);
      const resize = sharp({ limitInputPixels: maxInputPixels, failOn: 'error' })
        .rotate()
        .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: 80 });
      original.once('error', (err) => resize.destroy(err));
      original.pipe(resize);
      await this.store.put(key, resize);
    } catch (error) {
      throw new AppError('BAD_REQUEST', `A thumbnail could not be made: ${redactProcessOutput((error as Error).message)}`, { parameter: 'tr', cause: error });
    }
    return key;
  }
}
