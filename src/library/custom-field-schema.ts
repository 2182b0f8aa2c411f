import { AppError } from '../errors.js';
import type { CustomFieldScalar, CustomFieldSchema, CustomFieldType } from '../db/schema.js';

export const CUSTOM_FIELD_TYPES: readonly CustomFieldType[] = ['Text', 'Textarea', 'Number', 'Date', 'Boolean', 'SingleSelect', 'MultiSelect'];
export const MAX_SELECT_OPTIONS = 100;
const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,99}$/;

/** What a client may send as a field schema; checked by `parseFieldSchema`. */
export interface FieldSchemaInput {
  type?: string | null;
  selectOptions?: unknown[] | null;
  defaultValue?: unknown;
  isValueRequired?: boolean | null;
  minValue?: unknown;
  maxValue?: unknown;
  minLength?: unknown;
  maxLength?: unknown;
}

/** ImageKit's schema validation failure: every offending property with its own message. */
export const invalidFieldObject = (errors: Record<string, string>) =>
  new AppError('BAD_REQUEST', `Invalid field object: ${Object.entries(errors).map(([k, v]) => `${k} ${v}`).join('; ')}.`, {
    parameter: Object.keys(errors)[0] === 'name' || Object.keys(errors)[0] === 'label' ? (Object.keys(errors)[0] as string) : 'schema',
    details: { errors },
  });

export function assertFieldName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw invalidFieldObject({ name: 'must start with a letter and contain only letters, digits, "_" and "-" (at most 100 characters)' });
  }
}

const isScalar = (v: unknown): v is CustomFieldScalar => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
const isWholeNumber = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** `YYYY-MM-DD` or a full ISO-8601 timestamp → milliseconds, else `undefined`. */
export function parseIsoDate(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) return undefined;
  const ms = Date.parse(/T/.test(value) && !/(Z|[+-]\d{2}:?\d{2})$/.test(value) ? `${value}Z` : value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Why `value` is not a valid value of a field with `schema`, or `undefined` when it is. */
export function describeInvalidValue(schema: CustomFieldSchema, value: unknown): string | undefined {
  switch (schema.type) {
    case 'Text':
    case 'Textarea': {
      if (typeof value !== 'string') return 'should be of type string';
      if (schema.minLength !== undefined && value.length < schema.minLength) return `should have at least ${schema.minLength} characters`;
      if (schema.maxLength !== undefined && value.length > schema.maxLength) return `should have at most ${schema.maxLength} characters`;
      return undefined;
    }
    case 'Number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'should be of type number';
      if (schema.minValue !== undefined && value < Number(schema.minValue)) return `should be at least ${schema.minValue}`;
      if (schema.maxValue !== undefined && value > Number(schema.maxValue)) return `should be at most ${schema.maxValue}`;
      return undefined;
    }
    case 'Date': {
      const ms = parseIsoDate(value);
      if (ms === undefined) return 'should be an ISO-8601 date string';
      if (schema.minValue !== undefined && ms < (parseIsoDate(schema.minValue) ?? Number.NEGATIVE_INFINITY)) return `should be on or after ${schema.minValue}`;
      if (schema.maxValue !== undefined && ms > (parseIsoDate(schema.maxValue) ?? Number.POSITIVE_INFINITY)) return `should be on or before ${schema.maxValue}`;
      return undefined;
    }
    case 'Boolean':
      return typeof value === 'boolean' ? undefined : 'should be of type boolean';
    case 'SingleSelect':
      return isScalar(value) && (schema.selectOptions ?? []).includes(value) ? undefined : `should be one of ${JSON.stringify(schema.selectOptions)}`;
    case 'MultiSelect': {
      if (!Array.isArray(value)) return 'should be an array';
      const bad = value.find((v) => !isScalar(v) || !(schema.selectOptions ?? []).includes(v));
      return bad === undefined ? undefined : `should contain only values of ${JSON.stringify(schema.selectOptions)}; ${JSON.stringify(bad)} is not one`;
    }
  }
}

/**
 * Checks a field schema by ImageKit's rules and returns it normalised (`TextArea` → `Textarea`).
 * Every offending property is reported at once.
 * @throws BAD_REQUEST "Invalid field object" with `details.errors` per property.
 */
export function parseFieldSchema(input: FieldSchemaInput): CustomFieldSchema {
  const errors: Record<string, string> = {};
  const type = (input.type === 'TextArea' ? 'Textarea' : input.type) as CustomFieldType;
  if (!CUSTOM_FIELD_TYPES.includes(type)) {
    throw invalidFieldObject({ type: `should be one of ${CUSTOM_FIELD_TYPES.join(', ')}` });
  }
  const schema: CustomFieldSchema = { type };
  const isSelect = type === 'SingleSelect' || type === 'MultiSelect';
  const isText = type === 'Text' || type === 'Textarea';
  const isRange = type === 'Number' || type === 'Date';

  if (input.selectOptions != null) {
    if (!isSelect) errors.selectOptions = 'not allowed for this type';
    else if (!Array.isArray(input.selectOptions) || input.selectOptions.length === 0 || !input.selectOptions.every(isScalar)) {
      errors.selectOptions = 'should be a non-empty array of strings, numbers or booleans';
    } else if (input.selectOptions.length > MAX_SELECT_OPTIONS) errors.selectOptions = `should have at most ${MAX_SELECT_OPTIONS} options`;
    else if (new Set(input.selectOptions).size !== input.selectOptions.length) errors.selectOptions = 'should not repeat an option';
    else schema.selectOptions = input.selectOptions as CustomFieldScalar[];
  } else if (isSelect) errors.selectOptions = 'is required for this type';

  for (const key of ['minLength', 'maxLength'] as const) {
    const v = input[key];
    if (v == null) continue;
    if (!isText) errors[key] = 'not allowed for this type';
    else if (!isWholeNumber(v)) errors[key] = 'should be a non-negative whole number';
    else schema[key] = v;
  }
  if (schema.minLength !== undefined && schema.maxLength !== undefined && schema.minLength > schema.maxLength) {
    errors.maxLength = 'should not be less than minLength';
  }

  for (const key of ['minValue', 'maxValue'] as const) {
    const v = input[key];
    if (v == null) continue;
    if (!isRange) errors[key] = 'not allowed for this type';
    else if (type === 'Number' && (typeof v !== 'number' || !Number.isFinite(v))) errors[key] = 'should be of type number';
    else if (type === 'Date' && parseIsoDate(v) === undefined) errors[key] = 'should be an ISO-8601 date string';
    else schema[key] = v as string | number;
  }
  if (schema.minValue !== undefined && schema.maxValue !== undefined) {
    const lo = type === 'Date' ? parseIsoDate(schema.minValue) : Number(schema.minValue);
    const hi = type === 'Date' ? parseIsoDate(schema.maxValue) : Number(schema.maxValue);
    if ((lo as number) > (hi as number)) errors.maxValue = 'should not be less than minValue';
  }

  if (input.isValueRequired != null) schema.isValueRequired = input.isValueRequired;
  if (input.defaultValue !== undefined && input.defaultValue !== null) {
    if (Object.keys(errors).length === 0) {
      const why = describeInvalidValue(schema, input.defaultValue);
      if (why) errors.defaultValue = why;
      else schema.defaultValue = input.defaultValue as CustomFieldSchema['defaultValue'];
    }
  } else if (schema.isValueRequired) errors.defaultValue = 'is required when isValueRequired is true';

  if (Object.keys(errors).length > 0) throw invalidFieldObject(errors);
  return schema;
}
