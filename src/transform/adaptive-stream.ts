import fs from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MEDIA_DEMUXERS, toInputRestrictionArgs } from '../analysis/media-formats.js';
import { boundedInputArgs, even, FFMPEG_THREADS, type FfmpegRun, frameRateCapArgs, runFfmpeg, type VideoSource } from './render-video.js';

export type StreamProtocol = 'hls' | 'dash';

/** The manifest a player opens, by protocol (ImageKit's suffixes). */
export const MASTER_MANIFEST: Record<StreamProtocol, string> = { hls: 'ik-master.m3u8', dash: 'ik-master.mpd' };

/** Video bitrate per rendition height (kbit/s), roughly what streaming services use for H.264. */
const BITRATE_KBPS: Record<number, number> = { 240: 400, 360: 800, 480: 1400, 720: 2800, 1080: 5000, 1440: 8000, 2160: 14000 };
const AUDIO_KBPS = 128;
const SEGMENT_SECONDS = 4;

export interface Rendition {
  height: number;
  width: number;
  videoKbps: number;
}

/**
 * The renditions to make: the asked heights no taller than the source (upscaling only wastes bytes); when all
 * are taller, one rendition at the source's own height.
 */
export function planRenditions(heights: readonly number[], source: Pick<VideoSource, 'width' | 'height'>): Rendition[] {
  const fitting = heights.filter((h) => h <= source.height);
  const chosen = fitting.length > 0 ? fitting : [even(Math.min(source.height, Math.min(...heights)))];
  return chosen.map((height) => ({
    height,
    width: even((source.width * height) / source.height),
    videoKbps: BITRATE_KBPS[height] ?? Math.round((height * height) / 100),
  }));
}

/** Keyframes every segment boundary so every rendition switches cleanly at the same instants. */
const encoderArgs = (r: Rendition, index: number | undefined, frameRate: VideoSource['frameRate']): string[] => {
  const s = index === undefined ? '' : `:${index}`;
  return [
    `-filter:v${s}`, `scale=${r.width}:${r.height}`,
    ...frameRateCapArgs(frameRate, s),
    `-threads${s}`, String(FFMPEG_THREADS),
    `-c:v${s}`, 'libx264', `-preset${s}`, 'veryfast', `-pix_fmt${s}`, 'yuv420p',
    `-b:v${s}`, `${r.videoKbps}k`, `-maxrate${s}`, `${Math.round(r.videoKbps * 1.07)}k`, `-bufsize${s}`, `${r.videoKbps * 2}k`,
    `-force_key_frames${s}`, `expr:gte(t,n_forced*${SEGMENT_SECONDS})`, `-sc_threshold${s}`, '0',
  ];
};

