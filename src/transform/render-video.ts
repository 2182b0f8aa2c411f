import { DEFAULT_MEDIA_DEMUXERS, toInputRestrictionArgs } from '../analysis/media-formats.js';
import { type ProcessResult, runProcess, toErrorSummary } from '../analysis/run-process.js';
import { invalidTransformation, type TransformPlan, type TransformStep } from './transform-plan.js';

/** What the renderer needs to know of the source video (from the upload's analysis). */
export interface VideoSource {
  file: string;
  width: number;
  height: number;
  /** Seconds. */
  duration: number;
  hasAudio: boolean;
  /** Frames per second, when the analysis found it; unknown rates are capped like high ones. */
  frameRate?: number | null;
  /** ffmpeg demuxers allowed to read `file` (GIF input needs `gif`). */
  demuxers?: readonly string[];
}

export interface FfmpegRun {
  ffmpegPath: string;
  /** ffmpeg is killed (its whole process group, SIGKILL) after this long. */
  timeoutMs: number;
  /** Address space one ffmpeg may use; allocations past it fail and the render with them. Default: unlimited. */
  maxMemoryBytes?: number;
  /** Aborting kills ffmpeg (the server is closing). */
  signal?: AbortSignal;
}

/** The most frames per second a rendered video has (never more than its source): what displays show. */
export const MAX_VIDEO_FPS = 60;
/**
 * Threads per decoder and per encoder. A render's cost is bounded by its pixels, frames and time limit; the
 * threads bound how much of the machine one render takes meanwhile (ffmpeg's default is one per core, or more).
 */
export const FFMPEG_THREADS = 2;
/** CPU seconds an ffmpeg may use per second of its time limit: only reached by one orphaned by a crashed server. */
const CPU_SECONDS_PER_SECOND = 8;

/** Global and input options that bound ffmpeg's threads: decoding and filtering, before `-i`. */
export const boundedInputArgs = (): string[] => ['-filter_threads', '1', '-threads', String(FFMPEG_THREADS)];

/**
 * Output options capping the frame rate at `MAX_VIDEO_FPS` when the source's may be higher: `-r` with variable
 * frame rate drops frames that would come closer than 1/60 s, and never duplicates any. `stream` is an output
 * stream specifier (`:0`) when an output has several video streams.
 */
export const frameRateCapArgs = (frameRate: number | null | undefined, stream = ''): string[] =>
  frameRate && frameRate <= MAX_VIDEO_FPS ? [] : [`-r${stream}`, String(MAX_VIDEO_FPS), '-vsync', 'vfr'];

export type VideoContainer = 'mp4' | 'webm';

export const VIDEO_MIME: Record<VideoContainer, string> = { mp4: 'video/mp4', webm: 'video/webm' };

/** The image-only parameters, refused on video with a clear error. */
const IMAGE_ONLY: readonly (keyof TransformStep)[] = ['x', 'y', 'xc', 'yc', 'z', 'b', 'r', 'fl', 'bl', 'o', 'e', 'dpr', 'pr', 'lo', 'md', 'cp', 't', 'fo'];
/** The video-only parameters, refused on images. */
export const VIDEO_ONLY: readonly (keyof TransformStep)[] = ['so', 'eo', 'du', 'vc', 'ac', 'sr'];

/** The nearest even number of pixels, at least 2: 4:2:0 chroma needs even sides. */
export const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

/** The plan's steps merged into one (video transformations are not chained: later values win). */
export function flattenVideoPlan(plan: TransformPlan): TransformStep {
  const step: TransformStep = Object.assign({}, ...plan);
  for (const key of IMAGE_ONLY) {
    if (step[key] !== undefined) throw invalidTransformation(key, 'is an image parameter; it does not apply to video.');
  }
  if (step.f && step.f !== 'mp4' && step.f !== 'webm' && step.f !== 'auto' && step.f !== 'orig') {
    throw invalidTransformation('f', `a video is delivered as mp4 or webm; got f-${step.f}.`);
  }
  if (step.cm && step.cm !== 'pad_resize') throw invalidTransformation('cm', `video supports cm-pad_resize only; got cm-${step.cm}.`);
  if (step.rt !== undefined && (step.rt === 'auto' || step.rt % 90 !== 0)) throw invalidTransformation('rt', 'video rotates by multiples of 90 degrees.');
  return step;
}

/** The container a video plan delivers: `f`, else WebM for VP9, else MP4. */
export const videoContainer = (step: TransformStep): VideoContainer => (step.f === 'webm' || (step.f !== 'mp4' && step.vc === 'vp9') ? 'webm' : 'mp4');

