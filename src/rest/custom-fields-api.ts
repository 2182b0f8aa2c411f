import type { CustomMetadataFieldRow } from '../db/schema.js';
import type { FieldSchemaInput } from '../library/custom-field-schema.js';
import { type ApiRoute, booleanParam, invalidParameter, type JsonBody, json, missingParameter, noContent, optionalObject, optionalString, requiredString } from './params-api.js';
import type { RestDeps } from './rest-api.js';

/** ImageKit's custom metadata fields endpoints: list, create, update, delete. */

/** ImageKit's field object: `{id, name, label, schema, description?}`. */
export function customFieldJson(field: CustomMetadataFieldRow): Record<string, unknown> {
  return { id: field.id, name: field.name, label: field.label, schema: field.schema, ...(field.description != null ? { description: field.description } : {}) };
}

/** A `schema` object as the service takes it; its values are checked there, by ImageKit's rules. */
function schemaOf(body: JsonBody): FieldSchemaInput | null | undefined {
  const schema = optionalObject(body, 'schema');
  if (schema && schema.selectOptions != null && !Array.isArray(schema.selectOptions)) throw invalidParameter('schema', 'schema.selectOptions must be an array.');
  if (schema && schema.type != null && typeof schema.type !== 'string') throw invalidParameter('schema', 'schema.type must be a string.');
  return schema as FieldSchemaInput | null | undefined;
}

/** `POST /v1/customMetadataFields`'s body. @throws BAD_REQUEST for a missing name, label or schema, or a wrong type. */
export function parseCreateField(body: JsonBody): { name: string; label: string; schema: FieldSchemaInput; description: string | null } {
  const name = requiredString(body, 'name');
  const label = requiredString(body, 'label');
  const schema = schemaOf(body);
  if (!schema) throw missingParameter('schema');
  return { name, label, schema, description: optionalString(body, 'description') ?? null };
}

/** `PATCH /v1/customMetadataFields/{id}`'s body (the service wants a label or a schema). */
export function parseUpdateField(body: JsonBody): { label?: string | null; schema?: FieldSchemaInput | null; description?: string | null } {
  if (body.name !== undefined) throw invalidParameter('name', 'Name cannot be updated.');
  const out: { label?: string | null; schema?: FieldSchemaInput | null; description?: string | null } = { label: optionalString(body, 'label'), schema: schemaOf(body) };
  const description = optionalString(body, 'description');
  if (description !== undefined) out.description = description;
  return out;
}

export const customFieldRoutes: ApiRoute<RestDeps>[] = [
  {
    method: 'GET',
    path: '/v1/customMetadataFields',
    // `folderPath` (path policies) is accepted and ignored: every field applies everywhere.
    handle: async ({ services }, { query }) => json((await services.customFields.list(booleanParam(query, 'includeDeleted', false))).map(customFieldJson)),
  },
  {
    method: 'POST',
    path: '/v1/customMetadataFields',
    handle: async ({ services }, call) => json(customFieldJson(await services.customFields.create(parseCreateField(await call.body()))), 201),
  },
  {
    method: 'PATCH',
    path: '/v1/customMetadataFields/:id',
    handle: async ({ services }, call) => json(customFieldJson(await services.customFields.update(call.params.id as string, parseUpdateField(await call.body())))),
  },
  {
    method: 'DELETE',
    path: '/v1/customMetadataFields/:id',
    handle: async ({ services }, { params }) => {
      await services.customFields.delete(params.id as string);
      return noContent();
    },
  },
];
