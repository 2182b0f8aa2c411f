import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { ensurePrivateFile, tightenMode } from '../storage/private-files.js';
import * as schema from './schema.js';
import { cacheStatements } from './statement-cache.js';

/** A better-sqlite3 connection as `openDatabase` opens it: SQLite-specific code (opening, the transactor) only. */
export type SqliteDb = BetterSQLite3Database<typeof schema>;

/**
 * A connection (or pool) of either dialect, as repositories see it: drizzle's query builder, every query awaited.
 * It is typed as SQLite's async builder, whose API is the part PostgreSQL's shares; the synchronous `.get()`,
 * `.all()`, `.run()` and `.values()` do not exist on PostgreSQL and must not be used. Tables come from
 * `Transactor.tables`, raw SQL runs through `Transactor.rows`/`execute`.
 */
export type Db = BaseSQLiteDatabase<'async', unknown, typeof schema>;

/**
 * The handle a transaction's callback gets (see `Transactor.transaction`): the one transaction type every module uses.
 * On SQLite it is the writer connection itself, which the transactor keeps to the transaction while it is open.
 */
export type Tx = Db;

/** The database or a transaction in progress: what a query that may run inside either one takes. */
export type DbOrTx = Db;

/** The folder of drizzle's migrations, applied by `openDatabase`. */
export const MIGRATIONS_FOLDER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drizzle');

/** How often the query planner's statistics are refreshed (`PRAGMA optimize`) while running. */
const OPTIMIZE_EVERY_MS = 10 * 60 * 1000;

/**
 * Opens (creating if needed) the SQLite database with WAL and foreign keys, and applies pending migrations.
 * Planner statistics are kept fresh: without them SQLite picks e.g. the `size` index for `size > 1kb` and sorts
 * every match, instead of walking the sort index and stopping after one page.
 * The file is made 0600 before SQLite opens it: SQLite gives its -wal and -shm files the database file's mode.
 */
export function openDatabase(file: string): { db: SqliteDb; close: () => void } {
  ensurePrivateFile(file);
  for (const companion of ['-wal', '-shm', '-journal']) tightenMode(`${file}${companion}`);
  const sqlite = connect(file, false);
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  sqlite.pragma('analysis_limit = 1000');
  sqlite.pragma('optimize = 0x10002');
  // Skipped while an async transaction is open on this connection: the statistics would join (and share the fate of) it.
  const optimize = () => {
    if (!sqlite.inTransaction) sqlite.pragma('optimize');
  };
  const timer = setInterval(optimize, OPTIMIZE_EVERY_MS).unref();
  return {
    db,
    close: () => {
      clearInterval(timer);
      optimize();
      sqlite.close();
    },
  };
}

/**
 * Opens a read-only connection to a database `openDatabase` has opened (and migrated) in this process: the one
 * reads outside transactions use, so they never see another request's uncommitted rows nor wait for its commit
 * (WAL). A write through it fails at once instead of competing for the write lock.
 */
export function openReader(file: string): { db: SqliteDb; close: () => void } {
  const sqlite = connect(file, true);
  return { db: drizzle(sqlite, { schema }), close: () => sqlite.close() };
}

/** A connection with the pragmas every connection to the database has. */
function connect(file: string, readonly: boolean): Database.Database {
  const sqlite = new Database(file, { readonly, fileMustExist: readonly });
  if (!readonly) sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  cacheStatements(sqlite);
  return sqlite;
}

/** The file a better-sqlite3 handle has open (drizzle keeps the driver's handle as `$client`, untyped on `Db`). */
export const databaseFileOf = (db: SqliteDb): string => clientOf(db).name;

/** The better-sqlite3 connection under a drizzle handle. */
export const clientOf = (db: SqliteDb): Database.Database => (db as SqliteDb & { $client: Database.Database }).$client;
