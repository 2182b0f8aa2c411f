import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkerPool } from '../workers/worker-pool.js';
import type { ImageAnalysisOutcome } from './analyze-image.js';

/** One image to analyse: a path (the worker reads the file itself, so no bytes cross) and the pixel limit. */
export interface ImageAnalysisTask {
  path: string;
  maxPixels: number;
}

export type ImageAnalysisPool = WorkerPool<ImageAnalysisTask, ImageAnalysisOutcome>;

/** The worker script: `.ts` under tsx and vitest, `.js` once compiled. */
const entry = () => new URL(`./image-analysis-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * Worker threads that run `analyzeImageFile` (decode, pHash, EXIF/IPTC/XMP, JPEG quality) off the event loop,
 * at most `size` at once; started on the first image.
 */
export const createImageAnalysisPool = (size: number): ImageAnalysisPool => new WorkerPool({ name: 'image analysis', entry: entry(), size });
