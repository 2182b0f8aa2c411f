import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpegPaths } from '../../src/analysis/binaries.js';
import { BlobTooLargeError, type ByteRange, type PutOptions } from '../../src/storage/blob-store.js';
import { originalKey } from '../../src/storage/blob-keys.js';
import { LocalBlobStore } from '../../src/storage/local-blob-store.js';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.js';
import { SPOOL_DIR_PREFIX, spoolWhilePutting, TeeStream } from '../../src/upload/spool.js';
import { makeJpeg, randomBytesOf } from '../helpers/fixtures.js';
import { ForwardingBlobStore } from '../helpers/forwarding-blob-store.js';
import { makeMp4 } from '../helpers/media-files.js';
import { multipartEnvelope, openMultipartRequest } from '../helpers/raw-multipart.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * The upload pipeline analyses the bytes it just streamed from a local spool, never by reading the blob back
 * from the store: proven with a store that, like S3, has no `localPath` and counts every read.
 */

const MiB = 1024 * 1024;
const MAX_FILE_BYTES = MiB;

// Spools go to os.tmpdir(): this file gets a TMPDIR of its own, so the spools it finds are its uploads' only.
let tmpRoot: string;
let previousTmpdir: string | undefined;

/** The spool directories present now, each with its file's size and mode (null while it is being created). */
function spools(): { dir: string; size: number | null; mode: number | null; dirMode: number }[] {
  return readdirSync(tmpRoot)
    .filter((name) => name.startsWith(SPOOL_DIR_PREFIX))
    .map((name) => {
      const dir = path.join(tmpRoot, name);
      const file = statSync(path.join(dir, 'blob'), { throwIfNoEntry: false });
      return { dir, size: file?.size ?? null, mode: file ? file.mode & 0o777 : null, dirMode: statSync(dir).mode & 0o777 };
    });
}

/** A local store seen the way an S3 store is: no `localPath`. Counts reads per key and notes the spools each put of an original saw. */
class RemoteLikeStore extends ForwardingBlobStore {
  readonly gets = new Map<string, number>();
  /** For each put of an original: the spools when it started, and when it ended (`null` when it failed). */
  readonly puts: { key: string; spoolsAtStart: ReturnType<typeof spools>; spoolsAtEnd: ReturnType<typeof spools> | null }[] = [];

  constructor(root: string) {
    super(new LocalBlobStore(root));
  }

  override async put(key: string, body: Readable, options?: PutOptions) {
    if (!key.startsWith('files/')) return super.put(key, body, options);
    const entry: (typeof this.puts)[number] = { key, spoolsAtStart: spools(), spoolsAtEnd: null };
    this.puts.push(entry);
    const stored = await super.put(key, body, options);
    entry.spoolsAtEnd = spools();
    return stored;
  }
  override get(key: string, range?: ByteRange) {
    this.gets.set(key, (this.gets.get(key) ?? 0) + 1);
    return super.get(key, range);
  }

  async originals(): Promise<string[]> {
    const keys: string[] = [];
    for await (const blob of this.inner.list('files/')) keys.push(blob.key);
    return keys.sort();
  }

  /** Reads of originals (blobs under `files/`), by key. */
  originalReads(): Record<string, number> {
    return Object.fromEntries([...this.gets].filter(([key]) => key.startsWith('files/')));
  }
}

const FIELDS = 'fileId url size mime width height duration videoCodec audioCodec versionInfo { id } metadata { pHash quality }';
const MUTATION = `mutation($file: Upload!, $fileName: String!, $customCoordinates: String, $transformation: UploadTransformationInput) {
  uploadFile(file: $file, fileName: $fileName, customCoordinates: $customCoordinates, transformation: $transformation) { ${FIELDS} }
}`;

let t: TestApp;
let store: RemoteLikeStore;
let mp4: Buffer;

const upload = (data: Buffer, fileName: string, extra: Record<string, unknown> = {}) =>
  t.upload(MUTATION, { file: null, fileName, ...extra }, { path: 'variables.file', data, filename: fileName });

beforeAll(async () => {
  previousTmpdir = process.env.TMPDIR;
  tmpRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-spool-test-'));
  process.env.TMPDIR = tmpRoot;
  const { ffmpeg } = resolveFfmpegPaths({});
  const media = await fs.mkdtemp(path.join(tmpRoot, 'media-'));
  await makeMp4(ffmpeg, path.join(media, 'clip.mp4'));
  mp4 = await fs.readFile(path.join(media, 'clip.mp4'));
  store = new RemoteLikeStore(await fs.mkdtemp(path.join(tmpRoot, 'store-')));
  t = await startTestApp({ STOWAGE_MAX_FILE_SIZE: String(MAX_FILE_BYTES) }, { store });
}, 60_000);

