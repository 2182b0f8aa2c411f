import fs from 'node:fs/promises';
import ImageKit from 'imagekit';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpegPaths } from '../../src/analysis/binaries.js';
import { signUrl } from '../../src/delivery/signed-url.js';
import { makeGif, makeMp4, probe } from '../helpers/media-files.js';
import { TEST_KEY, startTestApp, type TestApp } from '../helpers/test-app.js';

const { ffmpeg, ffprobe } = resolveFfmpegPaths({});
let t: TestApp;
let dir: string;
let clipUrl: string;
let wideUrl: string;
let gifUrl: string;
let privateWide: { url: string; fileId: string };

const put = async (file: string, fileName: string, extra = '') => {
  const res = await t.upload(
    `mutation($file: Upload!, $fileName: String!) { uploadFile(file: $file, fileName: $fileName, useUniqueFileName: false${extra}) { fileId url } }`,
    { file: null, fileName },
    { path: 'variables.file', data: await fs.readFile(file), filename: fileName },
  );
  expect(res.errors).toBeUndefined();
  return res.data?.uploadFile as { url: string; fileId: string };
};

/** Downloads `url` into a temp file and probes it. */
async function fetchAndProbe(url: string) {
  const res = await fetch(url);
  expect(res.status, await res.clone().text().then((s) => s.slice(0, 300))).toBe(200);
  const file = path.join(dir, `got-${Math.random().toString(36).slice(2)}`);
  await fs.writeFile(file, Buffer.from(await res.arrayBuffer()));
  return { res, info: await probe(ffprobe, file), file };
}

