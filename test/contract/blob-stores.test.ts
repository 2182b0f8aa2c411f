import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { LocalBlobStore } from '../../src/storage/local-blob-store.js';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.js';
import { S3BlobStore } from '../../src/storage/s3-blob-store.js';
import { type S3Server, startS3Server } from '../helpers/s3-server.js';
import { blobStoreContract } from './blob-store.contract.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

async function countFiles(dir: string): Promise<number> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).length;
}

blobStoreContract('memory', async () => ({ store: new MemoryBlobStore(), leftovers: async () => 0 }));

blobStoreContract('local disk', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-blobs-'));
  dirs.push(dir);
  return { store: new LocalBlobStore(dir), leftovers: () => countFiles(path.join(dir, '.incomplete')) };
});

describe('local disk blob store', () => {
  it('sweeps temp files a crash left behind, and only old ones', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-blobs-'));
    dirs.push(dir);
    const store = new LocalBlobStore(dir);
    await store.put('files/kept', Readable.from([Buffer.from('x')]));
    await fs.writeFile(path.join(dir, '.incomplete', 'crashed-upload'), 'partial');
    expect(await store.sweepIncomplete(new Date(Date.now() - 60_000))).toBe(0);
    expect(await store.sweepIncomplete(new Date(Date.now() + 1000))).toBe(1);
    expect(await countFiles(path.join(dir, '.incomplete'))).toBe(0);
    expect(await store.stat('files/kept')).not.toBeNull();
  });

  it('flushes a durable write to disk before it becomes visible, and skips that for a non-durable one', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-blobs-'));
    dirs.push(dir);
    const store = new LocalBlobStore(dir);
    const probe = await fs.open(path.join(dir, 'probe'), 'w');
    const sync = vi.spyOn(Object.getPrototypeOf(probe) as { sync(): Promise<void> }, 'sync');
    await probe.close();
    try {
      await store.put('files/durable', Readable.from([Buffer.from('kept')]));
      expect(sync).toHaveBeenCalledTimes(1);
      await store.put('derived/v/cache.jpg', Readable.from([Buffer.from('rebuildable')]), { durable: false });
      expect(sync).toHaveBeenCalledTimes(1);
      expect((await buffer(await store.get('derived/v/cache.jpg'))).toString()).toBe('rebuildable');
    } finally {
      sync.mockRestore();
    }
  });

  it('keeps the temp file of a write still in progress when the cutoff is in the past', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-blobs-'));
    dirs.push(dir);
    const store = new LocalBlobStore(dir);
    const body = new PassThrough();
    const writing = store.put('files/slow', body);
    body.write(Buffer.alloc(1000, 1));
    while ((await countFiles(path.join(dir, '.incomplete'))) === 0) await sleep(5);
    expect(await store.sweepIncomplete(new Date(Date.now() - 60_000))).toBe(0);
    body.end(Buffer.alloc(1000, 2));
    expect(await writing).toEqual({ size: 2000 });
    expect(Buffer.compare(await buffer(await store.get('files/slow')), Buffer.concat([Buffer.alloc(1000, 1), Buffer.alloc(1000, 2)]))).toBe(0);
  });
});

// One s3rver for the file, started on first use; each store gets a key prefix of its own in its bucket.
let s3: Promise<S3Server> | undefined;
let s3Stores = 0;
afterAll(async () => (await s3)?.stop());

blobStoreContract('s3 (s3rver)', async () => {
  s3 ??= startS3Server();
  const server = await s3;
  const prefix = `contract-${++s3Stores}`;
  return {
    store: new S3BlobStore({ client: server.client(), bucket: server.bucket, prefix }),
    leftovers: async () => (await server.incompleteUploads(`${prefix}/`)).length,
  };
});
