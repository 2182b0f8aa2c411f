/**
 * The PostgreSQL side of `npm run bench`: a throwaway database on the server named by `STOWAGE_BENCH_POSTGRES_URL`
 * (default postgres://postgres@127.0.0.1:5432/test; any database on the server, used only to create and drop the
 * throwaway one), which the PostgreSQL rows of (b) and (c) run in, each app in a schema of its own.
 * The database is dropped `WITH (FORCE)` by `drop()`, which the caller runs in a `finally`; on SIGINT/SIGTERM it is
 * dropped before the process exits. When the server cannot be reached (or `STOWAGE_BENCH_POSTGRES_URL=off`), the
 * PostgreSQL rows are skipped with the reason, and the rest of the benchmark carries on.
 */
import pg from 'pg';
import { describeServer } from '../src/db/pg/client.js';

export const DEFAULT_POSTGRES_SERVER = 'postgres://postgres@127.0.0.1:5432/test';
const CONNECT_TIMEOUT_MS = 5000;

export interface BenchPostgresDatabase {
  available: true;
  /** The server, for the report (never its password). */
  server: string;
  /** The throwaway database's name. */
  name: string;
  /** Its URL: what `STOWAGE_DATABASE_URL` is set to. */
  url: string;
  /** Drops the database `WITH (FORCE)`; a second call does nothing. */
  drop(): Promise<void>;
}

export interface BenchPostgresSkipped {
  available: false;
  /** Why the PostgreSQL rows are skipped, for the report. */
  reason: string;
}

export type BenchPostgres = BenchPostgresDatabase | BenchPostgresSkipped;

/** An error's message on one line (each of an AggregateError's, e.g. ECONNREFUSED on ::1 and 127.0.0.1). */
export function oneLine(error: unknown): string {
  const errors: unknown[] = error instanceof AggregateError && !error.message ? error.errors : [error];
  const messageOf = (e: unknown) => (e instanceof Error ? e.message || (e as NodeJS.ErrnoException).code || e.name : String(e));
  return [...new Set(errors.map(messageOf))].join('; ').replace(/\s+/g, ' ').trim() || 'unknown error';
}

/** A connected client, or the error `connect` failed with. */
async function connect(serverUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => {});
  await client.connect();
  return client;
}

async function withClient<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(serverUrl);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Creates the throwaway database `stowage_bench_<pid>_<time>`, or says why the PostgreSQL rows are skipped.
 * Never throws.
 */
export async function createBenchPostgres(env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<BenchPostgres> {
  const configured = env.STOWAGE_BENCH_POSTGRES_URL;
  if (configured !== undefined && ['', 'off', 'none', '0', 'false'].includes(configured.trim().toLowerCase())) {
    return { available: false, reason: `disabled by STOWAGE_BENCH_POSTGRES_URL=${JSON.stringify(configured)}` };
  }
  const serverUrl = configured ?? DEFAULT_POSTGRES_SERVER;
  const server = describeServer(serverUrl);
  let url: URL;
  try {
    url = new URL(serverUrl);
    if (!['postgres:', 'postgresql:'].includes(url.protocol)) throw new Error('not a postgres:// URL');
  } catch (error) {
    return { available: false, reason: `STOWAGE_BENCH_POSTGRES_URL is not a postgres:// URL (${oneLine(error)})` };
  }
  const name = `stowage_bench_${process.pid}_${Date.now().toString(36)}`;
  let client: pg.Client;
  try {
    client = await connect(serverUrl);
  } catch (error) {
    return { available: false, reason: `cannot reach PostgreSQL at ${server}: ${oneLine(error)}` };
  }
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    return { available: false, reason: `cannot create a database on ${server}: ${oneLine(error)}` };
  } finally {
    await client.end().catch(() => {});
  }
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: dropping the PostgreSQL benchmark database ${name} ...`);
    void drop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  const drop = () => {
    dropped ??= (async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      try {
        await withClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
        log(`dropped the PostgreSQL benchmark database ${name}`);
      } catch (error) {
        log(`warning: could not drop the PostgreSQL benchmark database ${name} on ${server}: ${oneLine(error)}; drop it by hand`);
      }
    })();
    return dropped;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  log(`PostgreSQL: created the benchmark database ${name} on ${server}`);
  return { available: true, server, name, url: url.toString(), drop };
}

/** The environment that runs an app on `schema` of the benchmark database. */
export const postgresEnv = (db: BenchPostgresDatabase, schema: string): Record<string, string> => ({
  STOWAGE_DATABASE_URL: db.url,
  STOWAGE_DATABASE_SCHEMA: schema,
});
