import { and, asc, eq, ne } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { type CustomMetadataFieldRow, customMetadataFields } from '../db/schema.js';
import { AppError, badRequest } from '../errors.js';
import { createObjectId } from '../upload/ids.js';
import { assertFieldName, type FieldSchemaInput, parseFieldSchema } from './custom-field-schema.js';

export const fieldNotFound = () => new AppError('NOT_FOUND', 'No such custom metadata field exists.', { parameter: 'id' });

/** ImageKit's custom metadata fields API: names unique forever, labels unique among live fields, type fixed. */
export class CustomFieldService {
  constructor(private readonly db: Db) {}

  list(includeDeleted = false): CustomMetadataFieldRow[] {
    const query = this.db.select().from(customMetadataFields);
    return (includeDeleted ? query : query.where(eq(customMetadataFields.isDeleted, false))).orderBy(asc(customMetadataFields.createdAt), asc(customMetadataFields.id)).all();
  }

  /** @throws BAD_REQUEST for a bad name or schema, a name ever used, or a label in use. */
  create(input: { name: string; label: string; schema: FieldSchemaInput; description?: string | null }): CustomMetadataFieldRow {
    assertFieldName(input.name);
    const label = this.assertLabel(input.label);
    const schema = parseFieldSchema(input.schema);
    return this.db.transaction(
      (tx) => {
        if (tx.select({ id: customMetadataFields.id }).from(customMetadataFields).where(eq(customMetadataFields.name, input.name)).get()) {
          throw badRequest('name', 'A custom metadata field with this name already exists.');
        }
        this.assertLabelFree(tx, label);
        const now = new Date();
        return tx
          .insert(customMetadataFields)
          .values({ id: createObjectId(), name: input.name, label, schema, description: input.description ?? null, createdAt: now, updatedAt: now })
          .returning()
          .get();
      },
      { behavior: 'immediate' },
    );
  }

  /**
   * Changes the label and/or the schema (the type stays; the rest of the schema is replaced).
   * @throws NOT_FOUND, BAD_REQUEST (deleted field, nothing to change, type change, label taken, bad schema).
   */
  update(id: string, input: { label?: string | null; schema?: FieldSchemaInput | null; description?: string | null }): CustomMetadataFieldRow {
    if (input.label == null && input.schema == null) throw badRequest('label', 'Either label or schema should be provided.');
    return this.db.transaction(
      (tx) => {
        const field = tx.select().from(customMetadataFields).where(eq(customMetadataFields.id, id)).get();
        if (!field) throw fieldNotFound();
        if (field.isDeleted) throw badRequest('id', 'Cannot update a deleted custom metadata fields.');
        const patch: Partial<CustomMetadataFieldRow> = { updatedAt: new Date() };
        if (input.label != null) {
          patch.label = this.assertLabel(input.label);
          this.assertLabelFree(tx, patch.label, id);
        }
        if (input.schema != null) {
          const type = input.schema.type === 'TextArea' ? 'Textarea' : input.schema.type;
          if (type != null && type !== field.schema.type) {
            throw badRequest('schema', `The type of a custom metadata field cannot change; "${field.name}" is ${field.schema.type}.`);
          }
          patch.schema = parseFieldSchema({ ...input.schema, type: field.schema.type });
        }
        if (input.description !== undefined) patch.description = input.description;
        return tx.update(customMetadataFields).set(patch).where(eq(customMetadataFields.id, id)).returning().get();
      },
      { behavior: 'immediate' },
    );
  }

  /** Marks the field deleted; its name stays taken. @throws NOT_FOUND */
  delete(id: string): void {
    const result = this.db
      .update(customMetadataFields)
      .set({ isDeleted: true, updatedAt: new Date() })
      .where(and(eq(customMetadataFields.id, id), eq(customMetadataFields.isDeleted, false)))
      .run();
    if (result.changes === 0) throw fieldNotFound();
  }

  private assertLabel(label: string): string {
    const trimmed = label.trim();
    if (!trimmed || trimmed.length > 100) throw badRequest('label', 'The label must have 1 to 100 characters.');
    return trimmed;
  }

  private assertLabelFree(tx: Pick<Db, 'select'>, label: string, exceptId?: string): void {
    const clash = tx
      .select({ id: customMetadataFields.id })
      .from(customMetadataFields)
      .where(and(eq(customMetadataFields.label, label), eq(customMetadataFields.isDeleted, false), exceptId ? ne(customMetadataFields.id, exceptId) : undefined))
      .get();
    if (clash) throw badRequest('label', 'A custom metadata field with this label already exists.');
  }
}