afterAll(async () => {
  await t?.close();
  if (previousTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previousTmpdir;
  await fs.rm(tmpRoot, { recursive: true, force: true });
});

describe('uploads to a store without local files', () => {
  it('analyses a JPEG from the spool, never reading the blob back, and removes the spool', async () => {
    const jpeg = await makeJpeg(640, 480);
    const res = await upload(jpeg, 'photo.jpg');
    expect(res.errors).toBeUndefined();
    const file = res.data?.uploadFile;
    expect(file).toMatchObject({ size: jpeg.length, mime: 'image/jpeg', width: 640, height: 480, metadata: { quality: 90 } });
    expect(file.metadata.pHash).toMatch(/^[0-9a-f]{16}$/);
    const key = originalKey(file.versionInfo.id);
    expect(store.originalReads()).toEqual({});
    // The bytes were spooled while they streamed: a private copy of all of them was there when the store had them.
    const put = store.puts.find((p) => p.key === key);
    expect(put?.spoolsAtEnd).toEqual([expect.objectContaining({ size: jpeg.length, mode: 0o600, dirMode: 0o700 })]);
    expect(spools()).toEqual([]);
    // The counter works: delivering the file reads the original through the store.
    expect(Buffer.compare(Buffer.from(await (await fetch(file.url)).arrayBuffer()), jpeg)).toBe(0);
    expect(store.originalReads()[key]).toBeGreaterThanOrEqual(1);
  });

  it('probes a video from the spool, never reading the blob back, and removes the spool', async () => {
    const res = await upload(mp4, 'clip.mp4');
    expect(res.errors).toBeUndefined();
    const file = res.data?.uploadFile;
    expect(file).toMatchObject({ size: mp4.length, mime: 'video/mp4', width: 320, height: 240, videoCodec: 'h264', audioCodec: 'aac' });
    expect(file.duration).toBeCloseTo(2, 0);
    const key = originalKey(file.versionInfo.id);
    expect(store.originalReads()[key]).toBeUndefined();
    expect(store.puts.find((p) => p.key === key)?.spoolsAtEnd).toEqual([expect.objectContaining({ size: mp4.length })]);
    expect(spools()).toEqual([]);
  });

  it('pre-transforms an image from the spool and analyses the result, without reading either back', async () => {
    const res = await upload(await makeJpeg(400, 300), 'pre.jpg', { transformation: { pre: 'w-200,f-png' } });
    expect(res.errors).toBeUndefined();
    const file = res.data?.uploadFile;
    expect(file).toMatchObject({ mime: 'image/png', width: 200, height: 150 });
    const key = originalKey(file.versionInfo.id);
    expect(store.originalReads()[key]).toBeUndefined();
    // The original, then its pre-transformation, each stored with a spool of its own (the original's is removed
    // once the result is stored).
    const [original, result] = store.puts.filter((p) => p.key === key);
    expect(original?.spoolsAtEnd).toHaveLength(1);
    const resultSpool = result?.spoolsAtEnd?.find((s) => s.dir !== original?.spoolsAtEnd?.[0]?.dir);
    expect(resultSpool).toMatchObject({ size: file.size, mode: 0o600 });
    expect(spools()).toEqual([]);
  });

  it('removes the spool and the blob when the upload fails after its bytes are stored', async () => {
    const before = await store.originals();
    const putsBefore = store.puts.length;
    const res = await upload(await makeJpeg(100, 100), 'outside.jpg', { customCoordinates: '50,50,60,10' });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', parameter: 'customCoordinates' });
    expect(store.puts.slice(putsBefore).map((p) => p.spoolsAtEnd?.length)).toEqual([1]);
    expect(spools()).toEqual([]);
    expect(await store.originals()).toEqual(before);
    expect(store.originalReads()).not.toHaveProperty(store.puts[putsBefore]?.key as string);
  });

  it('removes the spool when the upload passes the size limit while streaming', async () => {
    const before = await store.originals();
    const putsBefore = store.puts.length;
    const res = await upload(randomBytesOf(3 * MAX_FILE_BYTES), 'huge.bin');
    expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'FILE_TOO_LARGE', parameter: 'file', details: { limitBytes: MAX_FILE_BYTES } } });
    // The put started with its spool open, and failed.
    const put = store.puts.slice(putsBefore);
    expect(put).toHaveLength(1);
    expect(put[0]?.spoolsAtStart).toHaveLength(1);
    expect(put[0]?.spoolsAtEnd).toBeNull();
    expect(spools()).toEqual([]);
    expect(await store.originals()).toEqual(before);
  });

  it('removes the spool when the client goes away mid-upload', async () => {
    const before = await store.originals();
    const { head } = multipartEnvelope(MUTATION, { file: null, fileName: 'cut.bin' }, 'cut.bin');
    const { req, response } = openMultipartRequest(t.url);
    response.catch(() => {});
    req.write(head);
    req.write(randomBytesOf(300 * 1024));
    await expect.poll(() => spools().some((s) => (s.size ?? 0) > 0)).toBe(true);
    req.destroy();
    await expect.poll(spools).toEqual([]);
    await expect.poll(() => store.originals()).toEqual(before);
  });
});

