import pg from 'pg';

/**
 * Vitest global setup for running the suite on PostgreSQL: when `STOWAGE_TEST_DATABASE_URL` names a server (any
 * database on it, e.g. postgres://postgres@127.0.0.1:5432/test), this run creates a database of its own there,
 * hands it to the test processes as `STOWAGE_TEST_RUN_DATABASE_URL`, and drops it when the run ends, so runs never
 * share state. Without the variable the suite runs on SQLite and this does nothing.
 */
export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  const serverUrl = process.env.STOWAGE_TEST_DATABASE_URL;
  if (!serverUrl) return undefined;
  const name = `stowage_run_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const runUrl = new URL(serverUrl);
  runUrl.pathname = `/${name}`;
  process.env.STOWAGE_TEST_RUN_DATABASE_URL = runUrl.toString();
  return async () => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
  };
}
