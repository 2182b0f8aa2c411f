import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpegPaths } from '../../../src/analysis/binaries.js';
import { createLimiter } from '../../../src/analysis/concurrency.js';
import { BinaryNotFoundError, MediaTimeoutError, NotMediaError } from '../../../src/analysis/errors.js';
import { DEFAULT_MEDIA_DEMUXERS } from '../../../src/analysis/media-formats.js';
import { isQuarterRotation, parseFrameRate, probeMedia, toMediaInfo, toRotation } from '../../../src/analysis/media-probe.js';
import { seededBytes } from '../../helpers/images.js';
import { makeAudio, makeMp4, makeRotated } from '../../helpers/media-files.js';

const { ffmpeg, ffprobe } = resolveFfmpegPaths({});
let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stowage-media-probe-'));
  await makeMp4(ffmpeg, file('clip.mp4'));
  await Promise.all([
    makeRotated(ffmpeg, file('clip.mp4'), file('rotated.mp4')),
    makeAudio(ffmpeg, 'libmp3lame', file('tone.mp3')),
    makeAudio(ffmpeg, 'aac', file('tone.m4a')),
    makeAudio(ffmpeg, 'libopus', file('tone.opus')),
  ]);
  const mp4 = await readFile(file('clip.mp4'));
  await writeFile(file('truncated.mp4'), mp4.subarray(0, Math.floor(mp4.length * 0.3)));
  await writeFile(file('random.bin'), seededBytes(64 * 1024, 7));
  // A playlist ffprobe would follow to the MP4 if the hls demuxer were allowed.
  await writeFile(file('list.m3u8'), `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n${file('clip.mp4')}\n#EXT-X-ENDLIST\n`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('probeMedia', () => {
  it('reads an H.264/AAC MP4', async () => {
    const info = await probeMedia(file('clip.mp4'), { ffprobePath: ffprobe });
    expect(info).toMatchObject({
      videoCodec: 'h264',
      audioCodec: 'aac',
      width: 320,
      height: 240,
      frameRate: 25,
      hasVideo: true,
      hasAudio: true,
      formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
    });
    expect(info.duration).toBeCloseTo(2, 1);
    expect(Math.abs(info.duration - 2)).toBeLessThanOrEqual(0.1);
    expect(info.bitRate).toBeGreaterThan(10_000);
    expect(Number.isInteger(info.bitRate)).toBe(true);
  });

  it('swaps width and height for a 90° rotation', async () => {
    const info = await probeMedia(file('rotated.mp4'), { ffprobePath: ffprobe });
    expect(info).toMatchObject({ width: 240, height: 320, videoCodec: 'h264' });
  });

  it.each([
    ['tone.mp3', 'mp3', 'mp3'],
    ['tone.m4a', 'aac', 'mov,mp4,m4a,3gp,3g2,mj2'],
    ['tone.opus', 'opus', 'ogg'],
  ])('reads audio-only %s', async (name, codec, formatName) => {
    const info = await probeMedia(file(name), { ffprobePath: ffprobe });
    expect(info).toMatchObject({
      audioCodec: codec,
      videoCodec: null,
      hasAudio: true,
      hasVideo: false,
      width: null,
      height: null,
      frameRate: null,
      formatName,
    });
    expect(Math.abs(info.duration - 2)).toBeLessThanOrEqual(0.1);
    expect(info.bitRate).toBeGreaterThan(0);
  });

  it('throws NotMediaError for random bytes', async () => {
    await expect(probeMedia(file('random.bin'), { ffprobePath: ffprobe })).rejects.toBeInstanceOf(NotMediaError);
  });

  it('throws NotMediaError for an MP4 cut before its moov box', async () => {
    await expect(probeMedia(file('truncated.mp4'), { ffprobePath: ffprobe })).rejects.toThrow(/moov atom not found/);
  });

  it('will not follow a playlist to other files', async () => {
    await expect(probeMedia(file('list.m3u8'), { ffprobePath: ffprobe })).rejects.toThrow(/hls.*not on whitelist/);
    // The control: with the hls demuxer allowed, ffprobe opens the local file the playlist names.
    const followed = await probeMedia(file('list.m3u8'), { ffprobePath: ffprobe, demuxers: [...DEFAULT_MEDIA_DEMUXERS, 'hls'] });
    expect(followed).toMatchObject({ formatName: 'hls', videoCodec: 'h264' });
  });

  it('kills ffprobe when it runs too long', async () => {
    const pidFile = file('slow.pid');
    const slow = file('slow-ffprobe.sh');
    await writeFile(slow, `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 30\n`);
    await chmod(slow, 0o755);
    const started = Date.now();
    const error = await probeMedia(file('clip.mp4'), { ffprobePath: slow, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaTimeoutError);
    expect(Date.now() - started).toBeLessThan(5_000);
    const pid = Number(await readFile(pidFile, 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it('reports a missing executable', async () => {
    await expect(probeMedia(file('clip.mp4'), { ffprobePath: file('no-such-ffprobe') })).rejects.toBeInstanceOf(BinaryNotFoundError);
  });

  it('runs through a limiter', async () => {
    const limiter = createLimiter(1);
    const infos = await Promise.all(['clip.mp4', 'tone.mp3', 'tone.opus'].map((n) => probeMedia(file(n), { ffprobePath: ffprobe, limiter })));
    expect(infos.map((i) => i.audioCodec)).toEqual(['aac', 'mp3', 'opus']);
    expect(limiter.activeCount).toBe(0);
  });
});

describe('ffprobe JSON helpers', () => {
  it('parses frame rates', () => {
    expect(parseFrameRate('25/1')).toBe(25);
    expect(parseFrameRate('30000/1001')).toBe(29.97);
    expect(parseFrameRate('0/0')).toBeUndefined();
    expect(parseFrameRate(undefined)).toBeUndefined();
  });

  it('reads rotation from the display matrix or the legacy tag', () => {
    expect(toRotation({ side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }] })).toBe(-90);
    expect(toRotation({ tags: { rotate: '270' } })).toBe(270);
    expect(toRotation({})).toBe(0);
    expect([90, -90, 270, -270].every(isQuarterRotation)).toBe(true);
    expect([0, 180, -180].some(isQuarterRotation)).toBe(false);
  });

  it('ignores cover art and falls back to stream durations and size for the bit rate', () => {
    const info = toMediaInfo({
      format: { format_name: 'mp3', size: '40000' },
      streams: [
        { codec_type: 'audio', codec_name: 'mp3', duration: '4.0' },
        { codec_type: 'video', codec_name: 'mjpeg', width: 500, height: 500, disposition: { attached_pic: 1 } },
      ],
    });
    expect(info).toMatchObject({ duration: 4, bitRate: 80_000, hasVideo: false, videoCodec: null, width: null });
  });

  it('throws NotMediaError without audio or video', () => {
    expect(() => toMediaInfo({ format: { format_name: 'srt' }, streams: [{ codec_type: 'subtitle' }] })).toThrow(NotMediaError);
    expect(() => toMediaInfo({})).toThrow(NotMediaError);
  });
});