/** The time window in seconds `so`/`eo`/`du` select, checked against the source's duration. */
export function timeWindow(step: TransformStep, duration: number): { start: number; length: number | undefined } {
  const start = step.so ?? 0;
  if (start >= duration) throw invalidTransformation('so', `the video is ${duration.toFixed(2)} s long; so-${start} starts after its end.`);
  const end = step.eo ?? (step.du !== undefined ? start + step.du : undefined);
  return { start, length: end === undefined ? undefined : Math.min(end, duration) - start };
}

/** The width and height `w`, `h` and `ar` ask for, in pixels (either may be missing), before even-rounding. */
export function targetSides(step: TransformStep, source: Pick<VideoSource, 'width' | 'height'>): { w?: number; h?: number } {
  const side = (d: TransformStep['w'], of: number) => (d ? ('px' in d ? d.px : d.fraction * of) : undefined);
  let w = side(step.w, source.width);
  let h = side(step.h, source.height);
  if (step.ar && (w === undefined) !== (h === undefined)) {
    if (w !== undefined) h = (w * step.ar[1]) / step.ar[0];
    else if (h !== undefined) w = (h * step.ar[0]) / step.ar[1];
  }
  return { w, h };
}

/** ffmpeg's video filter chain for the plan's size, crop, pad and rotation; `[]` when none is asked. */
export function videoFilters(step: TransformStep, source: Pick<VideoSource, 'width' | 'height'>): string[] {
  const filters: string[] = [];
  const { w, h } = targetSides(step, source);
  if (w !== undefined && h !== undefined) {
    const [W, H] = [even(w), even(h)];
    if (step.cm === 'pad_resize') {
      const colour = step.bg && /^[0-9A-F]{6}/.test(step.bg) ? `0x${step.bg.slice(0, 6)}` : 'white';
      filters.push(`scale=${W}:${H}:force_original_aspect_ratio=decrease`, 'scale=trunc(iw/2)*2:trunc(ih/2)*2', `pad=${W}:${H}:(ow-iw)/2:(oh-ih)/2:color=${colour}`);
    } else {
      const crop = step.c ?? 'maintain_ratio';
      if (crop === 'force') filters.push(`scale=${W}:${H}`);
      else if (crop === 'at_max') filters.push(`scale='min(${W},iw)':'min(${H},ih)':force_original_aspect_ratio=decrease`);
      else if (crop === 'at_max_enlarge') filters.push(`scale=${W}:${H}:force_original_aspect_ratio=decrease`);
      else if (crop === 'at_least') filters.push(`scale=${W}:${H}:force_original_aspect_ratio=increase`);
      else filters.push(`scale=${W}:${H}:force_original_aspect_ratio=increase`, `crop=${W}:${H}`);
    }
  } else if (w !== undefined) {
    filters.push(`scale=${even(w)}:-2`);
  } else if (h !== undefined) {
    filters.push(`scale=-2:${even(h)}`);
  }
  const turns = (((typeof step.rt === 'number' ? step.rt : 0) % 360) + 360) % 360;
  if (turns === 90) filters.push('transpose=clock');
  if (turns === 180) filters.push('hflip', 'vflip');
  if (turns === 270) filters.push('transpose=cclock');
  return filters;
}

/** ImageKit's quality (1–100, default 80) as a constant rate factor: lower CRF, better picture. */
const crf = (quality: number | undefined, codec: 'h264' | 'vp9' | 'av1') => {
  const q = quality ?? 80;
  return codec === 'h264' ? Math.round(51 - (q / 100) * 33) : Math.round(63 - (q / 100) * 48);
};

