import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { MIGRATIONS_FOLDER } from '../client.js';
import { PG_MIGRATIONS_FOLDER } from '../pg/client.js';
import type { Transactor } from '../transactor.js';

/** What readiness asks of the database itself: that it answers, and which migrations it has applied. */
export class DatabaseStatusRepo {
  constructor(private readonly transactor: Transactor) {}

  /** Runs a trivial query. @throws whatever the driver throws when the database cannot answer */
  async ping(): Promise<void> {
    await this.transactor.rows(this.transactor.reader, sql`select 1`);
  }

  /** The hashes of the migrations this version ships for the database's dialect (or in `folder`). */
  shippedMigrationHashes(folder?: string): string[] {
    const shipped = this.transactor.dialect.name === 'postgres' ? PG_MIGRATIONS_FOLDER : MIGRATIONS_FOLDER;
    return readMigrationFiles({ migrationsFolder: folder ?? shipped }).map((m) => m.hash);
  }

  /** The hashes drizzle recorded for each migration it applied. */
  async appliedMigrationHashes(): Promise<string[]> {
    // On PostgreSQL drizzle's record is in the schema the tables are in, which is every connection's `search_path`.
    return (await this.transactor.rows<{ hash: string }>(this.transactor.reader, sql`select hash from __drizzle_migrations`)).map((row) => row.hash);
  }
}
