import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { createSqliteTransactor } from '../../src/db/transactor.js';
import { createReadinessCheck } from '../../src/http/health.js';
import type { BlobInfo, BlobStore, ByteRange, PutOptions } from '../../src/storage/blob-store.js';
import { LocalBlobStore } from '../../src/storage/local-blob-store.js';
import type { Readable } from 'node:stream';
import { appDatabaseRows, executeOnAppDatabase, sqliteFileOf } from '../helpers/app-database.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { onPostgres } from '../helpers/test-database.js';

/** The local store, until `fail` makes every lookup fail as a lost mount or a revoked permission would. */
class BreakableStore implements BlobStore {
  private readonly inner: LocalBlobStore;
  failure: Error | undefined;

  constructor(readonly root: string) {
    this.inner = new LocalBlobStore(root);
  }

  async stat(key: string): Promise<BlobInfo | null> {
    if (this.failure) throw this.failure;
    return this.inner.stat(key);
  }
  put(key: string, body: Readable, options?: PutOptions) {
    return this.inner.put(key, body, options);
  }
  get(key: string, range?: ByteRange) {
    return this.inner.get(key, range);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  list(prefix: string): AsyncIterable<BlobInfo> {
    return this.inner.list(prefix);
  }
  localPath(key: string) {
    return this.inner.localPath(key);
  }
  sweepIncomplete(before: Date) {
    return this.inner.sweepIncomplete(before);
  }
}

const readyz = async (app: TestApp) => {
  const res = await fetch(`${app.url}/readyz`);
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text), headers: res.headers };
};

let t: TestApp;
let store: BreakableStore;
let storeDir: string;
beforeAll(async () => {
  storeDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-readiness-'));
  store = new BreakableStore(storeDir);
  t = await startTestApp({}, { store });
});
afterAll(async () => {
  await t.close();
  await fs.rm(storeDir, { recursive: true, force: true });
});

describe('/healthz and /readyz', () => {
  it('answer without credentials: alive, and ready with every part checked', async () => {
    const health = await fetch(`${t.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok');
    const ready = await readyz(t);
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { database: 'ok', blobStore: 'ok', migrations: 'ok' } });
    expect(ready.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(ready.headers.get('cache-control')).toBe('no-store');
  });

  it('answers 503 naming the blob store when it fails, without the path its error names', async () => {
    store.failure = Object.assign(new Error(`EACCES: permission denied, stat '${storeDir}/readiness-probe'`), { code: 'EACCES' });
    try {
      const ready = await readyz(t);
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({
        status: 'not ready',
        checks: { database: 'ok', blobStore: 'the blob store did not answer (EACCES)', migrations: 'ok' },
        failing: ['blobStore'],
      });
      expect(ready.text).not.toContain(storeDir);
      // Liveness is not readiness: the process itself is fine.
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    } finally {
      store.failure = undefined;
    }
    expect((await readyz(t)).status).toBe(200);
  });

  it.skipIf(onPostgres())(`answers 503 naming the database when its file is deleted under the running server${onPostgres() ? ' (skipped: SQLite only, PostgreSQL keeps no file in the data directory)' : ''}`, async () => {
    const app = await startTestApp();
    try {
      // SQLite keeps writing into the deleted file, and everything written is gone at the next start.
      await fs.rm(sqliteFileOf(app));
      const ready = await readyz(app);
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ status: 'not ready', failing: ['database'], checks: { database: 'the database file was deleted or replaced while in use', blobStore: 'ok' } });
      expect(ready.text).not.toContain(app.dataDir);
      expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('answers 503 naming the migrations when the database lacks one (restored from an older backup)', async () => {
    const app = await startTestApp();
    try {
      // drizzle's record of applied migrations: in the data directory's file, or in the app's schema on PostgreSQL.
      await executeOnAppDatabase(app, 'delete from __drizzle_migrations where created_at = (select max(created_at) from __drizzle_migrations)');
      const [applied] = await appDatabaseRows<{ n: number }>(app, 'select count(*) as n from __drizzle_migrations');
      const total = Number(applied?.n) + 1;
      const ready = await readyz(app);
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({
        status: 'not ready',
        checks: { database: 'ok', blobStore: 'ok', migrations: `1 of ${total} migrations are not applied; restarting applies them` },
        failing: ['migrations'],
      });
    } finally {
      await app.close();
    }
  });
});

describe('readiness check', () => {
  it('fails a part that does not answer in time, and a database that no longer answers', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stowage-readiness-'));
    try {
      const databaseFile = path.join(dir, 'stowage.db');
      const { db, close } = openDatabase(databaseFile);
      const hanging = new BreakableStore(dir);
      hanging.stat = () => new Promise(() => {});
      const transactor = createSqliteTransactor(db);
      const check = createReadinessCheck({ transactor, databaseFile, store: hanging, timeoutMs: 20 });
      expect(await check()).toEqual({
        status: 'not ready',
        checks: { database: 'ok', blobStore: 'the blob store did not answer within 20 ms', migrations: 'ok' },
        failing: ['blobStore'],
      });
      await transactor.close();
      close();
      const closed = await check();
      expect(closed.failing).toEqual(['database', 'blobStore', 'migrations']);
      expect(closed.checks).toMatchObject({ database: 'the database did not answer', migrations: 'the applied migrations could not be read' });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
