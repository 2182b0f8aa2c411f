import type { CustomFieldSchema, CustomMetadataFieldRow } from '../db/schema.js';
import { builder } from './builder.js';

const FieldType = builder.enumType('CustomMetadataFieldType', {
  values: ['Text', 'Textarea', 'Number', 'Date', 'Boolean', 'SingleSelect', 'MultiSelect'] as const,
});

const FieldSchema = builder.objectRef<CustomFieldSchema>('CustomMetadataFieldSchema').implement({
  fields: (t) => ({
    type: t.field({ type: FieldType, resolve: (s) => s.type }),
    selectOptions: t.field({ type: ['JSON'], nullable: true, resolve: (s) => s.selectOptions ?? null }),
    defaultValue: t.field({ type: 'JSON', nullable: true, resolve: (s) => s.defaultValue ?? null }),
    isValueRequired: t.boolean({ resolve: (s) => s.isValueRequired ?? false }),
    minValue: t.field({ type: 'JSON', nullable: true, resolve: (s) => s.minValue ?? null }),
    maxValue: t.field({ type: 'JSON', nullable: true, resolve: (s) => s.maxValue ?? null }),
    minLength: t.int({ nullable: true, resolve: (s) => s.minLength ?? null }),
    maxLength: t.int({ nullable: true, resolve: (s) => s.maxLength ?? null }),
  }),
});

const Field = builder.objectRef<CustomMetadataFieldRow>('CustomMetadataField').implement({
  description: 'A typed custom metadata field; values on files are validated against its schema.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name', { description: 'Unique forever: a deleted field\'s name cannot be reused.' }),
    label: t.exposeString('label', { description: 'Unique among live fields.' }),
    schema: t.field({ type: FieldSchema, resolve: (f) => f.schema }),
    description: t.exposeString('description', { nullable: true }),
    isDeleted: t.exposeBoolean('isDeleted'),
  }),
});

const SchemaInput = builder.inputType('CustomMetadataFieldSchemaInput', {
  fields: (t) => ({
    type: t.field({ type: FieldType, description: 'Required on create; on update it may be repeated but not changed.' }),
    selectOptions: t.field({ type: ['JSON'], description: 'Strings, numbers or booleans; required for SingleSelect and MultiSelect.' }),
    defaultValue: t.field({ type: 'JSON', description: 'Required when isValueRequired; an array for MultiSelect.' }),
    isValueRequired: t.boolean(),
    minValue: t.field({ type: 'JSON', description: 'Number: a number; Date: an ISO date string.' }),
    maxValue: t.field({ type: 'JSON' }),
    minLength: t.int({ description: 'Text and Textarea only.' }),
    maxLength: t.int(),
  }),
});

builder.queryField('customMetadataFields', (t) =>
  t.field({
    type: [Field],
    args: { includeDeleted: t.arg.boolean({ defaultValue: false }) },
    resolve: (_r, args, ctx) => ctx.services.customFields.list(args.includeDeleted ?? false),
  }),
);

builder.mutationField('createCustomMetadataField', (t) =>
  t.field({
    type: Field,
    args: {
      name: t.arg.string({ required: true, description: 'Letters, digits, "_" and "-", starting with a letter.' }),
      label: t.arg.string({ required: true }),
      schema: t.arg({ type: SchemaInput, required: true }),
      description: t.arg.string(),
    },
    resolve: (_r, args, ctx) => ctx.services.customFields.create(args),
  }),
);

builder.mutationField('updateCustomMetadataField', (t) =>
  t.field({
    type: Field,
    description: 'Changes the label and/or the schema. The schema given replaces the old one, except its type, which cannot change.',
    args: {
      id: t.arg.id({ required: true }),
      label: t.arg.string(),
      schema: t.arg({ type: SchemaInput }),
      description: t.arg.string(),
    },
    resolve: (_r, args, ctx) => ctx.services.customFields.update(String(args.id), args),
  }),
);

builder.mutationField('deleteCustomMetadataField', (t) =>
  t.boolean({
    description: 'Deletes the field; values stay on files but are no longer validated or searchable, and the name stays taken.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_r, args, ctx) => {
      await ctx.services.customFields.delete(String(args.id));
      return true;
    },
  }),
);
