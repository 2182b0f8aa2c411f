import type { CustomMetadataFieldRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import { describeInvalidValue } from './custom-field-schema.js';

export type CustomMetadata = Record<string, unknown>;

const invalidCustomMetadata = (parameter: string, errors: Record<string, string>) =>
  new AppError('BAD_REQUEST', `Invalid custom metadata: ${Object.entries(errors).map(([k, v]) => `${k} ${v}`).join('; ')}.`, {
    parameter,
    details: { errors },
  });

/**
 * Checks values against the live field definitions: unknown fields, wrong types, out of range, not an option.
 * `null` values are kept (they mean "unset" to `updateFileDetails`); `allowNull` false refuses them.
 * @throws BAD_REQUEST "Invalid custom metadata" with `details.errors` per field.
 */
export function assertValidCustomMetadata(values: CustomMetadata, fields: readonly CustomMetadataFieldRow[], options: { parameter: string; allowNull: boolean }): void {
  const byName = new Map(fields.map((f) => [f.name, f]));
  // No prototype: a field named `__proto__` must be reported like any other key.
  const errors: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(values)) {
    const field = byName.get(name);
    if (!field) errors[name] = 'is not a custom metadata field';
    else if (value === null) {
      if (!options.allowNull) errors[name] = 'should not be null';
      else if (field.schema.isValueRequired) errors[name] = 'is required and cannot be removed';
    } else {
      const why = describeInvalidValue(field.schema, value);
      if (why) errors[name] = why;
    }
  }
  if (Object.keys(errors).length > 0) throw invalidCustomMetadata(options.parameter, errors);
}

/**
 * The values a file ends up with: `values` with `null`s removed, defaults filled in for absent fields,
 * and every required field present.
 * @throws BAD_REQUEST when a required field has no value.
 */
export function completeCustomMetadata(values: CustomMetadata, fields: readonly CustomMetadataFieldRow[], parameter: string): CustomMetadata {
  const out: CustomMetadata = {};
  for (const [k, v] of Object.entries(values)) if (v !== null) out[k] = v;
  // No prototype: a field named `__proto__` must be reported like any other key.
  const errors: Record<string, string> = Object.create(null);
  for (const field of fields) {
    if (out[field.name] === undefined && field.schema.defaultValue !== undefined) out[field.name] = field.schema.defaultValue;
    if (out[field.name] === undefined && field.schema.isValueRequired) errors[field.name] = 'is required';
  }
  if (Object.keys(errors).length > 0) throw invalidCustomMetadata(parameter, errors);
  return out;
}
