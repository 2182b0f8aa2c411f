import { join, resolve } from 'node:path';
import { analyzeImageFile } from '../analysis/analyze-image.js';
import type { Limiter } from '../analysis/concurrency.js';
import { CorruptImageError, MediaTimeoutError, NotMediaError, ProbeCrashedError } from '../analysis/errors.js';
import type { ImageAnalysisPool } from '../analysis/image-analysis-pool.js';
import { toInputRestrictionArgs } from '../analysis/media-formats.js';
import { type ProcessLimits, runProcess } from '../analysis/run-process.js';
import { probeMedia } from '../analysis/media-probe.js';
import type { StoredAnalysis } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { DetectedType } from './detect-type.js';
import { withTempDir } from '../storage/local-file.js';
import { timed } from '../metrics/stopwatch.js';

export interface AnalysisDeps {
  maxImagePixels: number;
  ffprobePath: string;
  /** Remuxes media ffprobe crashes on into MP4 to probe that instead. */
  ffmpegPath: string;
  /** Bounds concurrent image decodes (each may hold a whole image in memory). */
  imageLimiter: Limiter;
  /** Worker threads the image analysis runs in, off the event loop; without it, it runs on this thread. */
  imageWorkers?: ImageAnalysisPool;
  /** Bounds concurrent ffprobe processes. */
  probeLimiter: Limiter;
  /** Memory the kernel lets each ffprobe/ffmpeg of the analysis use (a hostile file cannot exhaust the machine). */
  processLimits?: ProcessLimits;
  log: (message: string, error: unknown) => void;
  metrics?: AnalysisMetrics;
}

/** What was analysed: an image (sharp) or a video or audio file (ffprobe). */
export type AnalysisKind = 'image' | 'video' | 'audio';

/** Where analyses are reported (see `src/metrics/metrics.ts`). */
export interface AnalysisMetrics {
  /** One file's analysis took `seconds`, including the wait for a slot; `failed` when it threw. */
  analyzed(kind: AnalysisKind, seconds: number, failed: boolean): void;
}

/** Everything analysis adds to a version; `null`s where a field does not apply to the file's kind. */
export interface FileAnalysis {
  width: number | null;
  height: number | null;
  format: string | null;
  hasTransparency: boolean | null;
  pHash: string | null;
  embeddedMetadata: Record<string, unknown> | null;
  analysis: StoredAnalysis | null;
  duration: number | null;
  bitRate: number | null;
  videoCodec: string | null;
  audioCodec: string | null;
}

const EMPTY: FileAnalysis = {
  width: null,
  height: null,
  format: null,
  hasTransparency: null,
  pHash: null,
  embeddedMetadata: null,
  analysis: null,
  duration: null,
  bitRate: null,
  videoCodec: null,
  audioCodec: null,
};

export const imageTooLarge = (pixels: number, maxPixels: number) =>
  new AppError('BAD_REQUEST', `Your request contains invalid file parameter. The image has ${pixels} pixels, more than the ${maxPixels} allowed.`, {
    parameter: 'file',
    details: { pixels, maxPixels },
  });

async function analyzeImage(path: string, deps: AnalysisDeps): Promise<FileAnalysis> {
  const outcome = deps.imageWorkers ? await deps.imageWorkers.run({ path, maxPixels: deps.maxImagePixels }) : await analyzeImageFile(path, deps.maxImagePixels);
  switch (outcome.status) {
    case 'too-large':
      throw imageTooLarge(outcome.pixels, outcome.limit);
    case 'corrupt': {
      const cause = new CorruptImageError(outcome.message);
      throw new AppError('BAD_REQUEST', `Your request contains invalid file parameter. The image is corrupt or truncated: ${cause.message}.`, { parameter: 'file', cause });
    }
    case 'unsupported':
      return EMPTY;
  }
  const { info, exif } = outcome;
  if (outcome.pHashError) deps.log('pHash failed', new Error(outcome.pHashError));
  return {
    ...EMPTY,
    width: info.width,
    height: info.height,
    format: info.format,
    hasTransparency: info.hasTransparency,
    pHash: outcome.pHash,
    embeddedMetadata: outcome.embeddedMetadata,
    analysis: {
      hasColorProfile: info.hasColorProfile,
      quality: info.quality,
      density: info.density,
      isAnimated: info.isAnimated,
      pages: info.pages,
      ...(exif ? { exif: exif as unknown as StoredAnalysis['exif'] } : {}),
    },
  };
}

/**
 * ffprobe's view of `path`; when ffprobe crashes (the bundled build does on every MPEG-TS file), the streams are
 * copied into a temporary MP4 by ffmpeg, which reads them fine, and that is probed instead.
 */
async function probeOrRemux(path: string, deps: AnalysisDeps) {
  const options = { ffprobePath: deps.ffprobePath, limiter: deps.probeLimiter, limits: deps.processLimits };
  try {
    return await probeMedia(path, options);
  } catch (error) {
    if (!(error instanceof ProbeCrashedError)) throw error;
    return withTempDir('remux', async (dir) => {
      const copy = join(dir, 'copy.mp4');
      const remux = await deps.probeLimiter.run(() =>
        runProcess(deps.ffmpegPath, ['-v', 'error', ...toInputRestrictionArgs(), '-i', resolve(path), '-map', '0:v:0?', '-map', '0:a:0?', '-c', 'copy', '-f', 'mp4', copy], {
          timeoutMs: REMUX_TIMEOUT_MS,
          maxStdoutBytes: 64 * 1024,
          limits: deps.processLimits,
        }),
      );
      if (remux.code !== 0) throw new NotMediaError(`ffprobe crashed and ffmpeg could not copy the streams: ${remux.stderr.slice(-300)}`, { cause: error });
      return probeMedia(copy, options);
    });
  }
}

const REMUX_TIMEOUT_MS = 120_000;

async function analyzeMedia(path: string, deps: AnalysisDeps): Promise<FileAnalysis> {
  try {
    const media = await probeOrRemux(path, deps);
    return {
      ...EMPTY,
      width: media.width,
      height: media.height,
      duration: media.duration,
      bitRate: media.bitRate,
      videoCodec: media.videoCodec,
      audioCodec: media.audioCodec,
      analysis: { frameRate: media.frameRate },
    };
  } catch (error) {
    // Bytes that look like media but are not (or are truncated) are kept as a plain file without probe fields.
    if (error instanceof NotMediaError || error instanceof MediaTimeoutError || error instanceof ProbeCrashedError) return EMPTY;
    throw error;
  }
}

/**
 * Understands a stored file from its bytes: for images the displayed size, transparency, colour profile,
 * density, JPEG quality, EXIF/IPTC/XMP and a perceptual hash; for video and audio the ffprobe fields.
 * @throws BAD_REQUEST (file) for an image over the pixel limit or a corrupt image.
 */
export async function analyzeFile(path: string, type: DetectedType, deps: AnalysisDeps): Promise<FileAnalysis> {
  const kind = analysisKindOf(type);
  if (!kind) return EMPTY;
  const analyze = () => (kind === 'image' ? deps.imageLimiter.run(() => analyzeImage(path, deps)) : analyzeMedia(path, deps));
  const { metrics } = deps;
  return metrics ? timed(analyze, (seconds, failed) => metrics.analyzed(kind, seconds, failed)) : analyze();
}

function analysisKindOf(type: DetectedType): AnalysisKind | undefined {
  if (type.fileType === 'image') return 'image';
  if (type.mime.startsWith('video/')) return 'video';
  return type.mime.startsWith('audio/') ? 'audio' : undefined;
}
