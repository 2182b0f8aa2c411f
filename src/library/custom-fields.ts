import type { Transactor } from '../db/transactor.js';
import { CustomFieldRepo } from '../db/repos/custom-field-repo.js';
import type { CustomMetadataFieldRow } from '../db/schema.js';
import { AppError, badRequest } from '../errors.js';
import { createObjectId } from '../upload/ids.js';
import { assertFieldName, type FieldSchemaInput, parseFieldSchema } from './custom-field-schema.js';

export const fieldNotFound = () => new AppError('NOT_FOUND', 'No such custom metadata field exists.', { parameter: 'id' });
const labelTaken = () => badRequest('label', 'A custom metadata field with this label already exists.');

/** ImageKit's custom metadata fields API: names unique forever, labels unique among live fields, type fixed. */
export class CustomFieldService {
  private readonly fields: CustomFieldRepo;

  constructor(private readonly transactor: Transactor) {
    this.fields = new CustomFieldRepo(transactor);
  }

  /** The live fields (deleted ones too with `includeDeleted`), oldest first. */
  async list(includeDeleted = false): Promise<CustomMetadataFieldRow[]> {
    return this.fields.list(includeDeleted);
  }

  /** @throws BAD_REQUEST for a bad name or schema, a name ever used, or a label in use. */
  async create(input: { name: string; label: string; schema: FieldSchemaInput; description?: string | null }): Promise<CustomMetadataFieldRow> {
    assertFieldName(input.name);
    const label = this.assertLabel(input.label);
    const schema = parseFieldSchema(input.schema);
    return this.transactor.transaction(
      async (tx) => {
        const fields = this.fields.inTx(tx);
        if (await fields.isNameTaken(input.name)) throw badRequest('name', 'A custom metadata field with this name already exists.');
        if (await fields.isLabelTaken(label)) throw labelTaken();
        const now = new Date();
        return await fields.insert({ id: createObjectId(), name: input.name, label, schema, description: input.description ?? null, createdAt: now, updatedAt: now });
      },
      { behavior: 'immediate' },
    );
  }

  /**
   * Changes the label and/or the schema (the type stays; the rest of the schema is replaced).
   * @throws NOT_FOUND, BAD_REQUEST (deleted field, nothing to change, type change, label taken, bad schema).
   */
  async update(id: string, input: { label?: string | null; schema?: FieldSchemaInput | null; description?: string | null }): Promise<CustomMetadataFieldRow> {
    if (input.label == null && input.schema == null) throw badRequest('label', 'Either label or schema should be provided.');
    return this.transactor.transaction(
      async (tx) => {
        const fields = this.fields.inTx(tx);
        const field = await fields.findById(id);
        if (!field) throw fieldNotFound();
        if (field.isDeleted) throw badRequest('id', 'Cannot update a deleted custom metadata fields.');
        const patch: Partial<CustomMetadataFieldRow> = { updatedAt: new Date() };
        if (input.label != null) {
          patch.label = this.assertLabel(input.label);
          if (await fields.isLabelTaken(patch.label, id)) throw labelTaken();
        }
        if (input.schema != null) {
          const type = input.schema.type === 'TextArea' ? 'Textarea' : input.schema.type;
          if (type != null && type !== field.schema.type) {
            throw badRequest('schema', `The type of a custom metadata field cannot change; "${field.name}" is ${field.schema.type}.`);
          }
          patch.schema = parseFieldSchema({ ...input.schema, type: field.schema.type });
        }
        if (input.description !== undefined) patch.description = input.description;
        return (await fields.update(id, patch)) as CustomMetadataFieldRow;
      },
      { behavior: 'immediate' },
    );
  }

  /** Marks the field deleted; its name stays taken. @throws NOT_FOUND */
  async delete(id: string): Promise<void> {
    if (!(await this.fields.markDeleted(id, new Date()))) throw fieldNotFound();
  }

  private assertLabel(label: string): string {
    const trimmed = label.trim();
    if (!trimmed || trimmed.length > 100) throw badRequest('label', 'The label must have 1 to 100 characters.');
    return trimmed;
  }
}