/** A lazy source of `total` random bytes in `chunk`-byte pieces, noting how far it ever ran ahead of `consumed()`. */
function countedSource(total: number, chunk: number, consumed: () => number) {
  const data = randomBytes(total);
  const state = { produced: 0, maxAhead: 0, destroyed: false };
  const stream = new Readable({
    read() {
      state.maxAhead = Math.max(state.maxAhead, state.produced - consumed());
      if (state.produced >= total) {
        this.push(null);
        return;
      }
      const piece = data.subarray(state.produced, state.produced + chunk);
      state.produced += piece.length;
      this.push(piece);
    },
    destroy(error, cb) {
      state.destroyed = true;
      cb(error);
    },
  });
  return { data, state, stream };
}

/** A memory store that reads its bodies slowly: one chunk per turn of the event loop. */
class SlowStore extends MemoryBlobStore {
  consumed = 0;
  override async put(key: string, body: Readable, options?: PutOptions) {
    const chunks: Buffer[] = [];
    for await (const chunk of body) {
      this.consumed += (chunk as Buffer).length;
      chunks.push(chunk as Buffer);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return super.put(key, Readable.from(chunks), options);
  }
}

describe('spoolWhilePutting', () => {
  const TOTAL = 8 * MiB;
  const CHUNK = 64 * 1024;

  it('lets a slow store set the pace: the source never runs far ahead, and the spool holds every byte', async () => {
    const slow = new SlowStore();
    const source = countedSource(TOTAL, CHUNK, () => slow.consumed);
    const stored = await spoolWhilePutting(slow, 'files/slow', source.stream);
    try {
      expect(stored.size).toBe(TOTAL);
      expect(Buffer.compare(await fs.readFile(stored.localFile), source.data)).toBe(0);
      expect(path.dirname(stored.localFile).startsWith(path.join(tmpRoot, SPOOL_DIR_PREFIX))).toBe(true);
    } finally {
      await stored.release();
    }
    expect(source.state.maxAhead).toBeLessThan(MiB);
    expect(spools()).toEqual([]);
  });

  it('lets a slow spool set the pace, and passes the end on only once the spool is complete', async () => {
    let copied = 0;
    const copy = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, cb) {
        setImmediate(() => {
          copied += chunk.length;
          cb();
        });
      },
    });
    const source = countedSource(TOTAL, CHUNK, () => copied);
    let received = 0;
    let copiedAtEnd = -1;
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        received += chunk.length;
        cb();
      },
      final(cb) {
        copiedAtEnd = copied;
        cb();
      },
    });
    await pipeline(source.stream, new TeeStream(copy), sink);
    expect(received).toBe(TOTAL);
    expect(copiedAtEnd).toBe(TOTAL);
    expect(source.state.maxAhead).toBeLessThan(MiB);
  });

  it('removes the spool and stops reading the source when the store refuses the bytes', async () => {
    const source = countedSource(TOTAL, CHUNK, () => 0);
    await expect(spoolWhilePutting(new MemoryBlobStore(), 'files/big', source.stream, { maxBytes: MiB })).rejects.toBeInstanceOf(BlobTooLargeError);
    expect(spools()).toEqual([]);
    expect(source.state.destroyed).toBe(true);
    expect(source.state.produced).toBeLessThan(TOTAL);
  });

  it('uses the file of a store that keeps one, with no spool', async () => {
    const local = new LocalBlobStore(await fs.mkdtemp(path.join(tmpRoot, 'local-')));
    const stored = await spoolWhilePutting(local, 'files/here', Readable.from([Buffer.from('bytes')]));
    expect(stored).toMatchObject({ size: 5, localFile: local.localPath('files/here') });
    expect(spools()).toEqual([]);
    await stored.release();
    expect(await fs.readFile(local.localPath('files/here'), 'utf8')).toBe('bytes');
  });
});
