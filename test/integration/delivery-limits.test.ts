import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/logger.js';
import type { BlobStore, ByteRange, PutOptions } from '../../src/storage/blob-store.js';
import { LocalBlobStore } from '../../src/storage/local-blob-store.js';
import { renderImage } from '../../src/transform/render-image.js';
import { parseTransformation } from '../../src/transform/transform-plan.js';
import { blobKeyFor } from '../../src/upload/upload-file.js';
import { noise } from '../helpers/images.js';
import { ForwardingBlobStore } from '../helpers/forwarding-blob-store.js';
import { captureLogs } from '../helpers/log-capture.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * The local store, watched: counts how often each original is opened for rendering, and can hold derivative
 * writes until released (a slow render finishing late).
 */
class WatchedStore extends ForwardingBlobStore {
  readonly local: LocalBlobStore;
  readonly opened = new Map<string, number>();
  private hold: { arrived: () => void; release: Promise<void> } | undefined;

  constructor(readonly root: string) {
    const local = new LocalBlobStore(root);
    super(local);
    this.local = local;
  }

  /** Holds derivative writes until released; `arrived` resolves once `count` of them wait. */
  holdDerivedWrites(count: number): { arrived: Promise<void>; release: () => void } {
    let arrived!: () => void;
    let release!: () => void;
    const all = new Promise<void>((r) => (arrived = r));
    let waiting = 0;
    this.hold = { arrived: () => ++waiting === count && arrived(), release: new Promise<void>((r) => (release = r)) };
    return { arrived: all, release: () => ((this.hold = undefined), release()) };
  }

  private count(key: string) {
    if (key.startsWith('files/')) this.opened.set(key, (this.opened.get(key) ?? 0) + 1);
  }

  override async put(key: string, body: Readable, options?: PutOptions) {
    const hold = this.hold;
    if (hold && (key.startsWith('derived/') || key.startsWith('thumbnails/'))) {
      hold.arrived();
      await hold.release;
    }
    return super.put(key, body, options);
  }
  override get(key: string, range?: ByteRange) {
    this.count(key);
    return super.get(key, range);
  }
  localPath(key: string) {
    this.count(key);
    return this.local.localPath(key);
  }
}

/** Every blob under `prefix` with its size. */
async function blobsUnder(store: BlobStore, prefix: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const blob of store.list(prefix)) out.set(blob.key, blob.size);
  return out;
}

const UPLOAD = 'mutation($file: Upload!, $fileName: String!) { uploadFile(file: $file, fileName: $fileName, useUniqueFileName: false) { fileId url versionInfo { id } } }';

async function upload(t: TestApp, fileName: string, data: Buffer) {
  const res = await t.upload(UPLOAD, { file: null, fileName }, { path: 'variables.file', data, filename: fileName });
  return res.data?.uploadFile as { fileId: string; url: string; versionInfo: { id: string } };
}

const tr = (t: TestApp, url: string, steps: string) => url.replace(t.url, `${t.url}/tr:${steps}`);

async function get(url: string) {
  const res = await fetch(url);
  return { status: res.status, etag: res.headers.get('etag'), body: Buffer.from(await res.arrayBuffer()) };
}

const tempDirs: string[] = [];
async function watchedApp(env: Record<string, string> = {}, logger?: Logger) {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-watched-'));
  tempDirs.push(root);
  const store = new WatchedStore(root);
  return { store, t: await startTestApp(env, { store, ...(logger ? { logger } : {}) }) };
}
afterAll(async () => {
  for (const dir of tempDirs) await fs.rm(dir, { recursive: true, force: true });
});

