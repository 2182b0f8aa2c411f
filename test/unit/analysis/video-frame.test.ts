import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpegPaths } from '../../../src/analysis/binaries.js';
import { FrameExtractionError } from '../../../src/analysis/errors.js';
import { extractVideoFrame } from '../../../src/analysis/video-frame.js';
import { makeAudio, makeMp4, makeRotated } from '../../helpers/media-files.js';

const { ffmpeg } = resolveFfmpegPaths({});
let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stowage-video-frame-'));
  await makeMp4(ffmpeg, file('clip.mp4'));
  await Promise.all([makeRotated(ffmpeg, file('clip.mp4'), file('rotated.mp4')), makeAudio(ffmpeg, 'aac', file('tone.m4a'))]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('extractVideoFrame', () => {
  it('returns a JPEG of the frame, scaled down to maxWidth', async () => {
    const jpeg = await extractVideoFrame(file('clip.mp4'), { ffmpegPath: ffmpeg, atSeconds: 1, maxWidth: 160 });
    expect(await sharp(jpeg).metadata()).toMatchObject({ format: 'jpeg', width: 160, height: 120 });
  });

  it('never scales up', async () => {
    const jpeg = await extractVideoFrame(file('clip.mp4'), { ffmpegPath: ffmpeg, maxWidth: 1000 });
    expect(await sharp(jpeg).metadata()).toMatchObject({ width: 320, height: 240 });
  });

  it('applies the rotation', async () => {
    const jpeg = await extractVideoFrame(file('rotated.mp4'), { ffmpegPath: ffmpeg, atSeconds: 0.5 });
    expect(await sharp(jpeg).metadata()).toMatchObject({ width: 240, height: 320 });
  });

  it('takes different pictures at different times (testsrc moves)', async () => {
    const grab = async (at: number) =>
      sharp(await extractVideoFrame(file('clip.mp4'), { ffmpegPath: ffmpeg, atSeconds: at })).greyscale().raw().toBuffer();
    const [a, b] = await Promise.all([grab(0), grab(1.5)]);
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
    expect(diff / a.length).toBeGreaterThan(1);
  });

  it('falls back to the first frame past the end', async () => {
    const jpeg = await extractVideoFrame(file('clip.mp4'), { ffmpegPath: ffmpeg, atSeconds: 60 });
    expect(await sharp(jpeg).metadata()).toMatchObject({ format: 'jpeg', width: 320 });
  });

  it('throws FrameExtractionError for audio-only files', async () => {
    await expect(extractVideoFrame(file('tone.m4a'), { ffmpegPath: ffmpeg })).rejects.toBeInstanceOf(FrameExtractionError);
  });
});