/** ffmpeg arguments that render `step` of `source` into `output` (a file path) as `container`. */
export function toVideoArgs(step: TransformStep, source: VideoSource, output: string): string[] {
  const container = videoContainer(step);
  const { start, length } = timeWindow(step, source.duration);
  const vc = step.vc ?? (container === 'webm' ? 'vp9' : 'h264');
  const ac = step.ac ?? (container === 'webm' ? 'opus' : 'aac');
  if (container === 'webm' && (vc === 'h264' || ac === 'aac')) {
    throw invalidTransformation(vc === 'h264' ? 'vc' : 'ac', 'WebM carries vp9/av1 video and opus audio; use f-mp4 for h264/aac.');
  }
  // Every encoder here wants 4:2:0 chroma, hence even sides (GIFs and odd crops have odd ones).
  const filters = [...videoFilters(step, source), 'scale=trunc(iw/2)*2:trunc(ih/2)*2'];
  // The fastest settings of each encoder, without look-ahead (frames held in memory), in FFMPEG_THREADS threads.
  const video: string[] =
    vc === 'none'
      ? ['-vn']
      : [
          '-map', '0:v:0',
          '-vf', filters.join(','),
          ...frameRateCapArgs(source.frameRate),
          '-threads', String(FFMPEG_THREADS),
          ...(vc === 'h264'
            ? ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(crf(step.q, 'h264')), '-pix_fmt', 'yuv420p']
            : vc === 'vp9'
              ? ['-c:v', 'libvpx-vp9', '-b:v', '0', '-crf', String(crf(step.q, 'vp9')), '-deadline', 'realtime', '-cpu-used', '8', '-row-mt', '1', '-lag-in-frames', '0', '-pix_fmt', 'yuv420p']
              : ['-c:v', 'libaom-av1', '-b:v', '0', '-crf', String(crf(step.q, 'av1')), '-cpu-used', '8', '-row-mt', '1', '-lag-in-frames', '0', '-pix_fmt', 'yuv420p']),
        ];
  const audio = ac === 'none' || !source.hasAudio ? ['-an'] : ['-map', '0:a:0', ...(ac === 'aac' ? ['-c:a', 'aac', '-b:a', '128k'] : ['-c:a', 'libopus', '-b:a', '96k'])];
  return [
    '-v', 'error', '-y',
    ...toInputRestrictionArgs(source.demuxers ?? DEFAULT_MEDIA_DEMUXERS),
    ...boundedInputArgs(),
    ...(start > 0 ? ['-ss', String(start)] : []),
    '-i', source.file,
    ...(length !== undefined ? ['-t', String(length)] : []),
    ...video,
    ...audio,
    '-strict', 'experimental',
    ...(container === 'mp4' ? ['-movflags', '+faststart', '-f', 'mp4'] : ['-f', 'webm']),
    output,
  ];
}

export class VideoRenderError extends Error {
  override readonly name = 'VideoRenderError';
}

const MiB = 1024 * 1024;

/** Why ffmpeg failed, in words a client can act on: a limit it reached, else its own complaint. */
function failureReason(run: FfmpegRun, result: ProcessResult): string {
  const said = toErrorSummary(result.stderr);
  const memory = run.maxMemoryBytes ? `${Math.round(run.maxMemoryBytes / MiB)} MiB` : undefined;
  const limit = `the ${memory} of memory a render may use (STOWAGE_VIDEO_RENDER_MEMORY_BYTES); ask for a smaller or shorter video`;
  if (memory && result.signal) return `ffmpeg was stopped by ${result.signal}, most likely on reaching ${limit}`;
  if (memory && /alloc|out of memory/i.test(said)) return `ffmpeg ran out of ${limit} (${said})`;
  return `ffmpeg failed: ${said || (result.signal ? `stopped by ${result.signal}` : `exit code ${result.code}`)}`;
}

/**
 * Runs ffmpeg with `args` under the run's limits: time (then SIGKILL to its process group), address space, and
 * CPU time (so one orphaned by a crashed server still ends).
 * @throws VideoRenderError with ffmpeg's complaint (paths redacted) or the limit it reached when it fails.
 * @throws MediaTimeoutError when it runs past `timeoutMs`.
 */
export async function runFfmpeg(run: FfmpegRun, args: string[]): Promise<void> {
  const result = await runProcess(run.ffmpegPath, args, {
    timeoutMs: run.timeoutMs,
    maxStdoutBytes: 64 * 1024,
    signal: run.signal,
    limits: { memoryBytes: run.maxMemoryBytes, cpuSeconds: Math.ceil(run.timeoutMs / 1000) * CPU_SECONDS_PER_SECOND },
  });
  // This ffmpeg can exit 0 after failing to allocate an input's frames, having written nothing of use.
  if (result.code !== 0 || /Cannot allocate memory/i.test(result.stderr)) throw new VideoRenderError(failureReason(run, result));
}

/**
 * Renders a video transformation (`so`, `eo`, `du`, `vc`, `ac`, `w`, `h`, `ar`, `c`, `cm-pad_resize`, `bg`,
 * `rt`, `q`, `f`) into `output`.
 * @returns the container written.
 * @throws BAD_REQUEST (tr) for parameters that do not apply to video; VideoRenderError when ffmpeg fails.
 */
export async function renderVideo(plan: TransformPlan, source: VideoSource, output: string, run: FfmpegRun): Promise<VideoContainer> {
  const step = flattenVideoPlan(plan);
  await runFfmpeg(run, toVideoArgs(step, source, output));
  return videoContainer(step);
}
