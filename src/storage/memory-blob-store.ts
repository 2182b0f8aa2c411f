import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { ByteLimit } from './byte-limit.js';
import {
  assertValidKey,
  type BlobInfo,
  BlobNotFoundError,
  type BlobStore,
  BlobTooLargeError,
  type ByteRange,
  type PutOptions,
} from './blob-store.js';

/** Blobs in a Map; for tests and throwaway instances. */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, { data: Buffer; modifiedAt: Date }>();

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<{ size: number }> {
    assertValidKey(key);
    const chunks: Buffer[] = [];
    const limit = new ByteLimit(options.maxBytes ?? Number.POSITIVE_INFINITY, (n) => new BlobTooLargeError(n));
    try {
      await pipeline(
        body,
        limit,
        new Writable({
          write(chunk: Buffer, _enc, cb) {
            chunks.push(chunk);
            cb();
          },
        }),
      );
    } catch (error) {
      body.destroy();
      throw error;
    }
    const data = Buffer.concat(chunks);
    this.blobs.set(key, { data, modifiedAt: new Date() });
    return { size: data.length };
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    assertValidKey(key);
    const blob = this.blobs.get(key);
    if (!blob) throw new BlobNotFoundError(key);
    const data = range ? blob.data.subarray(range.start, range.end + 1) : blob.data;
    return Readable.from([data]);
  }

  async stat(key: string): Promise<BlobInfo | null> {
    assertValidKey(key);
    const blob = this.blobs.get(key);
    return blob ? { key, size: blob.data.length, modifiedAt: blob.modifiedAt } : null;
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    this.blobs.delete(key);
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    for (const [key, blob] of [...this.blobs]) {
      if (key.startsWith(prefix)) yield { key, size: blob.data.length, modifiedAt: blob.modifiedAt };
    }
  }

  /** Writes land whole in one step here: there is never a temp object to remove. */
  async sweepIncomplete(): Promise<number> {
    return 0;
  }
}
