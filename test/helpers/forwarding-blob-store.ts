import type { Readable } from 'node:stream';
import type { BlobInfo, BlobStore, ByteRange, PutOptions } from '../../src/storage/blob-store.js';

/**
 * A blob store that hands every call to `inner`, for tests to extend with what they watch or hold back. It has no
 * `localPath`, so the app sees it as a remote store (S3) unless a subclass adds one.
 */
export class ForwardingBlobStore implements BlobStore {
  constructor(readonly inner: BlobStore) {}

  put(key: string, body: Readable, options?: PutOptions): Promise<{ size: number }> {
    return this.inner.put(key, body, options);
  }
  get(key: string, range?: ByteRange): Promise<Readable> {
    return this.inner.get(key, range);
  }
  stat(key: string): Promise<BlobInfo | null> {
    return this.inner.stat(key);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  list(prefix: string): AsyncIterable<BlobInfo> {
    return this.inner.list(prefix);
  }
  sweepIncomplete(olderThan: Date): Promise<number> {
    return this.inner.sweepIncomplete(olderThan);
  }
}
