import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { ensurePrivateFile, tightenMode } from '../storage/private-files.js';
import * as schema from './schema.js';

export type Db = BetterSQLite3Database<typeof schema>;

/**
 * The handle `db.transaction` gives its callback: the one transaction type every module uses.
 * Synchronous for now (better-sqlite3); it becomes the async dialect-neutral transaction with async transactions.
 */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** The database or a transaction in progress: what a query that may run inside either one takes. */
export type DbOrTx = Db | Tx;

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
export function openDatabase(file: string): { db: Db; close: () => void } {
  ensurePrivateFile(file);
  for (const companion of ['-wal', '-shm', '-journal']) tightenMode(`${file}${companion}`);
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  sqlite.pragma('analysis_limit = 1000');
  sqlite.pragma('optimize = 0x10002');
  const timer = setInterval(() => sqlite.pragma('optimize'), OPTIMIZE_EVERY_MS).unref();
  return {
    db,
    close: () => {
      clearInterval(timer);
      sqlite.pragma('optimize');
      sqlite.close();
    },
  };
}
