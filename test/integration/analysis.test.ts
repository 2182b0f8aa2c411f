import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpegPaths } from '../../src/analysis/binaries.js';
import { makeJpeg } from '../helpers/fixtures.js';
import { pngHeaderOnly, scene, shapes, solid } from '../helpers/images.js';
import { ffmpeg as ffmpegRun, makeAudio, makeMp4, makeRotated } from '../helpers/media-files.js';
import { jpegWithAllMetadata } from '../helpers/metadata-fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let tmp: string;
const { ffmpeg } = resolveFfmpegPaths(process.env);

const FIELDS = `fileId name fileType mime width height hasAlpha thumbnailUrl duration bitRate videoCodec audioCodec embeddedMetadata
  metadata { width height size format hasColorProfile quality density hasTransparency pHash isAnimated exif duration bitRate videoCodec audioCodec frameRate }`;
const put = async (data: Buffer, fileName: string) => {
  const res = await t.upload(`mutation($file: Upload!, $fileName: String!) { uploadFile(file: $file, fileName: $fileName) { ${FIELDS} } }`, { file: null, fileName }, { path: 'variables.file', data, filename: fileName });
  return res;
};
const ok = async (data: Buffer, fileName: string) => {
  const res = await put(data, fileName);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data?.uploadFile;
};

