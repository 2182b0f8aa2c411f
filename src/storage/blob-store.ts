import type { Readable } from 'node:stream';

/** An inclusive byte range, as in an HTTP `Range: bytes=start-end` header. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobInfo {
  key: string;
  size: number;
  modifiedAt: Date;
}

export interface PutOptions {
  /** Abort the write (and leave nothing behind) once more than this many bytes arrive. */
  maxBytes?: number;
  /**
   * `false` for bytes that can be rebuilt (derivatives): the object may be served before it is flushed to disk, so an
   * OS crash or power loss soon after can lose it. It is still replaced atomically. Stores that are durable anyway ignore it.
   */
  durable?: boolean;
}

/**
 * Where file bytes live. Keys are `/`-separated, made of `[A-Za-z0-9._-]` segments.
 * Every implementation runs the contract suite in `test/contract/blob-store.contract.ts`.
 */
export interface BlobStore {
  /**
   * Streams `body` into `key`. The object becomes visible only once the whole body is written and durable (unless `durable: false`);
   * if the body errors, is cut short or exceeds `maxBytes`, the call rejects and no object (partial or temp)
   * remains. An existing object at `key` is replaced atomically.
   * @throws BlobTooLargeError when `maxBytes` is exceeded; the body's own error otherwise.
   */
  put(key: string, body: Readable, options?: PutOptions): Promise<{ size: number }>;

  /**
   * Opens the object for reading, optionally only `range`.
   * @throws BlobNotFoundError
   */
  get(key: string, range?: ByteRange): Promise<Readable>;

  /** Size and modification time, or `null` when there is no such object. */
  stat(key: string): Promise<BlobInfo | null>;

  /** Deletes the object; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;

  /** Every object whose key starts with `prefix`, in no particular order. */
  list(prefix: string): AsyncIterable<BlobInfo>;

  /**
   * Optional: where the object lies on local disk, for stores that keep files there (tools that need a
   * seekable file use it; other stores are copied to a temp file, see `withLocalFile`).
   */
  localPath?(key: string): string;

  /**
   * Removes temp objects (writes in progress or interrupted by a crash) last written to before `olderThan`;
   * returns how many. Committed objects are never touched. A write still receiving bytes keeps its temp object
   * fresh, so a cutoff in the past leaves writes in progress alone (the janitor passes now minus its grace period).
   */
  sweepIncomplete(olderThan: Date): Promise<number>;
}

export class BlobNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`No blob at key "${key}"`);
    this.name = 'BlobNotFoundError';
  }
}

export class BlobTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`Blob exceeds ${limitBytes} bytes`);
    this.name = 'BlobTooLargeError';
  }
}

const KEY_PATTERN = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** @throws Error when `key` could escape the store (empty, absolute, `.`/`..` segments, other characters). */
export function assertValidKey(key: string): void {
  if (!KEY_PATTERN.test(key) || key.split('/').some((s) => s === '.' || s === '..')) {
    throw new Error(`Invalid blob key "${key}"`);
  }
}
