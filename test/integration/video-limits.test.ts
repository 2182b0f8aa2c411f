import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveFfmpegPaths } from '../../src/analysis/binaries.js';
import { ffmpeg as runFfmpeg, makeMp4, probe } from '../helpers/media-files.js';
import { eventually, ownFfmpegs } from '../helpers/processes.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

// Every process the server under test starts, to tell whether a request ran ffmpeg at all.
const spawned = vi.hoisted(() => ({ commands: [] as string[][] }));
vi.mock('node:child_process', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:child_process')>();
  const spawn = (...args: Parameters<typeof actual.spawn>) => {
    spawned.commands.push([String(args[0]), ...((Array.isArray(args[1]) ? args[1] : []) as string[])]);
    return (actual.spawn as (...a: unknown[]) => ReturnType<typeof actual.spawn>)(...args);
  };
  return { ...actual, spawn };
});

const { ffmpeg, ffprobe } = resolveFfmpegPaths({});
const MiB = 1024 * 1024;
const ffmpegRuns = () => spawned.commands.filter((argv) => argv.includes(ffmpeg)).length;

let dir: string;
const file = (name: string) => path.join(dir, name);

async function upload(t: TestApp, name: string): Promise<{ url: string; mime: string }> {
  const res = await t.upload(
    `mutation($file: Upload!, $fileName: String!) { uploadFile(file: $file, fileName: $fileName, useUniqueFileName: false) { url mime } }`,
    { file: null, fileName: name },
    { path: 'variables.file', data: await fs.readFile(file(name)), filename: name },
  );
  expect(res.errors).toBeUndefined();
  return res.data?.uploadFile as { url: string; mime: string };
}

const tr = (t: TestApp, steps: string, url: string) => url.replace(t.url, `${t.url}/tr:${steps}`);

