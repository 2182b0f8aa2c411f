import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../helpers/fixtures.js';
import { startTestApp, type TestApp, UPLOAD_MUTATION } from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const CREATE = `mutation($name: String!, $label: String!, $schema: CustomMetadataFieldSchemaInput!) {
  createCustomMetadataField(name: $name, label: $label, schema: $schema) { id name label isDeleted schema { type selectOptions defaultValue isValueRequired minValue maxValue minLength maxLength } }
}`;
const create = (name: string, label: string, schema: Record<string, unknown>) => t.gql(CREATE, { name, label, schema });
const errorOf = (r: { errors?: { message: string; extensions: Record<string, unknown> }[] }) => r.errors?.[0];

describe('custom metadata fields', () => {
  it('creates fields of every type and lists them', async () => {
    // One after the other: the listing is in creation order, and concurrent creations have none to keep.
    const made = [];
    for (const [name, label, schema] of [
      ['brand', 'Brand', { type: 'Text', minLength: 2, maxLength: 20 }],
      ['notes', 'Notes', { type: 'Textarea' }],
      ['price', 'Price', { type: 'Number', minValue: 0, maxValue: 1000, isValueRequired: true, defaultValue: 10 }],
      ['launch', 'Launch date', { type: 'Date', minValue: '2020-01-01', maxValue: '2030-12-31' }],
      ['onSale', 'On sale', { type: 'Boolean', defaultValue: false }],
      ['size', 'Size', { type: 'SingleSelect', selectOptions: ['S', 'M', 'L', 42] }],
      ['colours', 'Colours', { type: 'MultiSelect', selectOptions: ['red', 'green', 'blue'], defaultValue: ['red'] }],
    ] as const) {
      made.push(await create(name, label, schema));
    }
    for (const r of made) expect(r.errors).toBeUndefined();
    expect(made[2]?.data?.createCustomMetadataField.schema).toMatchObject({ type: 'Number', isValueRequired: true, defaultValue: 10, minValue: 0, maxValue: 1000 });
    const list = await t.gql('{ customMetadataFields { name } }');
    expect(list.data?.customMetadataFields.map((f: { name: string }) => f.name)).toEqual(['brand', 'notes', 'price', 'launch', 'onSale', 'size', 'colours']);
  });

  it('reports every schema problem at once', async () => {
    const r = await create('bad', 'Bad', { type: 'Number', minValue: 'ten', maxLength: 5, selectOptions: [1] });
    expect(errorOf(r)?.message).toMatch(/^Invalid field object/);
    expect(errorOf(r)?.extensions).toMatchObject({
      code: 'BAD_REQUEST',
      details: { errors: { minValue: 'should be of type number', maxLength: 'not allowed for this type', selectOptions: 'not allowed for this type' } },
    });
  });

  it.each([
    [{ type: 'SingleSelect' }, 'selectOptions'],
    [{ type: 'Text', isValueRequired: true }, 'defaultValue'],
    [{ type: 'SingleSelect', selectOptions: ['a'], defaultValue: 'b' }, 'defaultValue'],
    [{ type: 'MultiSelect', selectOptions: ['a'], defaultValue: 'a' }, 'defaultValue'],
    [{ type: 'Number', minValue: 5, maxValue: 1 }, 'maxValue'],
    [{ type: 'Number', minValue: 1, maxValue: 5, defaultValue: 6 }, 'defaultValue'],
    [{ type: 'Date', minValue: 'yesterday' }, 'minValue'],
    [{ type: 'Text', minLength: 3, defaultValue: 'ab' }, 'defaultValue'],
    [{ type: 'Boolean', defaultValue: 'yes' }, 'defaultValue'],
  ])('refuses %j, naming %s', async (schema, prop) => {
    const r = await create(`f${Math.random().toString(36).slice(2, 8)}`, `L${Math.random()}`, schema);
    expect(Object.keys((errorOf(r)?.extensions.details as { errors: object }).errors)).toContain(prop);
  });

  it('keeps names unique forever and labels unique among live fields', async () => {
    const first = await create('sku', 'SKU', { type: 'Text' });
    expect(errorOf(await create('sku', 'Other', { type: 'Text' }))?.message).toBe('A custom metadata field with this name already exists.');
    expect(errorOf(await create('sku2', 'SKU', { type: 'Text' }))?.message).toBe('A custom metadata field with this label already exists.');
    const id = first.data?.createCustomMetadataField.id;
    expect((await t.gql('mutation($id: ID!) { deleteCustomMetadataField(id: $id) }', { id })).data?.deleteCustomMetadataField).toBe(true);
    expect(errorOf(await create('sku', 'SKU', { type: 'Text' }))?.message).toBe('A custom metadata field with this name already exists.');
    expect((await create('sku3', 'SKU', { type: 'Text' })).errors).toBeUndefined();
    const withDeleted = await t.gql('{ customMetadataFields(includeDeleted: true) { name isDeleted } }');
    expect(withDeleted.data?.customMetadataFields).toContainEqual({ name: 'sku', isDeleted: true });
    const upd = await t.gql('mutation($id: ID!) { updateCustomMetadataField(id: $id, label: "Again") { id } }', { id });
    expect(errorOf(upd)?.message).toBe('Cannot update a deleted custom metadata fields.');
    const again = await t.gql('mutation($id: ID!) { deleteCustomMetadataField(id: $id) }', { id });
    expect(errorOf(again)).toMatchObject({ message: 'No such custom metadata field exists.', extensions: { code: 'NOT_FOUND' } });
  });

  it('updates label and schema but never the type', async () => {
    const made = await create('weight', 'Weight', { type: 'Number' });
    const id = made.data?.createCustomMetadataField.id;
    const UPDATE = 'mutation($id: ID!, $label: String, $schema: CustomMetadataFieldSchemaInput) { updateCustomMetadataField(id: $id, label: $label, schema: $schema) { label schema { type maxValue } } }';
    expect((await t.gql(UPDATE, { id, label: 'Weight (kg)', schema: { maxValue: 500 } })).data?.updateCustomMetadataField).toEqual({
      label: 'Weight (kg)',
      schema: { type: 'Number', maxValue: 500 },
    });
    expect(errorOf(await t.gql(UPDATE, { id, schema: { type: 'Text' } }))?.message).toMatch(/type of a custom metadata field cannot change/);
    expect(errorOf(await t.gql(UPDATE, { id }))?.message).toBe('Either label or schema should be provided.');
  });
});

