import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { ByteLimit } from './byte-limit.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './private-files.js';
import {
  assertValidKey,
  type BlobInfo,
  BlobNotFoundError,
  type BlobStore,
  BlobTooLargeError,
  type ByteRange,
  type PutOptions,
} from './blob-store.js';

const TEMP_DIR = '.incomplete';

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/** Runs `attempt`; when it fails because a directory is missing, creates `dir` (0700) and runs it once more. */
async function withDirectory<T>(dir: string, attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (!isMissing(error)) throw error;
    await fs.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    return attempt();
  }
}

/**
 * Blobs as files under one directory; writes go to a temp file, are fsynced (unless not `durable`), then renamed into place.
 * Directories are 0700 and files 0600: only the user running Stowage can read them.
 */
export class LocalBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  private pathOf(key: string): string {
    assertValidKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<{ size: number }> {
    const finalPath = this.pathOf(key);
    const tempDir = path.join(this.root, TEMP_DIR);
    const tempPath = path.join(tempDir, `${Date.now()}-${randomBytes(8).toString('hex')}`);
    let file: FileHandle;
    try {
      // Directories are created only when missing: most puts go to ones that exist.
      file = await withDirectory(tempDir, () => fs.open(tempPath, 'wx', PRIVATE_FILE_MODE));
    } catch (error) {
      body.destroy();
      throw error;
    }
    const limit = new ByteLimit(options.maxBytes ?? Number.POSITIVE_INFINITY, (n) => new BlobTooLargeError(n));
    // The stream writes through the handle, fsyncs it when durable (`flush`), then closes it.
    const out = createWriteStream('', { fd: file, flush: options.durable !== false, highWaterMark: 1 << 20 });
    try {
      await pipeline(body, limit, out);
      await withDirectory(path.dirname(finalPath), () => fs.rename(tempPath, finalPath));
      return { size: limit.bytes };
    } catch (error) {
      body.destroy();
      out.destroy();
      if (!out.closed) await once(out, 'close').catch(() => {});
      await fs.rm(tempPath, { force: true });
      throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const file = this.pathOf(key);
    return new Promise((resolve, reject) => {
      const stream = createReadStream(file, range ? { start: range.start, end: range.end } : {});
      stream.once('open', () => resolve(stream));
      stream.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'ENOENT' ? new BlobNotFoundError(key) : err),
      );
    });
  }

  localPath(key: string): string {
    return this.pathOf(key);
  }

  async stat(key: string): Promise<BlobInfo | null> {
    try {
      const s = await fs.stat(this.pathOf(key));
      return s.isFile() ? { key, size: s.size, modifiedAt: s.mtime } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.pathOf(key), { force: true });
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    yield* this.walk(this.root, '', prefix);
  }

  private async *walk(dir: string, keyPrefix: string, wanted: string): AsyncIterable<BlobInfo> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const entry of entries) {
      if (keyPrefix === '' && entry.name === TEMP_DIR) continue;
      const key = keyPrefix + entry.name;
      if (entry.isDirectory()) {
        const asDir = `${key}/`;
        if (asDir.startsWith(wanted) || wanted.startsWith(asDir)) yield* this.walk(path.join(dir, entry.name), asDir, wanted);
      } else if (entry.isFile() && key.startsWith(wanted)) {
        const s = await fs.stat(path.join(dir, entry.name));
        yield { key, size: s.size, modifiedAt: s.mtime };
      }
    }
  }

  async sweepIncomplete(olderThan: Date): Promise<number> {
    const tempDir = path.join(this.root, TEMP_DIR);
    let removed = 0;
    for (const name of await fs.readdir(tempDir).catch(() => [] as string[])) {
      const file = path.join(tempDir, name);
      const s = await fs.stat(file).catch(() => null);
      if (s && s.mtime < olderThan) {
        await fs.rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }
}
