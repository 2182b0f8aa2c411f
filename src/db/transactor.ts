import { AsyncLocalStorage } from 'node:async_hooks';
import { type SQL, sql } from 'drizzle-orm';
import { clientOf, type Db, databaseFileOf, openReader, type SqliteDb, type Tx } from './client.js';
import type { SqlDialect } from './dialect/dialect.js';
import { sqliteDialect } from './dialect/sqlite.js';
import { sqliteTables, type Tables } from './tables.js';

/** How a transaction takes the database's write lock. */
export interface TransactionOptions {
  /**
   * `immediate` takes the write lock at the start, so what the transaction reads cannot change before it writes
   * (read-then-write steps such as numbering versions need it); `deferred` (the default) takes it at the first write.
   */
  behavior?: 'immediate' | 'deferred';
  /**
   * With `immediate`: what the transaction reads and writes, as lock names (`file:/a/b.jpg`); transactions naming
   * the same lock run one after the other, and one naming none excludes every other `immediate` transaction. SQLite
   * ignores them (its write lock is one for the whole database); PostgreSQL takes them as advisory locks.
   */
  locks?: readonly string[];
}

/**
 * Runs async transactions and the writes outside them, one at a time on the writer connection, and reads outside
 * transactions on a reader connection.
 *
 * Rule: a transaction holds the write lock while its callback awaits, so its callback does database work only: no
 * blob-store, network or model I/O inside a transaction (do it before, or after the commit).
 */
export interface Transactor {
  /** The SQL that differs between the dialects (search, listing). */
  readonly dialect: SqlDialect;
  /** The tables, as this database's dialect defines them. */
  readonly tables: Tables;
  /** Reads outside transactions: committed rows only, never waiting for an open transaction. */
  readonly reader: Db;
  /**
   * Runs `fn` in a transaction on the writer connection and commits what it did, or rolls it back and rethrows when
   * it throws. Waits (FIFO) until the transaction or write in progress in this process has finished; another process
   * holding the lock is waited for by SQLite's busy timeout.
   * @throws NestedTransactionError when called inside a transaction of this transactor
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Runs `fn` on the writer connection outside any transaction, once none is open: single-statement writes (or a few
   * statements that need not be atomic), which must never run inside another request's open transaction.
   * @throws NestedTransactionError when called inside a transaction of this transactor
   */
  write<T>(fn: (db: Db) => T | Promise<T>): Promise<T>;
  /** Runs raw SQL on `db` (the reader, or a transaction) and returns its rows, as the driver types them. */
  rows<T>(db: Db, query: SQL): Promise<T[]>;
  /** Runs a raw SQL statement on `db` (the writer inside `write`, or a transaction). */
  execute(db: Db, query: SQL): Promise<void>;
  /** Closes the connections the transactor opened itself (the writer belongs to whoever opened it). */
  close(): Promise<void>;
}

/** A transaction or write started from inside a transaction: it would wait for itself, so it is refused. */
export class NestedTransactionError extends Error {
  constructor() {
    super('a transaction (or a write outside it) was started inside an open transaction: pass the open transaction `tx` to the queries instead');
    this.name = 'NestedTransactionError';
  }
}

/** A FIFO async mutex. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/** One mutex per writer connection, so apps sharing one database handle also share its serialisation. */
const mutexes = new WeakMap<object, Mutex>();
const mutexOf = (writer: SqliteDb): Mutex => {
  const client = clientOf(writer);
  let mutex = mutexes.get(client);
  if (!mutex) mutexes.set(client, (mutex = new Mutex()));
  return mutex;
};

/** A transaction (or write) in progress: `open` until it has finished, whatever async work it started lives on. */
interface Held {
  owner: object;
  open: boolean;
}

/** What the current async context holds. */
const holding = new AsyncLocalStorage<readonly Held[]>();

/**
 * Runs `fn` as a transaction (or write) of `owner`, refusing it inside another of the same owner's: that one would
 * wait for itself (SQLite's mutex), or for a lock its own other connection holds (PostgreSQL).
 */
export function exclusively<T>(owner: object, fn: () => Promise<T>): Promise<T> {
  const held = holding.getStore() ?? [];
  if (held.some((h) => h.owner === owner && h.open)) return Promise.reject(new NestedTransactionError());
  const frame = { owner, open: true };
  return holding.run([...held, frame], async () => {
    try {
      return await fn();
    } finally {
      frame.open = false;
    }
  });
}

/** The SQLite transactor over `writer` (as `openDatabase` returns it), with a reader connection of its own. */
export function createSqliteTransactor(writer: SqliteDb): Transactor {
  const reader = openReader(databaseFileOf(writer));
  const mutex = mutexOf(writer);
  const client = clientOf(writer);
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => exclusively(mutex, () => mutex.run(fn));
  const neutral = writer as unknown as Db;
  const sync = (db: Db) => db as unknown as SqliteDb;
  return {
    dialect: sqliteDialect,
    tables: sqliteTables,
    reader: reader.db as unknown as Db,
    transaction: (fn, options = {}) =>
      exclusive(async () => {
        writer.run(options.behavior === 'immediate' ? sql`BEGIN IMMEDIATE` : sql`BEGIN`);
        try {
          const result = await fn(neutral);
          writer.run(sql`COMMIT`);
          return result;
        } catch (error) {
          // Some errors (and a failed COMMIT) may leave it open; SQLite may also have rolled it back already.
          if (client.inTransaction) writer.run(sql`ROLLBACK`);
          throw error;
        }
      }),
    write: (fn) => exclusive(async () => fn(neutral)),
    rows: async <T>(db: Db, query: SQL) => sync(db).all<T>(query),
    execute: async (db, query) => {
      sync(db).run(query);
    },
    close: async () => reader.close(),
  };
}
