import { badRequest } from '../errors.js';
import type { ExtensionSpec } from '../extensions/extension-request.js';
import { builder } from './builder.js';
import { FileRef } from './file.js';

export const AutoTaggingInput = builder.inputType('AutoTaggingInput', {
  fields: (t) => ({
    maxTags: t.int({ required: true, description: '0 to 30.' }),
    minConfidence: t.float({ required: true, description: '0 to 100.' }),
  }),
});

const RemoveBgOptionsInput = builder.inputType('RemoveBgOptionsInput', {
  description: 'remove.bg\'s options, named as ImageKit names them.',
  fields: (t) => ({
    add_shadow: t.boolean({ description: 'Default false.' }),
    semitransparency: t.boolean({ description: 'Default true.' }),
    bg_color: t.string({ description: 'Hex ("81d4fa", "fff") or a colour name; not with bg_image_url.' }),
    bg_colour: t.string({ description: 'Same as bg_color.' }),
    bg_image_url: t.string({ description: 'An http(s) image to put behind the subject; not with bg_color.' }),
  }),
});

const RemoveBgInput = builder.inputType('RemoveBgInput', {
  fields: (t) => ({ options: t.field({ type: RemoveBgOptionsInput }) }),
});

export const ExtensionInput = builder.inputType('ExtensionInput', {
  isOneOf: true,
  description:
    'One extension (exactly one field): ImageKit\'s `{"name": "google-auto-tagging", …}` is `{googleAutoTagging: {…}}`, `aws-auto-tagging` is `awsAutoTagging`, `remove-bg` is `removeBg`.',
  fields: (t) => ({
    googleAutoTagging: t.field({ type: AutoTaggingInput }),
    awsAutoTagging: t.field({ type: AutoTaggingInput }),
    removeBg: t.field({ type: RemoveBgInput }),
  }),
});

/**
 * The `@oneOf` inputs as the neutral extension objects the pipeline takes (ImageKit's `{name, …}`), or null when
 * the argument was not given.
 * @throws BAD_REQUEST (extensions) for an item naming no extension (GraphQL's `@oneOf` check normally refuses it first).
 */
export function extensionSpecsOf(inputs: readonly (typeof ExtensionInput.$inferInput)[] | null | undefined): ExtensionSpec[] | null {
  if (!inputs) return null;
  return inputs.map((input): ExtensionSpec => {
    if (input.googleAutoTagging) return { name: 'google-auto-tagging', ...input.googleAutoTagging };
    if (input.awsAutoTagging) return { name: 'aws-auto-tagging', ...input.awsAutoTagging };
    if (input.removeBg) return { name: 'remove-bg', options: input.removeBg.options };
    throw badRequest('extensions', 'Each extensions item must name exactly one extension: googleAutoTagging, awsAutoTagging or removeBg.');
  });
}

const ExtensionStateEnum = builder.enumType('ExtensionState', {
  values: { PENDING: { value: 'pending' }, SUCCESS: { value: 'success' }, FAILED: { value: 'failed' } } as const,
});

export const ExtensionStatusEntry = builder.objectRef<{ name: string; state: 'pending' | 'success' | 'failed' }>('ExtensionStatusEntry').implement({
  fields: (t) => ({
    name: t.exposeString('name', { description: 'e.g. "google-auto-tagging", "remove-bg".' }),
    state: t.field({ type: ExtensionStateEnum, resolve: (e) => e.state }),
  }),
});

export const toStatusEntries = (status: Record<string, 'pending' | 'success' | 'failed'> | null | undefined) =>
  Object.entries(status ?? {}).map(([name, state]) => ({ name, state }));

builder.objectFields(FileRef, (t) => ({
  extensionStatus: t.field({
    type: 'JSONObject',
    nullable: true,
    description: 'ImageKit\'s `extensionStatus`: `{"google-auto-tagging": "success", "remove-bg": "pending"}`; null when no extension was asked for.',
    resolve: (v) => v.version.extensionStatus ?? null,
  }),
}));