beforeAll(async () => {
  t = await startTestApp();
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-media-'));
});
afterAll(async () => {
  await t.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('image analysis at upload', () => {
  it('stores EXIF, IPTC and XMP as embeddedMetadata and raw EXIF groups in metadata', async () => {
    const f = await ok(await jpegWithAllMetadata(), 'camera.jpg');
    expect(f.embeddedMetadata).toMatchObject({
      Make: 'Canon',
      Model: 'EOS 5D',
      Copyright: 'Jane Doe 2024',
      DateTimeOriginal: '2019-10-16T19:01:03.000Z',
      Keywords: ['sunset', 'plage été'],
      Byline: 'John Smith',
      City: 'Nice',
    });
    expect(f.metadata).toMatchObject({ format: 'jpg', width: 32, height: 24, quality: 80, hasTransparency: false });
    expect(f.metadata.exif.image).toMatchObject({ Make: 'Canon', Model: 'EOS 5D' });
    expect(f.metadata.exif.exif).toMatchObject({ DateTimeOriginal: '2019:10:16 19:01:03' });
    expect(f.metadata.exif.gps).toMatchObject({ GPSLatitudeRef: 'S' });
    expect(f.metadata.pHash).toMatch(/^[0-9a-f]{16}$/);

    const found = await t.gql('{ files(searchQuery: "\\"embeddedMetadata.Make\\" = \\"Canon\\" AND \\"embeddedMetadata.Keywords\\" IN [\\"sunset\\"]") { nodes { name } } }');
    expect(found.data?.files.nodes.map((n: { name: string }) => n.name)).toEqual([f.name]);
    const meta = await t.gql('query($id: ID!) { fileMetadata(fileId: $id) { pHash quality exif } }', { id: f.fileId });
    expect(meta.data?.fileMetadata).toMatchObject({ pHash: f.metadata.pHash, quality: 80 });
  });

  it('reports real transparency, not just an alpha channel', async () => {
    const opaqueWithAlpha = await sharp({ create: { width: 40, height: 40, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 1 } } }).png().toBuffer();
    const seeThrough = await sharp({ create: { width: 40, height: 40, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0.2 } } }).png().toBuffer();
    expect((await ok(opaqueWithAlpha, 'opaque.png')).metadata.hasTransparency).toBe(false);
    const clear = await ok(seeThrough, 'clear.png');
    expect(clear.metadata.hasTransparency).toBe(true);
    expect(clear.hasAlpha).toBe(true);
  });

  it('finds exact and near duplicates', async () => {
    const original = await scene(640, 480);
    const a = await ok(original, 'scene.png');
    const copy = await ok(original, 'scene-copy.png');
    const reencoded = await ok(await sharp(original).resize(320, 240).jpeg({ quality: 50 }).toBuffer(), 'scene-small.jpg');
    const other = await ok(await shapes(640, 480), 'shapes.png');
    const res = await t.gql('query($id: ID!) { duplicates(fileId: $id, maxDistance: 10) { exact { fileId } similar { distance file { fileId } } } }', { id: a.fileId });
    expect(res.data?.duplicates.exact).toEqual([{ fileId: copy.fileId }]);
    const similarIds = res.data?.duplicates.similar.map((s: { file: { fileId: string } }) => s.file.fileId);
    expect(similarIds).toContain(reencoded.fileId);
    expect(similarIds).toContain(copy.fileId);
    expect(similarIds).not.toContain(other.fileId);
    expect(res.data?.duplicates.similar.find((s: { file: { fileId: string } }) => s.file.fileId === copy.fileId).distance).toBe(0);
  });

  it('reads HEIC (HEVC) dimensions, hashes it and makes a thumbnail through libheif', async () => {
    const heic = await fs.readFile(path.resolve('test/fixtures/small.heic'));
    const f = await ok(heic, 'phone.heic');
    expect(f).toMatchObject({ fileType: 'IMAGE', width: 64, height: 48 });
    expect(f.mime).toMatch(/image\/hei[cf]/);
    expect(f.metadata.format).toBe('heic');
    expect(f.metadata.pHash).toMatch(/^[0-9a-f]{16}$/);
    const thumb = await fetch(f.thumbnailUrl);
    expect(thumb.status).toBe(200);
    const { data, info } = await sharp(Buffer.from(await thumb.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([64, 48]);
    expect(data[0]).toBeGreaterThan(180);
  });

  it('uses the first frame of an animated GIF for size and thumbnail', async () => {
    const gif = await solid(30, 20, { r: 255, g: 0, b: 0 }).gif().toBuffer();
    const tall = await solid(30, 60, { r: 255, g: 0, b: 0 })
      .composite([{ input: { create: { width: 30, height: 20, channels: 3, background: '#0000ff' } }, top: 20, left: 0 }])
      .raw()
      .toBuffer();
    const animated = await sharp(tall, { raw: { width: 30, height: 60, channels: 3, pageHeight: 20 } }).gif().toBuffer();
    const f = await ok(animated, 'anim.gif');
    expect(f).toMatchObject({ width: 30, height: 20 });
    expect(f.metadata.isAnimated).toBe(true);
    expect((await fetch(f.thumbnailUrl)).status).toBe(200);
    expect((await ok(gif, 'still.gif')).metadata.isAnimated).toBe(false);
  });

  it('rejects corrupt images and decompression bombs with clear errors, storing nothing', async () => {
    const jpeg = await makeJpeg(400, 300);
    const truncated = await put(jpeg.subarray(0, Math.floor(jpeg.length / 2)), 'broken.jpg');
    expect(truncated.errors?.[0]).toMatchObject({ message: expect.stringMatching(/corrupt or truncated/), extensions: { code: 'BAD_REQUEST', parameter: 'file' } });
    // A PNG whose header claims 30000x30000 pixels: decoding it would need 3.6 GB.
    const bomb = pngHeaderOnly(30000, 30000);
    const before = process.memoryUsage().rss;
    const refused = await put(bomb, 'bomb.png');
    expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_REQUEST', details: { pixels: 900_000_000, maxPixels: 100_000_000 } } });
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
    const names = (await t.gql('{ files(first: 1000) { nodes { name } } }')).data?.files.nodes.map((n: { name: string }) => n.name);
    expect(names.some((n: string) => n.startsWith('broken') || n.startsWith('bomb'))).toBe(false);
  });
});

describe('type policy', () => {
  it('refuses executables by default, whatever the name says', async () => {
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(5000)]);
    const res = await put(elf, 'innocent.jpg');
    expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'FILE_TYPE_NOT_ALLOWED', parameter: 'file', details: { mime: 'application/x-elf' } } });
    const mz = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(0x3a), Buffer.from([0x80, 0, 0, 0]), Buffer.alloc(0x40), Buffer.from('PE\0\0'), Buffer.alloc(5000)]);
    const exe = await put(mz, 'setup.txt');
    expect(exe.errors?.[0]?.extensions.code).toBe('FILE_TYPE_NOT_ALLOWED');
  });

  it('can be limited to an allow-list', async () => {
    const imagesOnly = await startTestApp({ STOWAGE_ALLOWED_TYPES: 'image/*' });
    try {
      const text = await imagesOnly.upload('mutation($file: Upload!) { uploadFile(file: $file, fileName: "a.txt") { fileId } }', { file: null }, { path: 'variables.file', data: Buffer.from('hello'), filename: 'a.txt' });
      expect(text.errors?.[0]).toMatchObject({ extensions: { code: 'FILE_TYPE_NOT_ALLOWED', details: { mime: 'text/plain' } } });
      const img = await imagesOnly.upload('mutation($file: Upload!) { uploadFile(file: $file, fileName: "a.jpg") { fileId } }', { file: null }, { path: 'variables.file', data: await makeJpeg(10, 10), filename: 'a.jpg' });
      expect(img.errors).toBeUndefined();
    } finally {
      await imagesOnly.close();
    }
  });
});

