import { asc, eq, inArray, max, ne, sql, sum } from 'drizzle-orm';
import type { Db } from '../client.js';
import { isForeignKeyViolation } from '../errors.js';
import type { Transactor } from '../transactor.js';

/** What one round of eviction took out of the ledger: the blobs to delete, how many entries and bytes they were. */
export interface Eviction {
  keys: string[];
  entries: number;
  freed: number;
  /** Bytes the ledger holds after it. */
  used: number;
}

/** A stored derivative's ledger row, as `record` writes it. */
export interface DerivativeEntry {
  key: string;
  /** What is evicted as a whole: the blob itself, or a stream package's folder. */
  entry: string;
  versionId: string;
  bytes: number;
}

/** Entries chosen per query while over the cap. */
const EVICTION_BATCH = 64;

/** Keys deleted per statement. */
const FORGET_BATCH = 500;

/** The derivative cache's ledger (`derivatives`): one row per stored derivative blob, for least-recently-used eviction. */
export class DerivativeRepo {
  constructor(private readonly transactor: Transactor) {}

  private get derivatives() {
    return this.transactor.tables.derivatives;
  }

  /** Whether `key` is in the ledger. */
  async has(key: string): Promise<boolean> {
    const derivatives = this.derivatives;
    return (await this.transactor.reader.select({ key: derivatives.key }).from(derivatives).where(eq(derivatives.key, key)).limit(1)).length > 0;
  }

  /** Every row's key and last use (Unix ms). */
  async listUses(): Promise<{ key: string; lastUsedAt: number }[]> {
    const derivatives = this.derivatives;
    return this.transactor.reader.select({ key: derivatives.key, lastUsedAt: derivatives.lastUsedAt }).from(derivatives);
  }

  /** Removes the rows of `keys` (the blobs are the caller's). */
  async forget(keys: readonly string[]): Promise<void> {
    const derivatives = this.derivatives;
    // In slices: both databases cap the parameters of one statement.
    for (let i = 0; i < keys.length; i += FORGET_BATCH) {
      const slice = keys.slice(i, i + FORGET_BATCH);
      await this.transactor.write((db) => db.delete(derivatives).where(inArray(derivatives.key, slice)));
    }
  }

  /**
   * Records a stored derivative, and the use of its whole entry at `at`, unless its version is gone; the check and
   * the insert are one transaction. @returns false when the version no longer exists
   */
  async record(row: DerivativeEntry, at: number): Promise<boolean> {
    const derivatives = this.derivatives;
    const { fileVersions } = this.transactor.tables;
    try {
      return await this.transactor.transaction(async (tx) => {
        const version = await tx.select({ id: fileVersions.id }).from(fileVersions).where(eq(fileVersions.id, row.versionId)).limit(1);
        if (version.length === 0) return false;
        await tx
          .insert(derivatives)
          .values({ ...row, lastUsedAt: at })
          .onConflictDoUpdate({ target: derivatives.key, set: { bytes: row.bytes, lastUsedAt: at } });
        await tx.update(derivatives).set({ lastUsedAt: at }).where(eq(derivatives.entry, row.entry));
        return true;
      });
    } catch (error) {
      // On PostgreSQL the version can be deleted between the check and the insert, which its foreign key then refuses.
      if (isForeignKeyViolation(error)) return false;
      throw error;
    }
  }

  /** Marks entries used at the given times (never moving a use back), in one transaction. */
  async touch(uses: readonly { entry: string; at: number }[]): Promise<void> {
    if (uses.length === 0) return;
    const derivatives = this.derivatives;
    await this.transactor.transaction(async (tx) => {
      for (const { entry, at } of uses) {
        const later = sql`CASE WHEN ${derivatives.lastUsedAt} > ${at} THEN ${derivatives.lastUsedAt} ELSE ${at} END`;
        await tx.update(derivatives).set({ lastUsedAt: later }).where(eq(derivatives.entry, entry));
      }
    });
  }

  /** Bytes of derivatives the ledger holds. */
  async usedBytes(db: Db = this.transactor.reader): Promise<number> {
    const derivatives = this.derivatives;
    const [row] = await db.select({ bytes: sum(derivatives.bytes) }).from(derivatives);
    return Number(row?.bytes ?? 0);
  }

  /**
   * Takes the least recently used entries (except `keep`) out of the ledger until it holds at most `maxBytes`, in one
   * transaction that evictions of other processes wait for, so no two pick the same victims.
   */
  async evictOldest(maxBytes: number, keep: string | undefined): Promise<Eviction> {
    const derivatives = this.derivatives;
    return this.transactor.transaction(
      async (tx) => {
        let used = await this.usedBytes(tx);
        const keys: string[] = [];
        let entries = 0;
        let freed = 0;
        while (used > maxBytes) {
          const oldest = await tx
            .select({ entry: derivatives.entry, bytes: sum(derivatives.bytes) })
            .from(derivatives)
            .where(keep === undefined ? undefined : ne(derivatives.entry, keep))
            .groupBy(derivatives.entry)
            .orderBy(asc(max(derivatives.lastUsedAt)))
            .limit(EVICTION_BATCH);
          if (oldest.length === 0) break;
          for (const victim of oldest) {
            if (used <= maxBytes) break;
            const deleted = await tx.delete(derivatives).where(eq(derivatives.entry, victim.entry)).returning({ key: derivatives.key });
            keys.push(...deleted.map((r) => r.key));
            used -= Number(victim.bytes);
            freed += Number(victim.bytes);
            entries++;
          }
        }
        return { keys, entries, freed, used };
      },
      { behavior: 'immediate', locks: ['derivatives:evict'] },
    );
  }
}
