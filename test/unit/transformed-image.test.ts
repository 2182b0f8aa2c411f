import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import sharp from 'sharp';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createLimiter } from '../../src/analysis/concurrency.js';
import type { FileVersionRow } from '../../src/db/schema.js';
import { RenderQueue } from '../../src/delivery/render-queue.js';
import { TransformedImages } from '../../src/delivery/transformed-image.js';
import { originalKey } from '../../src/storage/blob-keys.js';
import { LocalBlobStore } from '../../src/storage/local-blob-store.js';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.js';
import { renderImage } from '../../src/transform/render-image.js';
import { parseTransformation } from '../../src/transform/transform-plan.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

const photo = () => sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 200, g: 40, b: 90 } } }).jpeg().toBuffer();

const versionOf = (id: string): FileVersionRow =>
  ({ id, blobKey: originalKey(id), fileType: 'image', format: 'jpg', mime: 'image/jpeg', width: 300, height: 200, customCoordinates: null }) as FileVersionRow;

const MAX_PIXELS = 1_000_000;

describe('transformed images', () => {
  it('serves a new render from its own bytes, stores the same bytes, and serves the stored copy afterwards', async () => {
    const store = new MemoryBlobStore();
    const version = versionOf('v1');
    await store.put(version.blobKey, Readable.from([await photo()]));
    const images = new TransformedImages(store, new RenderQueue(createLimiter(1), 10_000), MAX_PIXELS);
    const put = vi.spyOn(store, 'put');
    const fresh = await images.get(version, parseTransformation('w-100'), 'image/jpeg');
    expect(fresh.mime).toBe('image/jpeg');
    expect(fresh.body && (await sharp(fresh.body).metadata()).width).toBe(100);
    expect(put).toHaveBeenCalledWith(fresh.key, expect.anything(), { durable: false });
    expect(Buffer.compare(await buffer(await store.get(fresh.key)), fresh.body as Buffer)).toBe(0);
    const cached = await images.get(version, parseTransformation('w-100'), 'image/jpeg');
    expect(cached).toEqual({ key: fresh.key, mime: 'image/jpeg' });
    expect(put).toHaveBeenCalledTimes(1);
  });

  it('renders again over a stored derivative that is empty (an OS crash before it reached the disk)', async () => {
    const store = new MemoryBlobStore();
    const version = versionOf('v2');
    await store.put(version.blobKey, Readable.from([await photo()]));
    const images = new TransformedImages(store, new RenderQueue(createLimiter(1), 10_000), MAX_PIXELS);
    const { key } = await images.get(version, parseTransformation('w-50'), 'image/jpeg');
    await store.put(key, Readable.from([Buffer.alloc(0)]));
    const again = await images.get(version, parseTransformation('w-50'), 'image/jpeg');
    expect(again.key).toBe(key);
    expect(again.body?.length).toBeGreaterThan(0);
    expect((await store.stat(key))?.size).toBe(again.body?.length);
  });

  it('lets sharp read the original from the local store\'s file, never loading it into memory', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-transformed-'));
    dirs.push(dir);
    const store = new LocalBlobStore(dir);
    const version = versionOf('v3');
    await store.put(version.blobKey, Readable.from([await photo()]));
    const get = vi.spyOn(store, 'get');
    const readFile = vi.spyOn(fs, 'readFile');
    const images = new TransformedImages(store, new RenderQueue(createLimiter(1), 10_000), MAX_PIXELS);
    const rendered = await images.get(version, parseTransformation('w-120,h-60'), 'image/jpeg');
    const reads = readFile.mock.calls.length;
    readFile.mockRestore();
    expect(reads).toBe(0);
    expect(get).not.toHaveBeenCalled();
    expect(await sharp(rendered.body as Buffer).metadata()).toMatchObject({ width: 120, height: 60, format: 'jpeg' });
  });
});

describe('renderImage from a file path', () => {
  it('renders a file exactly as it renders the same bytes, and hands fo-face the bytes', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-render-'));
    dirs.push(dir);
    const bytes = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#3366aa' } })
      .composite([{ input: await sharp({ create: { width: 80, height: 80, channels: 3, background: '#ffffff' } }).png().toBuffer(), left: 250, top: 40 }])
      .jpeg()
      .toBuffer();
    const file = path.join(dir, 'original.jpg');
    await fs.writeFile(file, bytes);
    const seen: Buffer[] = [];
    const ctx = {
      accept: '',
      originalFormat: 'jpg',
      customCoordinates: null,
      maxInputPixels: MAX_PIXELS,
      findFaces: async (image: Buffer) => {
        seen.push(image);
        return [{ left: 250, top: 40, width: 80, height: 80 }];
      },
    };
    for (const tr of ['w-200', 'w-100,h-100,fo-face', 'w-150:rt-90,f-png']) {
      const plan = parseTransformation(tr);
      const fromFile = await renderImage(file, plan, ctx);
      const fromBytes = await renderImage(bytes, plan, ctx);
      expect(fromFile.mime).toBe(fromBytes.mime);
      expect(Buffer.compare(fromFile.data, fromBytes.data)).toBe(0);
    }
    expect(seen.length).toBe(2);
    expect(Buffer.compare(seen[0] as Buffer, bytes)).toBe(0);
  });
});

describe('renderImage with the original\'s size already known', () => {
  it('renders exactly as when it reads the header itself, EXIF quarter turns included', async () => {
    // Stored 300x200 with orientation 6: shown 200x300.
    const turned = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#204060' } })
      .composite([{ input: await sharp({ create: { width: 60, height: 40, channels: 3, background: '#f0f0f0' } }).png().toBuffer(), left: 10, top: 10 }])
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const ctx = { accept: '', originalFormat: 'jpg', customCoordinates: '20,30,100,120', maxInputPixels: MAX_PIXELS };
    for (const tr of ['w-0.5', 'h-150,ar-1-1', 'w-120,h-80,cm-extract,x-10,y-200', 'w-100,h-100,fo-custom', 'w-0.4:h-0.5,c-force']) {
      const plan = parseTransformation(tr);
      const read = await renderImage(turned, plan, ctx);
      const known = await renderImage(turned, plan, { ...ctx, originalSize: { width: 200, height: 300 } });
      expect(Buffer.compare(known.data, read.data), tr).toBe(0);
    }
    expect(await sharp((await renderImage(turned, parseTransformation('w-0.5'), { ...ctx, originalSize: { width: 200, height: 300 } })).data).metadata()).toMatchObject({ width: 100, height: 150 });
  });
});

