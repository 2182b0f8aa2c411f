import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { postgresDialect } from '../dialect/postgres.js';
import { postgresTables } from '../tables.js';
import { exclusively, type TransactionOptions, type Transactor } from '../transactor.js';
import type { PgDb } from './client.js';

/** The advisory-lock key of `name` within `namespace` (a 64-bit hash; a collision only serialises two transactions). */
const lockKey = (namespace: string, name: string) => sql`hashtextextended(${`${namespace}:${name}`}, 0)`;

/**
 * Takes the transaction-scoped advisory locks that give PostgreSQL the serialisation SQLite's `BEGIN IMMEDIATE`
 * gives: an `immediate` transaction naming locks takes the library-wide lock shared and its own locks exclusively
 * (sorted, so two transactions never wait for each other); one naming none takes the library-wide lock exclusively.
 */
async function takeLocks(tx: PgDb, namespace: string, options: TransactionOptions): Promise<void> {
  if (options.behavior !== 'immediate') return;
  const all = lockKey(namespace, '*');
  const names = [...new Set(options.locks ?? [])].sort();
  if (names.length === 0) {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${all})`);
    return;
  }
  await tx.execute(sql`SELECT pg_advisory_xact_lock_shared(${all})`);
  for (const name of names) await tx.execute(sql`SELECT pg_advisory_xact_lock(${lockKey(namespace, name)})`);
}

/**
 * The PostgreSQL transactor over a pool (as `openPostgres` opens it): transactions each on a connection of their
 * own, concurrently, serialised where they name the same locks; reads and writes outside transactions on the pool.
 * `namespace` (the schema) scopes the advisory locks, so libraries sharing a database never wait for each other.
 */
export function createPostgresTransactor(db: PgDb, namespace: string): Transactor {
  const owner = {};
  const neutral = (handle: unknown) => handle as Db;
  const pg = (handle: Db) => handle as unknown as PgDb;
  return {
    dialect: postgresDialect,
    tables: postgresTables,
    reader: neutral(db),
    transaction: (fn, options = {}) =>
      exclusively(owner, () =>
        db.transaction(async (tx) => {
          await takeLocks(tx as unknown as PgDb, namespace, options);
          return fn(neutral(tx));
        }),
      ),
    write: (fn) => exclusively(owner, async () => fn(neutral(db))),
    rows: async <T>(handle: Db, query: SQL) => (await pg(handle).execute(query)).rows as T[],
    execute: async (handle, query) => {
      await pg(handle).execute(query);
    },
    close: async () => {},
  };
}
