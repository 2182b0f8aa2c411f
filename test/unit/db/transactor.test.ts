import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDb, type Tx } from '../../../src/db/client.js';
import { createSqliteTransactor, NestedTransactionError, type Transactor } from '../../../src/db/transactor.js';

const opened: (() => void)[] = [];
afterEach(() => {
  for (const close of opened.splice(0).reverse()) close();
});

/** A migrated database with a scratch table `t(n)`, and a transactor on it. */
function open(): { db: SqliteDb; file: string; transactor: Transactor } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stowage-transactor-'));
  const file = path.join(dir, 'stowage.db');
  const { db, close } = openDatabase(file);
  opened.push(() => fs.rmSync(dir, { recursive: true, force: true }), close);
  db.run(sql`CREATE TABLE t (n INTEGER NOT NULL)`);
  const transactor = createSqliteTransactor(db);
  opened.push(() => transactor.close());
  return { db, file, transactor };
}

/** The SQLite connection under a transactor's handle, for raw statements run synchronously. */
const sync = (db: Tx) => db as unknown as SqliteDb;
const values = (db: Tx): number[] => sync(db).all<{ n: number }>(sql`SELECT n FROM t ORDER BY rowid`).map((r) => r.n);
const insert = (db: Tx, n: number) => sync(db).run(sql`INSERT INTO t (n) VALUES (${n})`);
/** Lets every other pending callback run, as awaiting real I/O would. */
const yieldToOthers = () => new Promise((resolve) => setImmediate(resolve));

describe('SQLite transactor', () => {
  it('commits what the callback did, and rolls everything back when it throws', async () => {
    const { transactor } = open();
    await transactor.transaction(async (tx) => {
      insert(tx, 1);
      await yieldToOthers();
      insert(tx, 2);
    });
    await expect(
      transactor.transaction(async (tx) => {
        insert(tx, 3);
        await yieldToOthers();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(values(transactor.reader)).toEqual([1, 2]);
  });

  it('runs two concurrent transactions one after the other: the second sees the first one committed', async () => {
    const { transactor } = open();
    const next = (tx: Tx) => (sync(tx).get<{ m: number | null }>(sql`SELECT max(n) AS m FROM t`)?.m ?? 0) + 1;
    const step = () =>
      transactor.transaction(
        async (tx) => {
          const n = next(tx);
          await yieldToOthers();
          insert(tx, n);
          await yieldToOthers();
        },
        { behavior: 'immediate' },
      );
    await Promise.all([step(), step(), step()]);
    expect(values(transactor.reader)).toEqual([1, 2, 3]);
  });

  it('makes a write outside a transaction wait for the open one instead of joining it', async () => {
    const { transactor } = open();
    let begun!: () => void;
    let finish!: () => void;
    const began = new Promise<void>((resolve) => (begun = resolve));
    const finishing = new Promise<void>((resolve) => (finish = resolve));
    const rolledBack = transactor.transaction(async (tx) => {
      insert(tx, 1);
      begun();
      await finishing;
      throw new Error('roll back');
    });
    await began;
    // Another request's write, while the transaction is open and awaiting.
    const outside = transactor.write((db) => insert(db, 2));
    await yieldToOthers();
    finish();
    await expect(rolledBack).rejects.toThrow('roll back');
    await outside;
    expect(values(transactor.reader)).toEqual([2]);
  });

  it('reads outside transactions see no uncommitted rows', async () => {
    const { transactor } = open();
    await transactor.transaction(async (tx) => {
      insert(tx, 1);
      await yieldToOthers();
      expect(values(transactor.reader)).toEqual([]);
    });
    expect(values(transactor.reader)).toEqual([1]);
  });

  it('refuses a transaction or a write started inside a transaction', async () => {
    const { transactor } = open();
    await expect(transactor.transaction(async () => transactor.transaction(async () => 1))).rejects.toThrow(NestedTransactionError);
    await expect(transactor.transaction(async () => transactor.write(() => 1))).rejects.toThrow(/inside an open transaction/);
    // The refused transaction left none open behind it.
    await transactor.write((db) => insert(db, 1));
    expect(values(transactor.reader)).toEqual([1]);
  });

  it('lets work a transaction started run its own transactions once that transaction has finished', async () => {
    const { transactor } = open();
    let later: Promise<unknown> | undefined;
    await transactor.transaction(async (tx) => {
      insert(tx, 1);
      // Started inside, run after the commit (as a timer armed inside one would be).
      later = new Promise((resolve) => setTimeout(resolve, 0)).then(() => transactor.transaction(async (inner) => insert(inner, 2)));
    });
    await later;
    expect(values(transactor.reader)).toEqual([1, 2]);
  });

  it('waits for another process holding the write lock (BEGIN IMMEDIATE and the busy timeout)', async () => {
    const { file, transactor } = open();
    // The other process: takes the write lock, inserts, reports, holds the lock a moment, then commits.
    const other = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       const db = new (require(workerData.driver))(workerData.file);
       db.pragma('busy_timeout = 5000');
       db.exec('BEGIN IMMEDIATE');
       db.exec('INSERT INTO t (n) VALUES (1)');
       parentPort.postMessage('locked');
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
       db.exec('COMMIT');
       db.close();`,
      { eval: true, workerData: { file, driver: createRequire(import.meta.url).resolve('better-sqlite3') } },
    );
    const exited = new Promise((resolve) => other.once('exit', resolve));
    await new Promise((resolve) => other.once('message', resolve));
    const seen = await transactor.transaction(
      async (tx) => {
        const n = values(tx).length;
        insert(tx, n + 1);
        return n;
      },
      { behavior: 'immediate' },
    );
    await exited;
    expect(seen).toBe(1);
    expect(values(transactor.reader)).toEqual([1, 2]);
  });
});
