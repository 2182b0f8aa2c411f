import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs ffmpeg quietly, overwriting the output. */
export const ffmpeg = (ffmpegPath: string, args: string[]) => run(ffmpegPath, ['-v', 'error', '-y', ...args]);

/** 2 s (or `seconds`) of 320×240 (or `size`) testsrc at 25 fps with a 440 Hz tone: H.264 + AAC in MP4 (moov at the end). */
export const makeMp4 = (ffmpegPath: string, out: string, { seconds = 2, size = '320x240' } = {}) =>
  ffmpeg(ffmpegPath, [
    '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=25`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', out,
  ]);

/** A 1 s animated GIF of testsrc, 101×75 (odd sides, as GIFs often have), 10 frames. */
export const makeGif = (ffmpegPath: string, out: string) =>
  ffmpeg(ffmpegPath, ['-f', 'lavfi', '-i', 'testsrc=size=101x75:rate=10', '-t', '1', out]);

/** ffprobe's streams and format of a media file. */
export async function probe(ffprobePath: string, file: string): Promise<{ streams: { codec_type: string; codec_name: string; width?: number; height?: number }[]; format: { duration?: string; format_name: string } }> {
  const { stdout } = await run(ffprobePath, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]);
  return JSON.parse(stdout);
}

/**
 * A copy of `input` whose video track carries a 90° rotation. The 2018 ffmpeg writes the `rotate` tag into
 * the track matrix on stream copy (on re-encode it drops it), so copy.
 */
export const makeRotated = (ffmpegPath: string, input: string, out: string) =>
  ffmpeg(ffmpegPath, ['-i', input, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', out]);

/** 2 s of a 440 Hz tone with the given audio codec. */
export const makeAudio = (ffmpegPath: string, codec: string, out: string) =>
  ffmpeg(ffmpegPath, ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '2', '-c:a', codec, out]);
