import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { FileRepo } from '../../src/db/repos/file-repo.js';
import { createSqliteTransactor, type Transactor } from '../../src/db/transactor.js';
import { DerivativeCache } from '../../src/delivery/derivative-cache.js';
import { derivativeKey } from '../../src/storage/blob-keys.js';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.js';
import { ManualClock } from '../helpers/manual-clock.js';

const opened: (() => void)[] = [];
afterEach(() => {
  for (const close of opened.splice(0)) close();
});

/** One library (database + store) with a version `v1` to make derivatives of. */
async function library(): Promise<{ transactor: Transactor; store: MemoryBlobStore }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stowage-derivative-cache-'));
  const { db, close } = openDatabase(path.join(dir, 'stowage.db'));
  const transactor = createSqliteTransactor(db);
  opened.push(() => (transactor.close(), close(), fs.rmSync(dir, { recursive: true, force: true })));
  const at = new Date(1_700_000_000_000);
  const files = new FileRepo(transactor);
  await transactor.transaction(async (tx) => {
    const q = files.inTx(tx);
    await q.ensureFolders('/', at);
    await q.insertFile({ id: 'f1', filePath: '/a.jpg', folderPath: '/', name: 'a.jpg', currentVersionId: 'v1', versionCounter: 1, createdAt: at, updatedAt: at });
    await q.insertVersion({ id: 'v1', fileId: 'f1', number: 1, isCurrent: true, folderPath: '/', name: 'a.jpg', blobKey: 'files/v1', size: 1, mime: 'image/jpeg', fileType: 'image', isPrivateFile: false, isPublished: true, createdAt: at, updatedAt: at });
  });
  return { transactor, store: new MemoryBlobStore() };
}

/** Two processes' caches over one library, capped at 3,000 bytes, on a clock the test moves. */
async function twoProcesses() {
  const { transactor, store } = await library();
  const clock = new ManualClock(1_700_000_000_000);
  const options = { maxBytes: 3000, log: pino({ level: 'silent' }), clock };
  return { a: new DerivativeCache(transactor, store, options), b: new DerivativeCache(transactor, store, options), clock, store };
}

const put = (cache: DerivativeCache, n: number, bytes: number) => cache.put(derivativeKey('v1', `w-${n}`, 'jpg'), Readable.from([Buffer.alloc(bytes, n)]));
const stored = async (store: MemoryBlobStore) => {
  const keys: string[] = [];
  for await (const blob of store.list('derived/')) keys.push(blob.key);
  return keys.length;
};

describe('the derivative cache cap', () => {
  it('evicts as soon as this process passes the cap by its own count (what it read last, plus its own stores)', async () => {
    const { a, b, clock, store } = await twoProcesses();

    await put(a, 1, 1000);
    clock.advance(1);
    await put(a, 2, 1000);
    clock.advance(1);
    await put(b, 3, 1000);
    clock.advance(1);
    // b's store is not in a's running total yet: the ledger holds 4000 bytes for now.
    await put(a, 4, 500);
    expect(await a.totalBytes()).toBe(3500);
    clock.advance(1);
    // Past the cap by its own count: a reads the ledger again and evicts the least recently used.
    await put(a, 5, 1000);
    expect(await a.totalBytes()).toBeLessThanOrEqual(3000);
    expect(await stored(store)).toBe(3);

  });

  it('reads the total again after 10 s, so what other processes stored meanwhile is evicted then', async () => {
    const { a, b, clock } = await twoProcesses();
    await put(a, 1, 100);
    await put(b, 2, 100);
    clock.advance(1);
    await put(b, 3, 2800);
    clock.advance(1);
    await put(a, 4, 200);
    // Each counts itself under the cap: over it, until one of them reads the total again.
    expect(await a.totalBytes()).toBe(3200);
    clock.advance(10_000);
    await put(a, 5, 1);
    expect(await a.totalBytes()).toBeLessThanOrEqual(3000);
  });
});
