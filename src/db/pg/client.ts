import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { messageOf, NOT_A_URL, oneLineReason, serverAddress } from '../../logging/connection-errors.js';
import * as schema from './schema.js';

export type PgDb = NodePgDatabase<typeof schema>;

/** The folder of drizzle's PostgreSQL migrations, applied by `openPostgres`. */
export const PG_MIGRATIONS_FOLDER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../drizzle/postgres');

/** How long opening waits for a connection before it reports the server unreachable. */
const CONNECT_TIMEOUT_MS = 10_000;

/** The advisory lock processes starting together take, so only one of them applies the migrations ("STOW"). */
const MIGRATION_LOCK = 0x53544f57;

/** Why the PostgreSQL database could not be opened, in one line that names the server but never its password. */
export class PostgresStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PostgresStartError';
  }
}

export interface OpenPostgresOptions {
  /** Where the migrations are; {@link PG_MIGRATIONS_FOLDER} by default. */
  migrationsFolder?: string;
  /**
   * The schema Stowage's tables (and drizzle's record of applied migrations) live in, created when missing;
   * `public` by default. Every connection of the pool has it as its `search_path`.
   */
  schema?: string;
}

/** A schema name Stowage accepts: an unquoted identifier, so it is safe in `search_path` and SQL text. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Connects a pool to the PostgreSQL database at `url` and applies its pending migrations, one process at a time.
 * @throws PostgresStartError "Cannot reach PostgreSQL at …" when no connection can be made, or
 *   "PostgreSQL migration <name> failed: …" when a migration fails (nothing of it is applied then).
 */
export async function openPostgres(url: string, options: OpenPostgresOptions = {}): Promise<{ db: PgDb; close: () => Promise<void> }> {
  const migrationsFolder = options.migrationsFolder ?? PG_MIGRATIONS_FOLDER;
  const schemaName = options.schema ?? 'public';
  if (!SCHEMA_NAME.test(schemaName)) throw new PostgresStartError(`Invalid PostgreSQL schema name ${JSON.stringify(schemaName)}: expected lowercase letters, digits and _`);
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, options: `-c search_path=${schemaName}` });
  // An idle connection that breaks (a server restart) leaves the pool; the next query opens another one.
  pool.on('error', () => {});
  const close = () => pool.end();
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    await close();
    throw new PostgresStartError(`Cannot reach PostgreSQL at ${describeServer(url)}: ${reasonOf(error, url)}`);
  }
  try {
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [MIGRATION_LOCK, schemaName]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schemaName}`);
    await migrate(drizzle(client), { migrationsFolder, migrationsSchema: schemaName });
  } catch (error) {
    client.release(true);
    await close();
    throw new PostgresStartError(`PostgreSQL migration ${failedMigration(error, migrationsFolder)} failed: ${reasonOf(error, url)}`);
  }
  // Releasing the session ends its advisory lock too; a healthy connection goes back to the pool.
  await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [MIGRATION_LOCK, schemaName]);
  client.release();
  return { db: drizzle(pool, { schema }), close };
}

/** `postgres://user@host:port/db`: the server a URL names, without its password or parameters. */
export function describeServer(url: string): string {
  try {
    return `${serverAddress(url, '5432')}${new URL(url).pathname}`;
  } catch {
    return NOT_A_URL;
  }
}

/** The error's message on one line, with the URL's password (should a driver ever repeat it) removed. */
function reasonOf(error: unknown, url: string): string {
  const cause = error instanceof DrizzleQueryError && error.cause ? error.cause : error;
  const messages = cause instanceof AggregateError && !cause.message ? cause.errors.map((e: unknown) => messageOf(e)) : [messageOf(cause)];
  return oneLineReason(messages, url);
}

/**
 * The name (journal tag) of the migration whose statement failed: drizzle applies them all in one transaction and
 * reports only the statement. "(reading the migrations)" when the folder itself could not be read.
 */
function failedMigration(error: unknown, migrationsFolder: string): string {
  if (!(error instanceof DrizzleQueryError)) return '(reading the migrations)';
  try {
    const journal = JSON.parse(fs.readFileSync(path.join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as { entries: { tag: string }[] };
    const failing = journal.entries.find((entry) =>
      fs
        .readFileSync(path.join(migrationsFolder, `${entry.tag}.sql`), 'utf8')
        .split('--> statement-breakpoint')
        .some((statement) => statement === error.query),
    );
    return failing?.tag ?? '(bookkeeping)';
  } catch {
    return '(unknown)';
  }
}
