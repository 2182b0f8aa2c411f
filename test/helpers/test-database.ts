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

/** The PostgreSQL every machine runs (trust auth); `test` is a database that always exists there. */
export const LOCAL_POSTGRES = 'postgres://postgres@127.0.0.1:5432';

async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Whether the machine's PostgreSQL answers (tests that need it whatever the run's database skip, saying so, when not). */
export async function localPostgresReachable(): Promise<boolean> {
  return withClient(runDatabaseUrl() ?? `${LOCAL_POSTGRES}/test`, async () => true).catch(() => false);
}

/**
 * A PostgreSQL library for several apps or processes to share, on every run: a schema of its own in the run's
 * database when the suite runs on PostgreSQL, otherwise in a database of its own on the local server. `drop` removes
 * what it created.
 */
export async function createSharedPostgresLibrary(label: string): Promise<{ url: string; schema: string; env: Record<string, string>; drop(): Promise<void> }> {
  const schema = `${label}_${randomBytes(4).toString('hex')}`;
  const run = runDatabaseUrl();
  if (run) {
    return {
      url: run,
      schema,
      env: { STOWAGE_DATABASE_URL: run, STOWAGE_DATABASE_SCHEMA: schema },
      drop: () => withClient(run, (c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)).then(() => {}),
    };
  }
  const name = `stowage_${label}_${process.pid}_${Date.now().toString(36)}`;
  await withClient(`${LOCAL_POSTGRES}/test`, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = `${LOCAL_POSTGRES}/${name}`;
  return {
    url,
    schema,
    env: { STOWAGE_DATABASE_URL: url, STOWAGE_DATABASE_SCHEMA: schema },
    drop: () => withClient(`${LOCAL_POSTGRES}/test`, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}