describe('bounded image transformations', () => {
  let t: TestApp;
  let store: WatchedStore;
  let photo: { fileId: string; url: string; versionInfo: { id: string } };
  let strip: { url: string };
  let originalOpens: () => number;

  beforeAll(async () => {
    ({ t, store } = await watchedApp());
    photo = await upload(t, 'photo.png', await noise(100, 100));
    // White with a 2 px dark line: trimmed, it is 2×300, and only the pixels say so.
    const line = await sharp({ create: { width: 2, height: 300, channels: 3, background: '#000' } }).png().toBuffer();
    strip = await upload(t, 'strip.png', await sharp({ create: { width: 300, height: 300, channels: 3, background: '#fff' } }).composite([{ input: line, left: 149, top: 0 }]).png().toBuffer());
    originalOpens = () => [...store.opened.values()].reduce((a, b) => a + b, 0);
  });
  afterAll(() => t.close());

  it('refuses a 16383×16383 render from an anonymous URL before decoding anything, naming the limit', async () => {
    const before = originalOpens();
    const res = await get(tr(t, photo.url, 'w-16383,h-16383,c-force,f-png'));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString()).message).toBe(
      'The transformation would produce 16383×16383 = 268402689 pixels (step 1), more than the 100000000 allowed (STOWAGE_MAX_IMAGE_PIXELS).',
    );
    expect(originalOpens()).toBe(before);
    expect(await blobsUnder(store, 'derived/')).toEqual(new Map());
  });

  it('refuses a chain whose intermediate step is too large, and sides derived from the aspect ratio', async () => {
    const chained = await get(tr(t, photo.url, 'w-16383,h-16383,c-force:w-100'));
    expect(chained.status).toBe(400);
    expect(JSON.parse(chained.body.toString()).message).toMatch(/^The transformation would produce 16383×16383 = 268402689 pixels \(step 1\)/);
    // 100×100 → 100×8000 → 16383 wide keeps the ratio: 16383×1310640.
    const derived = await get(tr(t, photo.url, 'w-100,h-8000,c-force:w-16383'));
    expect(derived.status).toBe(400);
    expect(JSON.parse(derived.body.toString()).message).toMatch(/\(step 2\), more than the 100000000 allowed \(STOWAGE_MAX_IMAGE_PIXELS\)/);
    expect(await blobsUnder(store, 'derived/')).toEqual(new Map());
  });

  it('refuses at render time what only the pixels make too large (a trimmed strip widened), and remembers it', async () => {
    const url = tr(t, strip.url, 't-true,w-16383');
    const first = await get(url);
    expect(first.status).toBe(400);
    expect(JSON.parse(first.body.toString()).message).toMatch(/^The transformation would produce 16383×\d+ = \d+ pixels \(step 1\), more than the 100000000 allowed/);
    const opens = originalOpens();
    expect((await get(url)).body).toEqual(first.body);
    expect(originalOpens()).toBe(opens);
  });

  it('still renders what fits', async () => {
    const res = await get(tr(t, photo.url, 'w-40,h-30,c-force,f-png'));
    expect(res.status).toBe(200);
    expect(await sharp(res.body).metadata()).toMatchObject({ width: 40, height: 30 });
  });

  it('runs a render that crashes once, then answers the same masked 500 from memory', async () => {
    const broken = await upload(t, 'broken.png', await noise(50, 50, 7));
    const key = blobKeyFor(broken.versionInfo.id);
    await fs.writeFile(store.local.localPath(key), Buffer.from('not an image any more'));
    const url = tr(t, broken.url, 'w-20');
    const before = store.opened.get(key) ?? 0;
    const first = await get(url);
    expect(first.status).toBe(500);
    const again = await get(url);
    expect(again.status).toBe(500);
    expect(again.body).toEqual(first.body);
    expect(JSON.parse(again.body.toString())).toMatchObject({ code: 'INTERNAL_SERVER_ERROR' });
    expect((store.opened.get(key) ?? 0) - before).toBe(1);
  });
});