/** The largest VmPeak (KiB) seen in any ffmpeg this process started, sampled every 50 ms while `work` runs. */
async function peakWhile<T>(work: Promise<T>): Promise<{ result: T; peakKiB: number; samples: number }> {
  let done = false;
  let peakKiB = 0;
  let samples = 0;
  const sampling = (async () => {
    while (!done) {
      for (const p of await ownFfmpegs()) {
        const status = await fs.readFile(`/proc/${p.pid}/status`, 'utf8').catch(() => '');
        const kib = Number(/VmPeak:\s+(\d+)/.exec(status)?.[1] ?? 0);
        if (kib > 0) samples++;
        peakKiB = Math.max(peakKiB, kib);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const result = await work.finally(() => {
    done = true;
  });
  await sampling;
  return { result, peakKiB, samples };
}

const noFfmpegLeft = () => eventually(async () => (await ownFfmpegs()).length === 0, 3000);

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-video-limits-'));
  await makeMp4(ffmpeg, file('clip.mp4'));
  await makeMp4(ffmpeg, file('six.mp4'), { seconds: 6, size: '640x360' });
  await makeMp4(ffmpeg, file('large.mp4'), { seconds: 1, size: '2560x1440' });
  await runFfmpeg(ffmpeg, ['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=120', '-t', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file('fast.mp4')]);
  // An MP4 with its header first, cut off just after it: it probes as H.264 video, but no frame can be decoded.
  await runFfmpeg(ffmpeg, ['-i', file('clip.mp4'), '-c', 'copy', '-movflags', '+faststart', file('faststart.mp4')]);
  const whole = await fs.readFile(file('faststart.mp4'));
  await fs.writeFile(file('truncated.mp4'), whole.subarray(0, whole.indexOf('mdat') + 200));
}, 60_000);
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('video renders within bounds (default limits, 4 s render timeout)', () => {
  let t: TestApp;
  const urls: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp({ STOWAGE_VIDEO_RENDER_TIMEOUT_MS: '4000' });
    for (const name of ['clip.mp4', 'six.mp4', 'large.mp4', 'fast.mp4', 'truncated.mp4']) urls[name] = (await upload(t, name)).url;
  }, 60_000);
  afterAll(async () => {
    await t.close();
  });

  it('refuses a video over STOWAGE_MAX_VIDEO_OUTPUT_PIXELS with a 400 naming the limit, before running ffmpeg', async () => {
    const before = ffmpegRuns();
    for (const steps of ['w-4096,h-4096,c-force,vc-av1,q-100', 'w-16000,h-2', 'w-8000']) {
      const res = await fetch(tr(t, steps, urls['six.mp4'] as string));
      const body = (await res.json()) as { message: string };
      expect(res.status, steps).toBe(400);
      expect(body.message).toMatch(/more than the 2073600 .*STOWAGE_MAX_VIDEO_OUTPUT_PIXELS/);
    }
    // A 2560×1440 source as it is, or packaged with a 1440p rendition, is over the limit too.
    expect((await fetch(tr(t, 'q-50', urls['large.mp4'] as string))).status).toBe(400);
    const stream = await fetch(`${tr(t, 'sr-240_1440', urls['large.mp4'] as string)}/ik-master.m3u8`);
    expect(stream.status).toBe(400);
    expect(((await stream.json()) as { message: string }).message).toContain('2560×1440');
    expect(ffmpegRuns()).toBe(before);
    // Within the limit, the same source renders.
    expect((await fetch(tr(t, 'w-640,du-0.2', urls['large.mp4'] as string))).status).toBe(200);
  });

  it('never makes more than 60 frames a second, nor more than the source has', async () => {
    for (const [name, fps] of [['fast.mp4', 60], ['clip.mp4', 25]] as const) {
      const res = await fetch(tr(t, 'w-160', urls[name] as string));
      expect(res.status).toBe(200);
      const out = file(`fps-${name}`);
      await fs.writeFile(out, Buffer.from(await res.arrayBuffer()));
      const video = (await probe(ffprobe, out)).streams.find((s) => s.codec_type === 'video') as unknown as { avg_frame_rate: string };
      const [num, den] = video.avg_frame_rate.split('/').map(Number) as [number, number];
      expect(num / den, name).toBeCloseTo(fps, 0);
    }
  });

  it('stops a heavy render at the time limit: its ffmpeg is gone, its memory stayed bounded, and the slot serves the next video', async () => {
    // AV1 at best quality takes many times the clip's length here; the 4 s limit ends it.
    const heavy = fetch(tr(t, 'w-640,h-360,c-force,vc-av1,q-100', urls['six.mp4'] as string));
    // The only video slot is taken: this one waits for it.
    const light = fetch(tr(t, 'w-64,du-0.4', urls['clip.mp4'] as string));
    const { result: heavyRes, peakKiB, samples } = await peakWhile(heavy);
    expect(heavyRes.status).toBe(400);
    expect(((await heavyRes.json()) as { message: string }).message).toContain('took longer than the 4000 ms allowed');
    expect(samples).toBeGreaterThan(0);
    expect(peakKiB * 1024).toBeLessThanOrEqual(t.config.transform.video.memoryBytes);
    expect((await light).status).toBe(200);
    expect(await noFfmpegLeft()).toBe(true);
  }, 30_000);

  it('answers a truncated video thumbnail with a 400 free of paths and addresses, and remembers it', async () => {
    const truncated = urls['truncated.mp4'] as string;
    for (const url of [truncated.replace(t.url, `${t.url}/tr:n-ik_ml_thumbnail`), `${truncated}/ik-thumbnail.jpg`]) {
      const before = ffmpegRuns();
      const first = await fetch(url);
      const body = await first.text();
      expect(first.status, url).toBe(400);
      expect(ffmpegRuns()).toBeGreaterThan(before);
      expect(body).toMatch(/could not be/);
      expect(body).not.toContain(t.dataDir);
      expect(body).not.toContain(os.tmpdir());
      expect(body).not.toMatch(/\/tmp|0x[0-9a-f]/i);

      const ran = ffmpegRuns();
      const again = await fetch(url);
      expect(again.status).toBe(400);
      expect(await again.text()).toBe(body);
      expect(ffmpegRuns()).toBe(ran);
    }
  });
});

describe('video renders under a small memory limit', () => {
  let t: TestApp;
  let six: string;
  let clip: string;
  const limit = 256 * MiB;

  beforeAll(async () => {
    t = await startTestApp({ STOWAGE_VIDEO_RENDER_MEMORY_BYTES: String(limit) });
    six = (await upload(t, 'six.mp4')).url;
    clip = (await upload(t, 'clip.mp4')).url;
  }, 60_000);
  afterAll(async () => {
    await t.close();
  });

  it('ends a render that needs more memory with a 400 naming the limit, leaving no ffmpeg behind', async () => {
    // The render at the largest size allowed: AV1 at 1080p needs about 2 GB here.
    const { result: res, peakKiB } = await peakWhile(fetch(tr(t, 'w-1920,h-1080,c-force,vc-av1,q-100', six)));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/256 MiB of memory a render may use \(STOWAGE_VIDEO_RENDER_MEMORY_BYTES\)/);
    expect(peakKiB * 1024).toBeLessThanOrEqual(limit);
    expect(await noFfmpegLeft()).toBe(true);
  }, 60_000);

  it('still renders a small video under it', async () => {
    expect((await fetch(tr(t, 'w-160,du-1', clip))).status).toBe(200);
  });
});

describe('closing the server', () => {
  it('kills the renders still running', async () => {
    const t = await startTestApp();
    const { url } = await upload(t, 'six.mp4');
    const heavy = fetch(tr(t, 'w-640,h-360,c-force,vc-av1,q-100', url)).catch(() => undefined);
    expect(await eventually(async () => (await ownFfmpegs()).length > 0, 10_000)).toBe(true);
    await t.close();
    expect(await noFfmpegLeft()).toBe(true);
    await heavy;
  }, 30_000);
});
