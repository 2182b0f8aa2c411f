import { resolve as resolvePath } from 'node:path';
import type { Limiter } from './concurrency.js';
import { NotMediaError, ProbeCrashedError } from './errors.js';
import { toInputRestrictionArgs } from './media-formats.js';
import { type ProcessLimits, runProcess, toErrorSummary } from './run-process.js';

/** What Stowage records about an audio or video file (ImageKit's video fields plus a few more). */
export interface MediaInfo {
  /** Seconds; 0 when the container states no duration. */
  duration: number;
  /** Overall bits per second; computed from size and duration when the container states none; 0 if unknown. */
  bitRate: number;
  /** ffmpeg codec name of the first video stream (`h264`, `hevc`, `vp9`…), `null` without video. */
  videoCodec: string | null;
  /** ffmpeg codec name of the first audio stream (`aac`, `mp3`, `opus`…), `null` without audio. */
  audioCodec: string | null;
  /** Displayed width (rotation applied), `null` without video. */
  width: number | null;
  /** Displayed height (rotation applied), `null` without video. */
  height: number | null;
  /** Frames per second of the first video stream, `null` without video or when unknown. */
  frameRate: number | null;
  hasVideo: boolean;
  hasAudio: boolean;
  /** ffprobe's container name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm`, `mp3`, `ogg`. */
  formatName: string;
}

export interface ProbeMediaOptions {
  /** The ffprobe executable (see `resolveFfmpegPaths`). */
  ffprobePath: string;
  /** Kill ffprobe after this long. Default 15 s. */
  timeoutMs?: number;
  /** Run through this limiter, to bound concurrent ffprobe processes. */
  limiter?: Limiter;
  signal?: AbortSignal;
  /** Memory and CPU the kernel lets ffprobe use. */
  limits?: ProcessLimits;
  /** Demuxers ffprobe may use; defaults to `DEFAULT_MEDIA_DEMUXERS`. */
  demuxers?: readonly string[];
}

/** The parts of `ffprobe -print_format json -show_format -show_streams` output read here. */
export interface FfprobeOutput {
  format?: { format_name?: string; duration?: string; bit_rate?: string; size?: string };
  streams?: FfprobeStream[];
}

export interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  duration?: string;
  disposition?: { attached_pic?: number };
  tags?: Record<string, string>;
  side_data_list?: Array<{ side_data_type?: string; rotation?: number | string }>;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_PROBE_OUTPUT_BYTES = 4 * 1024 * 1024;

/** A decimal string from ffprobe ("2.000000", "N/A") as a finite number, else `undefined`. */
const toFinite = (value: string | number | undefined): number | undefined => {
  const n = typeof value === 'number' ? value : Number.parseFloat(value ?? '');
  return Number.isFinite(n) ? n : undefined;
};

/** A rate such as "30000/1001" as frames per second (3 decimals), `undefined` for "0/0" and the like. */
export function parseFrameRate(rate: string | undefined): number | undefined {
  if (!rate) return undefined;
  const [num, den = '1'] = rate.split('/');
  const fps = Number(num) / Number(den);
  return Number.isFinite(fps) && fps > 0 ? Math.round(fps * 1000) / 1000 : undefined;
}

/**
 * The stream's rotation in degrees: the display matrix side data (ffmpeg ≥ 5), else the legacy `rotate`
 * tag (older ffprobe builds). 0 when neither is present.
 */
export function toRotation(stream: FfprobeStream): number {
  const matrix = stream.side_data_list?.find((d) => d.rotation !== undefined);
  return toFinite(matrix?.rotation) ?? toFinite(stream.tags?.rotate) ?? 0;
}

/** True for 90° and 270° (either sign): the picture is shown with width and height swapped. */
export const isQuarterRotation = (degrees: number): boolean => Math.abs(Math.round(degrees)) % 180 === 90;

/**
 * Reduces ffprobe's JSON to {@link MediaInfo}. Cover art in audio files (attached pictures) does not count
 * as video.
 *
 * @throws NotMediaError when there is no audio or video stream.
 */
export function toMediaInfo(probe: FfprobeOutput): MediaInfo {
  const streams = probe.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const audio = streams.find((s) => s.codec_type === 'audio');
  if (!video && !audio) throw new NotMediaError('File has no audio or video stream');

  const streamDurations = streams.map((s) => toFinite(s.duration)).filter((d): d is number => d !== undefined);
  const duration = toFinite(probe.format?.duration) ?? (streamDurations.length ? Math.max(...streamDurations) : 0);
  const size = toFinite(probe.format?.size);
  const bitRate = toFinite(probe.format?.bit_rate) ?? (size && duration > 0 ? Math.round((size * 8) / duration) : 0);

  let width: number | null = null;
  let height: number | null = null;
  if (video?.width && video.height) {
    const swap = isQuarterRotation(toRotation(video));
    width = swap ? video.height : video.width;
    height = swap ? video.width : video.height;
  }

  return {
    duration,
    bitRate: Math.round(bitRate),
    videoCodec: video?.codec_name ?? null,
    audioCodec: audio?.codec_name ?? null,
    width,
    height,
    frameRate: video ? (parseFrameRate(video.avg_frame_rate) ?? parseFrameRate(video.r_frame_rate) ?? null) : null,
    hasVideo: video !== undefined,
    hasAudio: audio !== undefined,
    formatName: probe.format?.format_name ?? '',
  };
}

/**
 * Probes an audio or video file with ffprobe. ffprobe may only open this one local file, through the
 * demuxers allowed by `demuxers` (no playlists: see `DEFAULT_MEDIA_DEMUXERS`).
 *
 * A file ffprobe cannot parse is a `NotMediaError`; that includes an MP4 cut short before its `moov` box
 * (the usual case for a truncated upload, since encoders write `moov` last unless told to "faststart").
 * A truncated file whose header survived probes "successfully" with the header's duration.
 *
 * @throws NotMediaError when ffprobe cannot read the file or it has no audio/video stream.
 * @throws ProbeCrashedError when ffprobe itself crashed.
 * @throws MediaTimeoutError when ffprobe runs longer than `timeoutMs` (it is killed).
 * @throws BinaryNotFoundError when `ffprobePath` cannot be executed.
 */
export async function probeMedia(filePath: string, options: ProbeMediaOptions): Promise<MediaInfo> {
  const args = [
    '-v',
    'error',
    ...toInputRestrictionArgs(options.demuxers),
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    // Absolute, so a name starting with "-" or "proto:" is still read as a path.
    '-i',
    resolvePath(filePath),
  ];
  const run = () =>
    runProcess(options.ffprobePath, args, {
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxStdoutBytes: MAX_PROBE_OUTPUT_BYTES,
      signal: options.signal,
      limits: options.limits,
    });
  const result = await (options.limiter ? options.limiter.run(run) : run());
  if (result.code === null && !result.truncated) throw new ProbeCrashedError(`ffprobe crashed reading the file: ${toErrorSummary(result.stderr) || 'killed by a signal'}`);
  if (result.code !== 0 || result.truncated) {
    throw new NotMediaError(`ffprobe cannot read the file: ${toErrorSummary(result.stderr) || `exit code ${result.code}`}`);
  }
  let parsed: FfprobeOutput;
  try {
    parsed = JSON.parse(result.stdout.toString('utf8')) as FfprobeOutput;
  } catch (error) {
    throw new NotMediaError('ffprobe output is not JSON', { cause: error });
  }
  return toMediaInfo(parsed);
}

