import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline, type Readable, Transform, type TransformCallback, type Writable } from 'node:stream';
import type { BlobStore, PutOptions } from '../storage/blob-store.js';
import { PRIVATE_FILE_MODE } from '../storage/private-files.js';

/** A blob just put into the store, with its bytes on local disk for the tools that want a seekable file (sharp, ffprobe). */
export interface SpooledBlob {
  /** Bytes stored. */
  size: number;
  /** A local file holding exactly the stored bytes: the store's own file when it has one, else the spool. */
  localFile: string;
  /** Removes the spool (nothing for a store's own file); idempotent. `localFile` must not be read afterwards. */
  release(): Promise<void>;
}

/** Spools are directories `<os.tmpdir()>/stowage-spool-XXXXXX` (0700) holding one file (0600); never in the data directory. */
export const SPOOL_DIR_PREFIX = 'stowage-spool-';

const SPOOL_FILE = 'blob';

/**
 * Passes every chunk on and writes it to `copy` as well. The next chunk is taken only once `copy` has written
 * this one and the readable side has room (a Transform holds its write callback while its buffer is full), so the
 * slower of the two consumers sets the pace and at most one chunk plus the readable buffer is held in memory.
 * The end is passed on only once `copy` has finished: whoever reads this stream to its end has a complete copy.
 * An error of `copy` destroys this stream (and so the write downstream); destroying it destroys `copy`.
 */
export class TeeStream extends Transform {
  constructor(private readonly copy: Writable) {
    super();
    copy.on('error', (error) => this.destroy(error));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.push(chunk);
    this.copy.write(chunk, (error) => cb(error ?? null));
  }

  override _flush(cb: TransformCallback): void {
    this.copy.end((error?: Error | null) => cb(error ?? null));
  }

  override _destroy(error: Error | null, cb: (error?: Error | null) => void): void {
    this.copy.destroy();
    cb(error);
  }
}

const noRelease = async () => {};

/**
 * Puts `body` into `store` under `key` (see `BlobStore.put`, with `options`) and keeps a local file of the same
 * bytes for analysis, so nothing is read back from the store. A store that keeps files on local disk (`localPath`)
 * is used as it is, with no copy; for any other store (S3) the bytes are teed into a spool file as they stream
 * (see `TeeStream`), which the caller removes with `release()` once done, on success or failure.
 * When the put fails (the body errors or is aborted, a byte limit is passed, the store fails), the spool is
 * removed and `body` destroyed before the error is rethrown: nothing is left behind.
 * @throws whatever `store.put` throws; an fs error when the spool cannot be created or written.
 */
export async function spoolWhilePutting(store: BlobStore, key: string, body: Readable, options?: PutOptions): Promise<SpooledBlob> {
  const direct = store.localPath?.(key);
  if (direct) {
    const { size } = await store.put(key, body, options);
    return { size, localFile: direct, release: noRelease };
  }
  let dir: string;
  try {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), SPOOL_DIR_PREFIX));
  } catch (error) {
    body.destroy();
    throw error;
  }
  let removed: Promise<void> | undefined;
  const release = () => (removed ??= fs.rm(dir, { recursive: true, force: true }));
  const localFile = path.join(dir, SPOOL_FILE);
  const tee = new TeeStream(createWriteStream(localFile, { flags: 'wx', mode: PRIVATE_FILE_MODE }));
  // An error anywhere destroys both: the store sees it through `tee`, and the source stops being read.
  pipeline(body, tee, () => {});
  try {
    const { size } = await store.put(key, tee, options);
    return { size, localFile, release };
  } catch (error) {
    tee.destroy();
    await release();
    throw error;
  }
}
