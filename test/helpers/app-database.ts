import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Config } from '../../src/config.js';

/** PostgreSQL's bigint type (what `count(*)` returns). */
const INT8 = 20;

/** What the helpers need of a test app: its configuration (where its database is). */
export interface HasDatabase {
  config: Pick<Config, 'dataDir' | 'database'>;
}

/** A test app's SQLite file (in the data directory it was configured with). */
export const sqliteFileOf = (t: HasDatabase): string => path.join(t.config.dataDir, 'stowage.db');

/**
 * The environment that points another app (a second process) at the same database as `t`: the same PostgreSQL
 * database and schema, or nothing on SQLite, where sharing the data directory shares the file.
 */
export function sameDatabaseEnv(t: HasDatabase): Record<string, string> {
  const { database } = t.config;
  return database.kind === 'postgres' ? { STOWAGE_DATABASE_URL: database.url, STOWAGE_DATABASE_SCHEMA: database.schema } : {};
}

/**
 * Runs `query` on a connection of its own to the app's database (its SQLite file, or its schema, as `search_path`,
 * on PostgreSQL), so unqualified table names mean the app's tables on either dialect. Numbers come back as numbers
 * (PostgreSQL's `count(*)` is a bigint, which `pg` returns as a string).
 */
async function run<T>(t: HasDatabase, query: string, readonly: boolean): Promise<T[]> {
  const { database } = t.config;
  if (database.kind === 'sqlite') {
    const db = new Database(sqliteFileOf(t), { readonly, fileMustExist: true });
    try {
      const statement = db.prepare(query);
      if (statement.reader) return statement.all() as T[];
      statement.run();
      return [];
    } finally {
      db.close();
    }
  }
  const options = `-c search_path=${database.schema}${readonly ? ' -c default_transaction_read_only=on' : ''}`;
  const client = new pg.Client({ connectionString: database.url, options });
  await client.connect();
  try {
    const result = await client.query(query);
    const bigints = new Set(result.fields.filter((field) => field.dataTypeID === INT8).map((field) => field.name));
    return result.rows.map((row: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(row).map(([key, value]) => [key, bigints.has(key) && typeof value === 'string' ? Number(value) : value])),
    ) as T[];
  } finally {
    await client.end();
  }
}

/** The rows a read-only `query` returns from the app's database, on SQLite or PostgreSQL. */
export const appDatabaseRows = <T = Record<string, unknown>>(t: HasDatabase, query: string): Promise<T[]> => run<T>(t, query, true);

/** Runs a writing statement (no parameters) on the app's database, on SQLite or PostgreSQL. */
export async function executeOnAppDatabase(t: HasDatabase, statement: string): Promise<void> {
  await run(t, statement, false);
}