describe('custom metadata on uploads', () => {
  const up = async (vars: Record<string, unknown>) =>
    t.upload(UPLOAD_MUTATION.replace('$description: String,', '$description: String, $customMetadata: JSONObject, $overwriteCustomMetadata: Boolean,').replace('description: $description,', 'description: $description, customMetadata: $customMetadata, overwriteCustomMetadata: $overwriteCustomMetadata,').replace('createdAt updatedAt', 'createdAt updatedAt customMetadata'), { file: null, fileName: 'product.jpg', useUniqueFileName: false, ...vars }, { path: 'variables.file', data: await makeJpeg(20, 20), filename: 'product.jpg' });

  it('validates values, applies defaults, and follows the overwrite rules', async () => {
    const first = await up({ customMetadata: { brand: 'Acme', launch: '2026-05-01', size: 42, colours: ['green', 'blue'] } });
    expect(first.errors).toBeUndefined();
    expect(first.data?.uploadFile.customMetadata).toEqual({ brand: 'Acme', launch: '2026-05-01', size: 42, colours: ['green', 'blue'], price: 10, onSale: false });

    const kept = await up({ overwriteCustomMetadata: false });
    expect(kept.data?.uploadFile.customMetadata).toMatchObject({ brand: 'Acme', size: 42 });
    const reset = await up({});
    expect(reset.data?.uploadFile.customMetadata).toEqual({ price: 10, onSale: false, colours: ['red'] });
    const replaced = await up({ customMetadata: { price: 99 }, overwriteCustomMetadata: false });
    expect(replaced.data?.uploadFile.customMetadata).toEqual({ price: 99, onSale: false, colours: ['red'] });
  });

  it.each([
    [{ nope: 1 }, 'nope', 'is not a custom metadata field'],
    [JSON.parse('{"__proto__": 1}'), '__proto__', 'is not a custom metadata field'],
    [{ brand: 5 }, 'brand', 'should be of type string'],
    [{ brand: 'A' }, 'brand', 'at least 2 characters'],
    [{ price: 5000 }, 'price', 'at most 1000'],
    [{ launch: '2019-12-31' }, 'launch', 'on or after 2020-01-01'],
    [{ launch: 'soon' }, 'launch', 'ISO-8601'],
    [{ onSale: 'yes' }, 'onSale', 'boolean'],
    [{ size: 'XL' }, 'size', 'should be one of'],
    [{ colours: ['pink'] }, 'colours', '"pink" is not one'],
  ])('refuses %j before storing anything', async (customMetadata, field, why) => {
    const r = await up({ fileName: 'refused.jpg', customMetadata });
    expect(errorOf(r)?.extensions).toMatchObject({ code: 'BAD_REQUEST', parameter: 'customMetadata' });
    expect((errorOf(r)?.extensions.details as { errors: Record<string, string> }).errors[field]).toContain(why);
    expect((await t.gql('{ files(first: 1000) { nodes { name } } }')).data?.files.nodes.map((f: { name: string }) => f.name)).not.toContain('refused.jpg');
  });
});
