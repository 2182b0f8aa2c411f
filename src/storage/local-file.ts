import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from './blob-store.js';
import { PRIVATE_FILE_MODE } from './private-files.js';

/**
 * Runs `fn` with a path on local disk holding the blob's bytes (tools like ffprobe and sharp want a seekable
 * file): the store's own file when it has one, else a temp copy removed afterwards.
 */
export async function withLocalFile<T>(store: BlobStore, key: string, fn: (file: string) => Promise<T>): Promise<T> {
  const direct = store.localPath?.(key);
  if (direct) return fn(direct);
  return withTempDir('blob', async (dir) => {
    const file = path.join(dir, 'blob');
    await pipeline(await store.get(key), createWriteStream(file, { mode: PRIVATE_FILE_MODE }));
    return fn(file);
  });
}

/** Runs `fn` with a fresh temp directory (`stowage-<purpose>-…`, 0700), removed with all it holds afterwards. */
export async function withTempDir<T>(purpose: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `stowage-${purpose}-`));
  try {
    return await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