/** The HLS master playlist over one media playlist per rendition (`<height>p.m3u8`, under `prefix`). */
export function hlsMaster(renditions: readonly Rendition[], hasAudio: boolean, prefix: string): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const r of renditions) {
    const bandwidth = (r.videoKbps + (hasAudio ? AUDIO_KBPS : 0)) * 1000;
    const codecs = hasAudio ? 'avc1.640028,mp4a.40.2' : 'avc1.640028';
    lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${bandwidth},RESOLUTION=${r.width}x${r.height},CODECS="${codecs}"`, `${prefix}${r.height}p.m3u8`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * ffmpeg arguments writing one HLS media playlist per rendition with fragmented-MP4 segments (HLS version 7, as
 * DASH uses), in one decoding pass. fMP4 rather than MPEG-TS: every current player takes it, and the bundled
 * ffprobe crashes on MPEG-TS, so TS segments could not even be checked here.
 */
export function hlsArgs(source: VideoSource, renditions: readonly Rendition[], outDir: string): string[] {
  const outputs = renditions.flatMap((r) => [
    '-map', '0:v:0', ...(source.hasAudio ? ['-map', '0:a:0', '-c:a', 'aac', '-b:a', `${AUDIO_KBPS}k`] : []),
    ...encoderArgs(r, undefined, source.frameRate),
    '-f', 'hls', '-hls_time', String(SEGMENT_SECONDS), '-hls_playlist_type', 'vod', '-hls_list_size', '0',
    '-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', `${r.height}p_init.mp4`,
    '-hls_segment_filename', path.join(outDir, `${r.height}p_%04d.m4s`),
    path.join(outDir, `${r.height}p.m3u8`),
  ]);
  return ['-v', 'error', '-y', ...toInputRestrictionArgs(source.demuxers ?? DEFAULT_MEDIA_DEMUXERS), ...boundedInputArgs(), '-i', source.file, ...outputs];
}

/** ffmpeg arguments writing a DASH manifest with one video representation per rendition (fragmented MP4). */
export function dashArgs(source: VideoSource, renditions: readonly Rendition[], outDir: string): string[] {
  const videoMaps = renditions.flatMap(() => ['-map', '0:v:0']);
  const perStream = renditions.flatMap((r, i) => encoderArgs(r, i, source.frameRate));
  const videoIds = renditions.map((_, i) => i).join(',');
  const sets = source.hasAudio ? `id=0,streams=${videoIds} id=1,streams=${renditions.length}` : `id=0,streams=${videoIds}`;
  return [
    '-v', 'error', '-y',
    ...toInputRestrictionArgs(source.demuxers ?? DEFAULT_MEDIA_DEMUXERS),
    ...boundedInputArgs(),
    '-i', source.file,
    ...videoMaps,
    ...(source.hasAudio ? ['-map', '0:a:0', '-c:a', 'aac', '-b:a', `${AUDIO_KBPS}k`] : []),
    ...perStream,
    '-use_template', '1', '-use_timeline', '1', '-seg_duration', String(SEGMENT_SECONDS),
    '-init_seg_name', 'init-$RepresentationID$.m4s', '-media_seg_name', 'chunk-$RepresentationID$-$Number%05d$.m4s',
    '-adaptation_sets', sets,
    '-f', 'dash', path.join(outDir, 'manifest.mpd'),
  ];
}

/** Points every relative segment URL of a DASH manifest under `prefix` (a `BaseURL` before the first Period). */
export function withBaseUrl(mpd: string, prefix: string): string {
  const at = mpd.indexOf('<Period');
  if (at < 0) throw new Error('The DASH manifest has no Period');
  return `${mpd.slice(0, at)}<BaseURL>${prefix}</BaseURL>\n\t${mpd.slice(at)}`;
}

/**
 * Packages `source` for adaptive bitrate streaming into `outDir`: HLS (a master playlist, a media playlist, an
 * init segment and fMP4 segments per rendition) or DASH (an MPD and fragmented-MP4 segments). The master manifest is written as
 * `MASTER_MANIFEST[protocol]`, with every other file named relative to `prefix`.
 * @returns the names of all files written in `outDir`.
 */
export async function packageAdaptiveStream(
  source: VideoSource,
  heights: readonly number[],
  protocol: StreamProtocol,
  outDir: string,
  prefix: string,
  run: FfmpegRun,
): Promise<string[]> {
  const renditions = planRenditions(heights, source);
  if (protocol === 'hls') {
    await runFfmpeg(run, hlsArgs(source, renditions, outDir));
    await fs.writeFile(path.join(outDir, MASTER_MANIFEST.hls), hlsMaster(renditions, source.hasAudio, prefix));
  } else {
    await runFfmpeg(run, dashArgs(source, renditions, outDir));
    const mpd = await fs.readFile(path.join(outDir, 'manifest.mpd'), 'utf8');
    await fs.writeFile(path.join(outDir, MASTER_MANIFEST.dash), withBaseUrl(mpd, prefix));
    await fs.rm(path.join(outDir, 'manifest.mpd'));
  }
  return fs.readdir(outDir);
}
