import { sql } from 'drizzle-orm';
import type { Db } from '../client.js';

/** What readiness asks of the database itself: that it answers, and which migrations it has applied. */
export class DatabaseStatusRepo {
  constructor(private readonly db: Db) {}

  /** Runs a trivial query. @throws whatever the driver throws when the database cannot answer */
  async ping(): Promise<void> {
    this.db.get(sql`select 1`);
  }

  /** The hashes drizzle recorded for each migration it applied. */
  async appliedMigrationHashes(): Promise<string[]> {
    return this.db.all<{ hash: string }>(sql`select hash from __drizzle_migrations`).map((row) => row.hash);
  }
}