describe('video and audio', () => {
  it('probes duration, bit rate, codecs and rotation, and makes a video thumbnail', async () => {
    const mp4 = path.join(tmp, 'clip.mp4');
    const rotated = path.join(tmp, 'rotated.mp4');
    await makeMp4(ffmpeg, mp4);
    await makeRotated(ffmpeg, mp4, rotated);
    const f = await ok(await fs.readFile(mp4), 'clip.mp4');
    expect(f).toMatchObject({ fileType: 'NON_IMAGE', mime: 'video/mp4', width: 320, height: 240, videoCodec: 'h264', audioCodec: 'aac' });
    expect(f.duration).toBeCloseTo(2, 0);
    expect(f.bitRate).toBeGreaterThan(10_000);
    expect(f.metadata.frameRate).toBe(25);
    expect(f.thumbnailUrl).toMatch(/tr:n-ik_ml_thumbnail/);
    const thumb = await fetch(f.thumbnailUrl);
    expect(thumb.status).toBe(200);
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([200, 150]);

    const r = await ok(await fs.readFile(rotated), 'rotated.mp4');
    expect([r.width, r.height]).toEqual([240, 320]);
  });

  it('probes MPEG-TS video (copied into MP4 for ffprobe, which crashes on TS) and serves its thumbnail and transformations', async () => {
    const mp4 = path.join(tmp, 'for-ts.mp4');
    const ts = path.join(tmp, 'clip.ts');
    await makeMp4(ffmpeg, mp4);
    await ffmpegRun(ffmpeg, ['-i', mp4, '-c', 'copy', '-f', 'mpegts', ts]);
    const f = await ok(await fs.readFile(ts), 'clip.ts');
    expect(f).toMatchObject({ mime: 'video/mp2t', width: 320, height: 240, videoCodec: 'h264', audioCodec: 'aac' });
    expect(f.duration).toBeCloseTo(2, 0);
    expect((await fetch(f.thumbnailUrl)).status).toBe(200);
    const small = await fetch(`${f.thumbnailUrl.replace('/tr:n-ik_ml_thumbnail', '')}?tr=w-160`);
    expect(small.headers.get('content-type')).toBe('video/mp4');
  });

  it('probes audio, and keeps fake or truncated media as plain files', async () => {
    const mp3 = path.join(tmp, 'tone.mp3');
    await makeAudio(ffmpeg, 'libmp3lame', mp3);
    const a = await ok(await fs.readFile(mp3), 'tone.mp3');
    expect(a).toMatchObject({ mime: 'audio/mpeg', audioCodec: 'mp3', videoCodec: null, width: null, thumbnailUrl: null });
    expect(a.duration).toBeCloseTo(2, 0);

    const mp4 = await fs.readFile(path.join(tmp, 'clip.mp4'));
    const cut = await ok(mp4.subarray(0, Math.floor(mp4.length * 0.3)), 'cut.mp4');
    expect(cut).toMatchObject({ mime: 'video/mp4', duration: null, videoCodec: null, thumbnailUrl: null });
  });
});