const stream = (info: Awaited<ReturnType<typeof probe>>, type: string) => info.streams.find((s) => s.codec_type === type);
const tr = (steps: string, url: string) => url.replace(t.url, `${t.url}/tr:${steps}`);

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-video-'));
  await makeMp4(ffmpeg, path.join(dir, 'clip.mp4'));
  await makeMp4(ffmpeg, path.join(dir, 'wide.mp4'), { seconds: 9, size: '640x360' });
  await makeGif(ffmpeg, path.join(dir, 'anim.gif'));
  t = await startTestApp({ STOWAGE_NAMED_TRANSFORMATIONS: 'small=w-96' });
  clipUrl = (await put(path.join(dir, 'clip.mp4'), 'clip.mp4')).url;
  wideUrl = (await put(path.join(dir, 'wide.mp4'), 'wide.mp4')).url;
  gifUrl = (await put(path.join(dir, 'anim.gif'), 'anim.gif')).url;
  privateWide = await put(path.join(dir, 'wide.mp4'), 'private.mp4', ', isPrivateFile: true');
}, 60_000);
afterAll(async () => {
  await t.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('video transformations', () => {
  it('trims with so and du, and resizes by width keeping the ratio', async () => {
    const { res, info } = await fetchAndProbe(tr('so-0.5,du-1,w-160', clipUrl));
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(Number(info.format.duration)).toBeCloseTo(1, 0);
    expect(stream(info, 'video')).toMatchObject({ codec_name: 'h264', width: 160, height: 120 });
    expect(stream(info, 'audio')).toMatchObject({ codec_name: 'aac' });
  });

  it('cuts at eo, in the query form', async () => {
    const { info } = await fetchAndProbe(`${clipUrl}?tr=so-1,eo-1.5`);
    expect(Number(info.format.duration)).toBeGreaterThan(0.3);
    expect(Number(info.format.duration)).toBeLessThan(0.8);
  });

  it('encodes WebM with VP9 and Opus for f-webm, and AV1 for vc-av1', async () => {
    const webm = await fetchAndProbe(tr('f-webm,h-120', clipUrl));
    expect(webm.res.headers.get('content-type')).toBe('video/webm');
    expect(stream(webm.info, 'video')).toMatchObject({ codec_name: 'vp9', width: 160, height: 120 });
    expect(stream(webm.info, 'audio')?.codec_name).toBe('opus');
    const av1 = await fetchAndProbe(tr('vc-av1,w-64,du-0.4', clipUrl));
    expect(stream(av1.info, 'video')?.codec_name).toBe('av1');
  });

  it('drops the audio with ac-none and the picture with vc-none', async () => {
    const silent = await fetchAndProbe(tr('ac-none', clipUrl));
    expect(stream(silent.info, 'audio')).toBeUndefined();
    expect(stream(silent.info, 'video')).toBeDefined();
    const audioOnly = await fetchAndProbe(tr('vc-none,ac-opus', clipUrl));
    expect(stream(audioOnly.info, 'video')).toBeUndefined();
    expect(stream(audioOnly.info, 'audio')?.codec_name).toBe('opus');
  });

  it('crops to an exact size, pads, and rotates by quarter turns', async () => {
    expect(stream((await fetchAndProbe(tr('w-100,h-100', clipUrl))).info, 'video')).toMatchObject({ width: 100, height: 100 });
    expect(stream((await fetchAndProbe(tr('w-200,h-100,cm-pad_resize,bg-FF0000', clipUrl))).info, 'video')).toMatchObject({ width: 200, height: 100 });
    expect(stream((await fetchAndProbe(tr('h-0.5,rt-90', clipUrl))).info, 'video')).toMatchObject({ width: 120, height: 160 });
  });

  it('serves byte ranges of a transformed video and caches it (same ETag)', async () => {
    const url = tr('w-160', clipUrl);
    const full = await fetch(url);
    const body = Buffer.from(await full.arrayBuffer());
    const part = await fetch(url, { headers: { range: 'bytes=10-109' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-109/${body.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(body.subarray(10, 110));
    expect(part.headers.get('etag')).toBe(full.headers.get('etag'));
  });

  it('grabs a frame with ik-thumbnail.jpg, at so, with image parameters', async () => {
    const first = await fetch(`${clipUrl}/ik-thumbnail.jpg`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('image/jpeg');
    const a = Buffer.from(await first.arrayBuffer());
    expect(await sharp(a).metadata()).toMatchObject({ format: 'jpeg', width: 320, height: 240 });
    const later = await fetch(`${tr('so-1.5,w-100', clipUrl)}/ik-thumbnail.jpg`);
    const b = Buffer.from(await later.arrayBuffer());
    expect(await sharp(b).metadata()).toMatchObject({ width: 100, height: 75 });
    // testsrc draws a running clock: the frame at 1.5 s differs from the first one.
    const small = (buf: Buffer) => sharp(buf).resize(100, 75).greyscale().raw().toBuffer();
    const [pa, pb] = await Promise.all([small(a), small(b)]);
    const diff = pa.reduce((sum, v, i) => sum + Math.abs(v - (pb[i] as number)), 0) / pa.length;
    expect(diff).toBeGreaterThan(1);
    const png = await fetch(`${tr('f-png', clipUrl)}/ik-thumbnail.jpg`);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect((await fetch(`${tr('f-mp4', clipUrl)}/ik-thumbnail.jpg`)).status).toBe(400);
  });

  it('turns a GIF into an H.264 MP4 with ik-gif-video.mp4 (odd sides made even)', async () => {
    const { res, info } = await fetchAndProbe(`${gifUrl}/ik-gif-video.mp4`);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(stream(info, 'video')).toMatchObject({ codec_name: 'h264', width: 100, height: 74 });
    expect(Number(info.format.duration)).toBeCloseTo(1, 0);
    const notGif = await fetch(`${clipUrl}/ik-gif-video.mp4`);
    expect(notGif.status).toBe(400);
    expect((await notGif.json()).message).toMatch(/GIF/);
  });

  it.each([
    ['bl-10', /bl.*image parameter/],
    ['so-30', /so-30 starts after its end/],
    ['sr-240_360', /ik-master\.m3u8/],
    ['du-1,eo-2', /cannot be combined with eo/],
    ['vc-h264,f-webm', /WebM carries vp9/],
  ])('refuses %s on a video with a message naming the parameter', async (steps, message) => {
    const res = await fetch(tr(steps, clipUrl));
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(message);
  });

  it('refuses video parameters on an image', async () => {
    const res = await fetch(tr('so-1', gifUrl));
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(/so.*video parameter/);
  });
});

/** The URLs a manifest names, resolved against the manifest's own URL as a player does. */
const hlsUris = (manifest: string, base: string) =>
  manifest
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => new URL(l, base).href);

describe('adaptive bitrate streaming', () => {
  it('packages HLS: a master playlist, one media playlist per rendition, and fMP4 segments ffprobe can read', async () => {
    const masterUrl = `${wideUrl}/ik-master.m3u8?tr=sr-240_360_720`;
    const res = await fetch(masterUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    const master = await res.text();
    expect(master.startsWith('#EXTM3U')).toBe(true);
    // 720 is taller than the 360p source: not made.
    expect([...master.matchAll(/RESOLUTION=(\d+)x(\d+)/g)].map((m) => Number(m[2]))).toEqual([240, 360]);
    const variants = hlsUris(master, masterUrl);
    expect(variants).toHaveLength(2);
    for (const [i, variantUrl] of variants.entries()) {
      const playlist = await (await fetch(variantUrl)).text();
      expect(playlist).toContain('#EXT-X-ENDLIST');
      const initUrl = new URL(/#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)?.[1] as string, variantUrl);
      const init = Buffer.from(await (await fetch(initUrl)).arrayBuffer());
      const segments = hlsUris(playlist, variantUrl);
      expect(segments.length).toBeGreaterThanOrEqual(2);
      const listed = [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
      expect(listed).toBeCloseTo(9, 0);
      for (const [n, segmentUrl] of segments.entries()) {
        const segment = await fetch(segmentUrl);
        expect(segment.status).toBe(200);
        expect(segment.headers.get('cache-control')).toContain('immutable');
        const file = path.join(dir, `hls-${i}-${n}.mp4`);
        await fs.writeFile(file, Buffer.concat([init, Buffer.from(await segment.arrayBuffer())]));
        const info = await probe(ffprobe, file);
        expect(stream(info, 'video')).toMatchObject({ codec_name: 'h264', height: [240, 360][i] });
        expect(stream(info, 'audio')?.codec_name).toBe('aac');
      }
    }
  });

  it('packages DASH: an MPD whose segment templates resolve to fragmented MP4 that ffprobe can read', async () => {
    const masterUrl = `${tr('sr-240_360', wideUrl)}/ik-master.mpd`;
    const res = await fetch(masterUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/dash+xml');
    const mpd = await res.text();
    const baseUrl = new URL(/<BaseURL>([^<]+)<\/BaseURL>/.exec(mpd)?.[1] as string, masterUrl).href;
    const representations = [...mpd.matchAll(/<Representation [^>]*>/g)].map(([tag]) => ({
      id: /id="(\d+)"/.exec(tag)?.[1] as string,
      height: /height="(\d+)"/.test(tag) ? Number(/height="(\d+)"/.exec(tag)?.[1]) : undefined,
    }));
    expect(representations.filter((r) => r.height).map((r) => r.height)).toEqual([240, 360]);
    expect(representations.length).toBe(3); // two video renditions and the audio
    const init = /initialization="([^"]+)"/.exec(mpd)?.[1] as string;
    const media = /media="([^"]+)"/.exec(mpd)?.[1] as string;
    for (const { id, height } of representations) {
      const initBytes = Buffer.from(await (await fetch(new URL(init.replace('$RepresentationID$', id), baseUrl))).arrayBuffer());
      let number = 1;
      for (;;) {
        const chunkUrl = new URL(media.replace('$RepresentationID$', id).replace('$Number%05d$', String(number).padStart(5, '0')), baseUrl);
        const chunk = await fetch(chunkUrl);
        if (chunk.status === 404) break;
        expect(chunk.status).toBe(200);
        const file = path.join(dir, `dash-${id}-${number}.mp4`);
        await fs.writeFile(file, Buffer.concat([initBytes, Buffer.from(await chunk.arrayBuffer())]));
        const info = await probe(ffprobe, file);
        if (height) expect(stream(info, 'video')).toMatchObject({ codec_name: 'h264', height });
        else expect(stream(info, 'audio')?.codec_name).toBe('aac');
        number++;
      }
      expect(number - 1).toBeGreaterThanOrEqual(2);
    }
  });

  it('needs a signed master URL for a private video; its playlists and segments open only through the pass it names, until its expiry', async () => {
    const rest = 'private.mp4/ik-master.m3u8?tr=sr-240';
    expect((await fetch(`${t.url}/${rest}`)).status).toBe(401);
    const expiresAt = Math.floor(Date.now() / 1000) + 2;
    const signed = signUrl(t.url, rest, TEST_KEY, expiresAt);
    const master = await fetch(signed);
    expect(master.status).toBe(200);
    const [variant] = hlsUris(await master.text(), signed);
    expect(variant).toMatch(new RegExp(`/ik-abs/[^/]+/[a-f0-9]{32}\\.${expiresAt}\\.[a-f0-9]{32}/240p\\.m3u8$`));
    const playlist = await fetch(variant as string);
    expect(playlist.status).toBe(200);
    expect(playlist.headers.get('cache-control')).toMatch(/^private, max-age=[0-2]$/);
    const [segment] = hlsUris(await playlist.text(), variant as string);
    expect((await fetch(segment as string)).status).toBe(200);
    // The bare token, a forged expiry and the master through the stream folder do not open it.
    expect((await fetch((segment as string).replace(/\/([a-f0-9]{32})\.\d+\.[a-f0-9]{32}\//, '/$1/'))).status).toBe(401);
    expect((await fetch((segment as string).replace(`.${expiresAt}.`, `.${expiresAt + 3600}.`))).status).toBe(401);
    expect((await fetch((variant as string).replace('240p.m3u8', 'ik-master.m3u8'))).status).toBe(404);
    await new Promise((r) => setTimeout(r, (expiresAt + 1) * 1000 - Date.now()));
    const late = await fetch(segment as string);
    expect(late.status).toBe(401);
    expect((await late.json()).message).toMatch(/expired/);
  });

  it('keeps private videos behind signatures even for named transformations; the named thumbnail stays open', async () => {
    expect((await fetch(`${t.url}/private.mp4?tr=n-small`)).status).toBe(401);
    expect((await fetch(`${t.url}/tr:n-small/private.mp4/ik-thumbnail.jpg`)).status).toBe(401);
    expect((await fetch(`${t.url}/tr:n-ik_ml_thumbnail/private.mp4`)).status).toBe(200);
    const { info } = await fetchAndProbe(`${clipUrl}?tr=n-small`);
    expect(stream(info, 'video')?.width).toBe(96);
  });

  it('serves a private stream on a URL signed by ImageKit\'s own SDK', async () => {
    const imagekit = new ImageKit({ publicKey: 'public_x', privateKey: TEST_KEY, urlEndpoint: t.url });
    const url = imagekit.url({ path: '/private.mp4/ik-master.m3u8', transformation: [{ sr: '240_360' } as Record<string, string>], signed: true, expireSeconds: 60 });
    expect(url).toContain('/tr:sr-240_360/');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('RESOLUTION=640x360');
  });

  it('hands out signed URLs for suffixes through GraphQL', async () => {
    const { fileId } = privateWide;
    const res = await t.gql('query($id: ID!) { signedUrl(fileId: $id, transformation: "sr-240", suffix: DASH, expireSeconds: 60) }', { id: fileId });
    expect(res.errors).toBeUndefined();
    const url = res.data?.signedUrl as string;
    expect(url).toMatch(/\/tr:sr-240\/private\.mp4\/ik-master\.mpd\?ik-t=\d+&ik-s=[a-f0-9]{40}$/);
    const manifest = await fetch(url);
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get('content-type')).toBe('application/dash+xml');
    const thumb = await t.gql('query($id: ID!) { signedUrl(fileId: $id, suffix: THUMBNAIL) }', { id: fileId });
    expect((await fetch(thumb.data?.signedUrl as string)).headers.get('content-type')).toBe('image/jpeg');
  });

  it('refuses a master manifest without renditions, and streaming of an image', async () => {
    const none = await fetch(`${wideUrl}/ik-master.m3u8`);
    expect(none.status).toBe(400);
    expect((await none.json()).message).toMatch(/sr-240/);
    expect((await fetch(`${gifUrl}/ik-master.m3u8?tr=sr-240`)).status).toBe(400);
  });
});

describe('derivative cache', () => {
  it('deletes a file\'s derivatives (renders, frames, stream packages) with the file', async () => {
    const file = await put(path.join(dir, 'clip.mp4'), 'doomed.mp4');
    const version = (await t.gql('query($id: ID!) { file(fileId: $id) { versionInfo { id } } }', { id: file.fileId })).data?.file.versionInfo.id as string;
    for (const url of [tr('w-96', file.url), `${file.url}/ik-thumbnail.jpg`, `${file.url}/ik-master.m3u8?tr=sr-240`]) expect((await fetch(url)).status).toBe(200);
    const derivedDir = path.join(t.dataDir, 'blobs', 'derived', version);
    const stored = async () => (await fs.readdir(derivedDir, { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile()).length;
    expect(await stored()).toBeGreaterThan(4);
    await t.gql('mutation($id: ID!) { deleteFile(fileId: $id) }', { id: file.fileId });
    expect(await stored()).toBe(0);
  });
});

describe('render queue', () => {
  it('answers 503 with Retry-After when a render outlasts the wait, and serves it once ready', async () => {
    const slow = await startTestApp({ STOWAGE_TRANSFORM_WAIT_MS: '1' });
    try {
      const res = await slow.upload(
        'mutation($file: Upload!) { uploadFile(file: $file, fileName: "c.mp4") { url } }',
        { file: null },
        { path: 'variables.file', data: await fs.readFile(path.join(dir, 'clip.mp4')), filename: 'c.mp4' },
      );
      const url = `${(res.data?.uploadFile as { url: string }).url}?tr=w-96`;
      const first = await fetch(url);
      expect(first.status).toBe(503);
      expect(first.headers.get('retry-after')).toBe('1');
      expect((await first.json()).code).toBe('TRANSFORMATION_TIMEOUT');
      let status = 503;
      for (let i = 0; i < 100 && status === 503; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = (await fetch(url)).status;
      }
      expect(status).toBe(200);
    } finally {
      await slow.close();
    }
  });
});
