import { and, asc, eq, ne } from 'drizzle-orm';
import type { Db, DbOrTx, Tx } from '../client.js';
import { type CustomMetadataFieldRow, customMetadataFields } from '../schema.js';

/** A new field's row, as `CustomFieldTxQueries.insert` stores it. */
export type NewCustomField = typeof customMetadataFields.$inferInsert;

/**
 * The custom field queries that run inside a synchronous better-sqlite3 transaction callback, which cannot await.
 * Obtained from `CustomFieldRepo.inTx(tx)`; they become async methods taking the transaction when transactions do.
 */
export class CustomFieldTxQueries {
  constructor(private readonly tx: DbOrTx) {}

  findById(id: string): CustomMetadataFieldRow | undefined {
    return this.tx.select().from(customMetadataFields).where(eq(customMetadataFields.id, id)).get();
  }

  /** Whether any field, deleted ones included, was ever named `name` (names are never reused). */
  isNameTaken(name: string): boolean {
    return !!this.tx.select({ id: customMetadataFields.id }).from(customMetadataFields).where(eq(customMetadataFields.name, name)).get();
  }

  /** Whether a live field other than `exceptId` has `label` (deleted fields free their label). */
  isLabelTaken(label: string, exceptId?: string): boolean {
    const clash = this.tx
      .select({ id: customMetadataFields.id })
      .from(customMetadataFields)
      .where(and(eq(customMetadataFields.label, label), eq(customMetadataFields.isDeleted, false), exceptId ? ne(customMetadataFields.id, exceptId) : undefined))
      .get();
    return !!clash;
  }

  insert(field: NewCustomField): CustomMetadataFieldRow {
    return this.tx.insert(customMetadataFields).values(field).returning().get();
  }

  /** Applies `patch` to the field; `undefined` when there is no such field. */
  update(id: string, patch: Partial<CustomMetadataFieldRow>): CustomMetadataFieldRow | undefined {
    return this.tx.update(customMetadataFields).set(patch).where(eq(customMetadataFields.id, id)).returning().get();
  }
}

/** The custom metadata field definitions (`custom_metadata_fields`). */
export class CustomFieldRepo {
  constructor(private readonly db: Db) {}

  /** The synchronous queries, for use inside a transaction callback (see {@link CustomFieldTxQueries}). */
  inTx(tx: Tx): CustomFieldTxQueries {
    return new CustomFieldTxQueries(tx);
  }

  /** The fields in creation order (ties by id); deleted ones only when `includeDeleted`. */
  async list(includeDeleted = false): Promise<CustomMetadataFieldRow[]> {
    const query = this.db.select().from(customMetadataFields);
    return (includeDeleted ? query : query.where(eq(customMetadataFields.isDeleted, false))).orderBy(asc(customMetadataFields.createdAt), asc(customMetadataFields.id)).all();
  }

  /** Marks a live field deleted (its name stays taken). @returns false when there is no live field with `id`. */
  async markDeleted(id: string, now: Date): Promise<boolean> {
    const result = this.db
      .update(customMetadataFields)
      .set({ isDeleted: true, updatedAt: now })
      .where(and(eq(customMetadataFields.id, id), eq(customMetadataFields.isDeleted, false)))
      .run();
    return result.changes > 0;
  }
}