describe('the derivative cache', () => {
  const logs = captureLogs('info');
  let t: TestApp;
  let store: WatchedStore;
  afterEach(async () => {
    await t.close();
  });

  it('evicts the least recently used derivatives to stay under STOWAGE_DERIVATIVE_CACHE_BYTES, and logs it', async () => {
    const source = await noise(200, 200, 3);
    const steps = ['w-80,h-80,c-force,f-png', 'w-80,h-81,c-force,f-png', 'w-81,h-80,c-force,f-png'];
    const sizes = await Promise.all(steps.map(async (s) => (await renderImage(source, parseTransformation(s), { accept: '', originalFormat: 'png', customCoordinates: null, maxInputPixels: 1e8 })).data.length));
    // Room for two of the three.
    const cap = Math.floor((sizes[0] as number) * 2.5);
    expect(Math.max(...sizes) * 2).toBeLessThanOrEqual(cap);
    expect(sizes.reduce((a, b) => a + b)).toBeGreaterThan(cap);
    ({ t, store } = await watchedApp({ STOWAGE_DERIVATIVE_CACHE_BYTES: String(cap), STOWAGE_LOG_LEVEL: 'info' }, logs.logger));
    const file = await upload(t, 'noise.png', source);
    const blobOf = (etag: string | null) => `derived/${file.versionInfo.id}/${(etag as string).replace(/"/g, '').split('-').pop()}`;

    const a = await get(tr(t, file.url, steps[0] as string));
    const b = await get(tr(t, file.url, steps[1] as string));
    expect([a.status, b.status]).toEqual([200, 200]);
    expect((await get(tr(t, file.url, steps[0] as string))).status).toBe(200); // a cache hit: A is now more recent than B
    const c = await get(tr(t, file.url, steps[2] as string));
    expect(c.status).toBe(200);

    const left = await blobsUnder(store, 'derived/');
    expect([...left.keys()].sort()).toEqual([blobOf(a.etag), blobOf(c.etag)].sort());
    expect([...left.values()].reduce((x, y) => x + y)).toBeLessThanOrEqual(cap);
    expect(logs.records().map((r) => r.msg)).toContainEqual(expect.stringMatching(new RegExp(`^Derivative cache: evicted 1 \\(${sizes[1]} bytes\\), now \\d+ bytes of ${cap}$`)));
    // The evicted one is simply made again.
    expect((await get(tr(t, file.url, steps[1] as string))).body).toEqual(b.body);
  });

  it('deletes derivatives and thumbnails that finish after their file was deleted', async () => {
    ({ t, store } = await watchedApp());
    const file = await upload(t, 'doomed.png', await noise(120, 90, 5));
    const held = store.holdDerivedWrites(2);
    const render = get(tr(t, file.url, 'w-50'));
    const thumbnail = get(tr(t, file.url, 'n-ik_ml_thumbnail'));
    await held.arrived; // both rendered, neither stored yet
    const deleted = await t.gql('mutation($id: ID!) { deleteFile(fileId: $id) }', { id: file.fileId });
    expect(deleted.data?.deleteFile).toBe(file.fileId);
    held.release();
    expect((await render).status).toBe(404);
    await thumbnail;
    expect(await blobsUnder(store, `derived/${file.versionInfo.id}/`)).toEqual(new Map());
    expect(await store.stat(`thumbnails/${file.versionInfo.id}.webp`)).toBeNull();
  });

  it('leaves derivatives of deleted versions to the janitor, which deletes them past its grace period and brings the ones it finds under the cap', async () => {
    ({ t, store } = await watchedApp({ STOWAGE_DERIVATIVE_CACHE_BYTES: '1500', STOWAGE_JANITOR_GRACE_MS: '60000', STOWAGE_JANITOR_INTERVAL_MS: '50' }));
    const file = await upload(t, 'kept.png', await noise(60, 60, 9));
    const orphan = 'derived/gone-version/abc.png';
    const youngOrphan = 'derived/gone-version/young.png';
    const older = `derived/${file.versionInfo.id}/older.png`;
    const newer = `derived/${file.versionInfo.id}/newer.png`;
    const ages = new Map([
      [orphan, 120_000],
      [youngOrphan, 30_000],
      [older, 180_000],
      [newer, 120_000],
    ]);
    for (const [key, ageMs] of ages) {
      await store.inner.put(key, Readable.from([Buffer.alloc(1000)]));
      const at = new Date(Date.now() - ageMs);
      await fs.utimes(store.local.localPath(key), at, at);
    }
    await t.restart();
    // 2000 bytes found past the grace period, 1500 allowed: the least recent goes.
    await expect.poll(() => store.stat(older), { timeout: 10_000 }).toBeNull();
    await expect.poll(() => store.stat(orphan), { timeout: 10_000 }).toBeNull();
    expect(await store.stat(newer)).not.toBeNull();
    expect(await store.stat(youngOrphan)).not.toBeNull();
  });
});
