import { and, asc, eq, ne } from 'drizzle-orm';
import type { DbOrTx, Tx } from '../client.js';
import type { CustomMetadataFieldRow, customMetadataFields } from '../schema.js';
import type { Tables } from '../tables.js';
import type { Transactor } from '../transactor.js';

/** A new field's row, as `CustomFieldTxQueries.insert` stores it. */
export type NewCustomField = typeof customMetadataFields.$inferInsert;

/** The custom field queries that run inside a caller's transaction. Obtained from `CustomFieldRepo.inTx(tx)`. */
export class CustomFieldTxQueries {
  constructor(
    private readonly tx: DbOrTx,
    private readonly t: Tables,
  ) {}

  async findById(id: string): Promise<CustomMetadataFieldRow | undefined> {
    return (await this.tx.select().from(this.t.customMetadataFields).where(eq(this.t.customMetadataFields.id, id)).limit(1))[0];
  }

  /** Whether any field, deleted ones included, was ever named `name` (names are never reused). */
  async isNameTaken(name: string): Promise<boolean> {
    return (await this.tx.select({ id: this.t.customMetadataFields.id }).from(this.t.customMetadataFields).where(eq(this.t.customMetadataFields.name, name)).limit(1)).length > 0;
  }

  /** Whether a live field other than `exceptId` has `label` (deleted fields free their label). */
  async isLabelTaken(label: string, exceptId?: string): Promise<boolean> {
    const clash = await this.tx
      .select({ id: this.t.customMetadataFields.id })
      .from(this.t.customMetadataFields)
      .where(and(eq(this.t.customMetadataFields.label, label), eq(this.t.customMetadataFields.isDeleted, false), exceptId ? ne(this.t.customMetadataFields.id, exceptId) : undefined))
      .limit(1);
    return clash.length > 0;
  }

  async insert(field: NewCustomField): Promise<CustomMetadataFieldRow> {
    const [inserted] = await this.tx.insert(this.t.customMetadataFields).values(field).returning();
    return inserted as CustomMetadataFieldRow;
  }

  /** Applies `patch` to the field; `undefined` when there is no such field. */
  async update(id: string, patch: Partial<CustomMetadataFieldRow>): Promise<CustomMetadataFieldRow | undefined> {
    return (await this.tx.update(this.t.customMetadataFields).set(patch).where(eq(this.t.customMetadataFields.id, id)).returning())[0];
  }
}

/** The custom metadata field definitions (`custom_metadata_fields`). */
export class CustomFieldRepo {
  /** Reads go to the transactor's reader connection, writes through the transactor. */
  constructor(private readonly transactor: Transactor) {}

  private get t(): Tables {
    return this.transactor.tables;
  }

  /** The queries for use inside a transaction callback (see {@link CustomFieldTxQueries}). */
  inTx(tx: Tx): CustomFieldTxQueries {
    return new CustomFieldTxQueries(tx, this.t);
  }

  /** The fields in creation order (ties by id); deleted ones only when `includeDeleted`. */
  async list(includeDeleted = false): Promise<CustomMetadataFieldRow[]> {
    const query = this.transactor.reader.select().from(this.t.customMetadataFields);
    return (includeDeleted ? query : query.where(eq(this.t.customMetadataFields.isDeleted, false))).orderBy(asc(this.t.customMetadataFields.createdAt), asc(this.t.customMetadataFields.id));
  }

  /** Marks a live field deleted (its name stays taken). @returns false when there is no live field with `id`. */
  async markDeleted(id: string, now: Date): Promise<boolean> {
    const marked = await this.transactor.write((db) =>
      db
        .update(this.t.customMetadataFields)
        .set({ isDeleted: true, updatedAt: now })
        .where(and(eq(this.t.customMetadataFields.id, id), eq(this.t.customMetadataFields.isDeleted, false)))
        .returning({ id: this.t.customMetadataFields.id }),
    );
    return marked.length > 0;
  }
}
