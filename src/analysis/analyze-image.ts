import fs from 'node:fs/promises';
import { readEmbeddedMetadata, readLegacyExif, type LegacyExif } from './embedded-metadata.js';
import { CorruptImageError, PixelLimitError, UnsupportedImageError } from './errors.js';
import { decodeHeicToPng, isHeic } from './heic.js';
import { type ImageInfo, readImageInfo } from './image-info.js';
import { computePHash } from './phash.js';

/**
 * What {@link analyzeImageFile} found: plain data, so it crosses a worker boundary as is (errors would lose their
 * class). The expected failures are outcomes too.
 */
export type ImageAnalysisOutcome =
  | {
      status: 'analyzed';
      info: ImageInfo;
      /** `null` when the hash could not be computed (see `pHashError`); the rest of the analysis stands. */
      pHash: string | null;
      pHashError?: string;
      embeddedMetadata: Record<string, unknown>;
      /** Absent when the EXIF could not be read. */
      exif?: LegacyExif;
    }
  | { status: 'too-large'; pixels: number; limit: number }
  | { status: 'corrupt'; message: string }
  | { status: 'unsupported' };

/**
 * Reads an image file and analyses it: header and first-frame decode (`readImageInfo`), a perceptual hash (HEIC
 * decoded with libheif first), EXIF/IPTC/XMP merged, and the legacy raw EXIF. Heavy enough (the whole file in
 * memory, parsing, decoding) to run in a worker thread (see `image-analysis-pool.ts`).
 *
 * @throws only for unexpected failures (e.g. the file cannot be read); bad images are outcomes.
 */
export async function analyzeImageFile(path: string, maxPixels: number): Promise<ImageAnalysisOutcome> {
  const data = await fs.readFile(path);
  let info: ImageInfo & { pHash?: string };
  try {
    info = await readImageInfo(data, { maxPixels, withPHash: true });
  } catch (error) {
    if (error instanceof PixelLimitError) return { status: 'too-large', pixels: error.pixels, limit: error.limit };
    if (error instanceof CorruptImageError) return { status: 'corrupt', message: error.message };
    if (error instanceof UnsupportedImageError) return { status: 'unsupported' };
    throw error;
  }
  // sharp reads HEIC headers but cannot decode HEVC pixels; libheif decodes it for the perceptual hash.
  const { pHash: hashedWhileDecoding, ...imageInfo } = info;
  let pHashError: string | undefined;
  const hashSeparately = async () => {
    const hashInput = isHeic(data) && info.format === 'heic' ? await decodeHeicToPng(data, { maxPixels }).catch(() => undefined) : data;
    if (!hashInput) return null;
    return computePHash(hashInput, { maxPixels }).catch((error: unknown) => {
      pHashError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return null;
    });
  };
  const pHash = hashedWhileDecoding ?? (await hashSeparately());
  const [embeddedMetadata, exif] = await Promise.all([readEmbeddedMetadata(data), readLegacyExif(data).catch(() => undefined)]);
  return { status: 'analyzed', info: imageInfo, pHash, ...(pHashError ? { pHashError } : {}), embeddedMetadata, ...(exif ? { exif } : {}) };
}
