import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { BlobNotFoundError, type BlobStore, BlobTooLargeError } from '../../src/storage/blob-store.js';

const bytes = (n: number, seed = 7) => Buffer.from(Array.from({ length: n }, (_, i) => (i * seed) & 255));

/** A body that sends `good` bytes and then fails, as an interrupted upload does. */
function failingBody(good: Buffer): Readable {
  return new Readable({
    read() {
      if (good.length) {
        this.push(good);
        good = Buffer.alloc(0);
      } else this.destroy(new Error('client went away'));
    },
  });
}

async function keys(store: BlobStore, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const blob of store.list(prefix)) out.push(blob.key);
  return out.sort();
}

/** The behaviour every BlobStore must have; run once per implementation. */
export function blobStoreContract(name: string, create: () => Promise<{ store: BlobStore; leftovers: () => Promise<number> }>): void {
  describe(`${name} blob store`, () => {
    it('stores a streamed body and reads it back whole and by range', async () => {
      const { store } = await create();
      const data = bytes(300_000);
      expect(await store.put('files/a', Readable.from([data.subarray(0, 1000), data.subarray(1000)]))).toEqual({ size: data.length });
      expect(Buffer.compare(await buffer(await store.get('files/a')), data)).toBe(0);
      expect(Buffer.compare(await buffer(await store.get('files/a', { start: 10, end: 19 })), data.subarray(10, 20))).toBe(0);
      const stat = await store.stat('files/a');
      expect(stat?.size).toBe(data.length);
      expect(stat?.modifiedAt).toBeInstanceOf(Date);
    });

    it('replaces an existing object whole', async () => {
      const { store } = await create();
      await store.put('k', Readable.from([bytes(5000, 1)]));
      await store.put('k', Readable.from([bytes(10, 3)]));
      expect(Buffer.compare(await buffer(await store.get('k')), bytes(10, 3))).toBe(0);
    });

    it('leaves nothing when the body fails midway, and keeps the previous object', async () => {
      const { store, leftovers } = await create();
      await store.put('k', Readable.from([bytes(100)]));
      await expect(store.put('k', failingBody(bytes(70_000, 5)))).rejects.toThrow('client went away');
      await expect(store.put('other', failingBody(bytes(70_000, 5)))).rejects.toThrow('client went away');
      expect(Buffer.compare(await buffer(await store.get('k')), bytes(100))).toBe(0);
      expect(await store.stat('other')).toBeNull();
      expect(await leftovers()).toBe(0);
    });

    it('stores a non-durable object whole and atomically, and leaves nothing when its body fails', async () => {
      const { store, leftovers } = await create();
      await store.put('derived/v/a.jpg', Readable.from([bytes(100)]));
      expect(await store.put('derived/v/a.jpg', Readable.from([bytes(70_000, 3)]), { durable: false })).toEqual({ size: 70_000 });
      expect(Buffer.compare(await buffer(await store.get('derived/v/a.jpg')), bytes(70_000, 3))).toBe(0);
      await expect(store.put('derived/v/a.jpg', failingBody(bytes(70_000, 5)), { durable: false })).rejects.toThrow('client went away');
      expect(Buffer.compare(await buffer(await store.get('derived/v/a.jpg')), bytes(70_000, 3))).toBe(0);
      expect(await leftovers()).toBe(0);
    });

    it('stops at maxBytes and leaves nothing', async () => {
      const { store, leftovers } = await create();
      await expect(store.put('big', Readable.from([bytes(600), bytes(600)]), { maxBytes: 1000 })).rejects.toBeInstanceOf(BlobTooLargeError);
      expect(await store.stat('big')).toBeNull();
      expect(await leftovers()).toBe(0);
      expect(await store.put('fits', Readable.from([bytes(1000)]), { maxBytes: 1000 })).toEqual({ size: 1000 });
    });

    it('reports missing objects, deletes idempotently, lists by prefix', async () => {
      const { store } = await create();
      await expect(store.get('nope')).rejects.toBeInstanceOf(BlobNotFoundError);
      expect(await store.stat('nope')).toBeNull();
      await store.delete('nope');
      for (const key of ['files/1', 'files/2', 'thumbnails/1.webp']) await store.put(key, Readable.from([bytes(3)]));
      expect(await keys(store, 'files/')).toEqual(['files/1', 'files/2']);
      expect(await keys(store)).toEqual(['files/1', 'files/2', 'thumbnails/1.webp']);
      await store.delete('files/1');
      expect(await keys(store, 'files/')).toEqual(['files/2']);
    });

    it('never sweeps committed objects as temp objects, whatever the cutoff', async () => {
      const { store, leftovers } = await create();
      await store.put('files/kept', Readable.from([bytes(10)]));
      expect(await store.sweepIncomplete(new Date(Date.now() + 60_000))).toBe(0);
      expect(Buffer.compare(await buffer(await store.get('files/kept')), bytes(10))).toBe(0);
      expect(await leftovers()).toBe(0);
    });

    it('refuses keys that could escape the store', async () => {
      const { store } = await create();
      for (const key of ['../x', '/abs', 'a/../../b', 'a//b', '', 'a b']) {
        await expect(store.put(key, Readable.from([bytes(1)]))).rejects.toThrow(/Invalid blob key/);
      }
    });
  });
}
