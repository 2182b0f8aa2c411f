import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Where test apps keep their metadata: SQLite in their data directory, or (when the suite runs on PostgreSQL, see
 * `test/setup/postgres-run-database.ts`) a schema of their own in the run's database, so apps never share a library.
 */
export interface TestDatabase {
  /** The environment that selects it (empty on SQLite). */
  env: Record<string, string>;
  /** Drops what it created (nothing on SQLite). */
  drop(): Promise<void>;
}

/** The run's PostgreSQL database, when the suite runs on PostgreSQL. */
export const runDatabaseUrl = (): string | undefined => process.env.STOWAGE_TEST_RUN_DATABASE_URL;

/** Whether this run keeps metadata on PostgreSQL. */
export const onPostgres = (): boolean => runDatabaseUrl() !== undefined;

export function createTestDatabase(): TestDatabase {
  const url = runDatabaseUrl();
  if (!url) return { env: {}, drop: async () => {} };
  const schema = `app_${randomBytes(6).toString('hex')}`;
  return {
    env: { STOWAGE_DATABASE_URL: url, STOWAGE_DATABASE_SCHEMA: schema },
    async drop() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
