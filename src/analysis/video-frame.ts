import { resolve as resolvePath } from 'node:path';
import type { Limiter } from './concurrency.js';
import { FrameExtractionError } from './errors.js';
import { toInputRestrictionArgs } from './media-formats.js';
import { runProcess, toErrorSummary } from './run-process.js';

export interface ExtractVideoFrameOptions {
  /** The ffmpeg executable (see `resolveFfmpegPaths`). */
  ffmpegPath: string;
  /** Where to take the frame, in seconds. Default 0. Past the end, the first frame is taken instead. */
  atSeconds?: number;
  /** Scale down (never up) to at most this width, keeping the aspect ratio. Default: no scaling. */
  maxWidth?: number;
  /** Kill ffmpeg after this long. Default 20 s (per attempt). */
  timeoutMs?: number;
  /** JPEG quality on ffmpeg's 2 (best) – 31 scale. Default 3. */
  jpegQScale?: number;
  limiter?: Limiter;
  signal?: AbortSignal;
  /** Address space ffmpeg may use (see `ProcessLimits`). Default: unlimited. */
  maxMemoryBytes?: number;
  /** Demuxers ffmpeg may use; defaults to `DEFAULT_MEDIA_DEMUXERS`. */
  demuxers?: readonly string[];
}

const DEFAULT_TIMEOUT_MS = 20_000;
const MAX_FRAME_BYTES = 32 * 1024 * 1024;

/** ffmpeg arguments for one JPEG frame at `atSeconds`, written to stdout. */
export function toFrameArgs(filePath: string, atSeconds: number, options: ExtractVideoFrameOptions): string[] {
  const filters: string[] = [];
  if (options.maxWidth !== undefined) {
    const w = Math.max(2, Math.floor(options.maxWidth));
    // -2 keeps the aspect ratio with an even height, which the JPEG encoder's chroma subsampling needs.
    filters.push(`scale='min(${w},iw)':-2`);
  }
  return [
    '-v',
    'error',
    ...toInputRestrictionArgs(options.demuxers),
    // Before -i: seek in the input (fast, keyframe then decode to the exact time).
    '-ss',
    String(Math.max(0, atSeconds)),
    '-i',
    resolvePath(filePath),
    '-map',
    '0:v:0',
    '-frames:v',
    '1',
    ...(filters.length ? ['-vf', filters.join(',')] : []),
    '-c:v',
    'mjpeg',
    '-q:v',
    String(options.jpegQScale ?? 3),
    '-f',
    'image2pipe',
    'pipe:1',
  ];
}

/**
 * One frame of a video as a JPEG, upright (ffmpeg applies the rotation metadata), optionally scaled to
 * `maxWidth`. When `atSeconds` is past the end of the video, the first frame is returned instead.
 *
 * @throws FrameExtractionError when ffmpeg fails or yields no frame (no video stream, unreadable file).
 * @throws MediaTimeoutError when ffmpeg runs longer than `timeoutMs` (it is killed).
 * @throws BinaryNotFoundError when `ffmpegPath` cannot be executed.
 */
export async function extractVideoFrame(filePath: string, options: ExtractVideoFrameOptions): Promise<Buffer> {
  const attempt = async (atSeconds: number) => {
    const run = () =>
      runProcess(options.ffmpegPath, toFrameArgs(filePath, atSeconds, options), {
        timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        maxStdoutBytes: MAX_FRAME_BYTES,
        signal: options.signal,
        limits: { memoryBytes: options.maxMemoryBytes },
      });
    return options.limiter ? options.limiter.run(run) : run();
  };
  const at = options.atSeconds ?? 0;
  let result = await attempt(at);
  if (result.code === 0 && result.stdout.length === 0 && at > 0) result = await attempt(0);
  if (result.code !== 0 || result.truncated || !isJpeg(result.stdout)) {
    const reason = toErrorSummary(result.stderr) || `exit code ${result.code}`;
    throw new FrameExtractionError(`ffmpeg produced no frame: ${reason}`);
  }
  return result.stdout;
}

const isJpeg = (data: Buffer) => data.length > 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff;
